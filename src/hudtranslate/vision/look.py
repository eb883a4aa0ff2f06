"""One photo, start to finish: scale → OCR → blocks in reading order → barcodes →
English block by block → a product line. ``Looker`` holds the loaded parts and is shared.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from PIL import Image

from hudtranslate.config import VisionOptions
from hudtranslate.vision.barcodes import read_barcodes
from hudtranslate.vision.ocr import OcrEngine, TextLine
from hudtranslate.vision.orientation import read_upright
from hudtranslate.vision.reading import TextBlock, group_blocks
from hudtranslate.vision.scene import Barcode, Box, SceneBlock, SceneText
from hudtranslate.vision.translate import SceneTranslator

log = logging.getLogger(__name__)

BlockCallback = Callable[[int, SceneBlock], None]
"""Called as each block's English is ready: its index in reading order and the block."""

_PRICE = re.compile(r"(?:[¥￥]\s*\d+(?:\.\d+)?|\d+(?:\.\d+)?\s*元)")
_NAME_FIELD = re.compile(r"^(?:品名|名称|名稱|产品名称|商品名称)\s*[:：]")


def _inside(line: TextLine, code: Barcode) -> bool:
    """Is ``line`` the digits printed in or just under a barcode (already read exactly)?"""
    box = code.box
    height = box.bottom - box.top
    return (box.left - 5 <= line.left and line.right <= box.right + 5
            and box.top - 5 <= line.top and line.bottom <= box.bottom + height + 5
            and not re.search(r"[^\d\s]", line.text))


def product_line(blocks: list[SceneBlock], barcodes: list[Barcode]) -> str:
    """A one-line identity of a labelled product: its name (a 品名 field's English, else
    the first translated block), its price, and its barcode with the GS1 issuer — and
    nothing invented: with no barcode and no name field, "" (no product)."""
    named = next((block for block in blocks if _NAME_FIELD.match(block.chinese)), None)
    retail = [code for code in barcodes if code.issuer]
    if named is None and not retail:
        return ""
    name_block = named or next((block for block in blocks if block.model), None)
    parts = []
    if name_block is not None:
        name = name_block.english
        parts.append(name.split(":", 1)[1].strip() if named is not None and ":" in name
                     else name)
    price = next((match.group(0) for block in blocks
                  for match in [_PRICE.search(block.chinese)] if match), "")
    if price:
        parts.append(price.replace("￥", "¥"))
    for code in retail:
        parts.append(f"barcode {code.text} (number issued by {code.issuer}; maker unknown)")
    return " · ".join(parts)


class Looker:
    """Reads and translates photos with a shared OCR engine and scene translator."""

    def __init__(self, ocr: OcrEngine, translator: SceneTranslator,
                 options: VisionOptions | None = None) -> None:
        self.ocr = ocr
        self.translator = translator
        self.options = options or VisionOptions()

    def look(self, image: Image.Image, source: str = "", *,
             on_block: BlockCallback | None = None,
             cancelled: Callable[[], bool] = lambda: False,
             turn_when_empty: bool = True) -> SceneText:
        """Read ``image`` (RGB, EXIF rotation applied: ``images.load_image``) and translate
        it; a photo whose text lies sideways or upside down is read turned
        (``orientation.read_upright``; a photo without text only if ``turn_when_empty``),
        and the result's size and boxes are the turned photo's."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        reading = read_upright(self.ocr, image, self.options.ocr_long_side_px,
                               try_turns=self.options.turn_sideways,
                               turn_when_empty=turn_when_empty)
        image, scaled, factor, lines = reading.image, reading.scaled, reading.factor, reading.lines
        timings["ocr"] = time.perf_counter() - started
        mark = time.perf_counter()
        barcodes = read_barcodes(scaled if factor < 1.0 else image)
        if factor < 1.0:
            barcodes = [Barcode(code.format, code.text, _unscale(code.box, factor), code.issuer)
                        for code in barcodes]
        timings["barcodes"] = time.perf_counter() - mark
        lines = [line for line in lines if not any(_inside(line, code) for code in barcodes)]
        text_blocks = group_blocks(lines)
        done: list[SceneBlock | None] = [None] * len(text_blocks)

        def finished(index: int, english: str, model: str) -> None:
            block = _scene_block(text_blocks[index], english, model)
            done[index] = block
            if model and "first_english" not in timings:
                timings["first_english"] = time.perf_counter() - started
            if on_block is not None:
                on_block(index, block)

        self.translator.translate_blocks([block.text for block in text_blocks],
                                         on_block=finished, cancelled=cancelled)
        blocks = [block for block in done if block is not None]
        barcodes = [self._translated_code(code) for code in barcodes]
        timings["total"] = time.perf_counter() - started
        timings.setdefault("first_english", timings["total"])
        return SceneText(source, image.width, image.height, tuple(blocks), tuple(barcodes),
                         product_line(blocks, barcodes), timings, reading.turned_deg)

    def _translated_code(self, code: Barcode) -> Barcode:
        english, _ = self.translator.translate_one(code.text, [])
        if english == code.text:
            return code
        return Barcode(code.format, code.text, code.box, code.issuer, english)


def _unscale(box: Box, factor: float) -> Box:
    return Box(box.left / factor, box.top / factor, box.right / factor, box.bottom / factor)


def _scene_block(block: TextBlock, english: str, model: str) -> SceneBlock:
    return SceneBlock(block.text, english, Box(block.left, block.top, block.right, block.bottom),
                      block.confidence, model, block.vertical)
