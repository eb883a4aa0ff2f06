"""What one photo says: its blocks of text in reading order, in Chinese and English, and
any barcodes, with the seconds each step took. JSON-ready (``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in pixels of the upright photo."""

    left: float
    top: float
    right: float
    bottom: float

    def to_list(self) -> list[int]:
        return [round(self.left), round(self.top), round(self.right), round(self.bottom)]


@dataclass(frozen=True, slots=True)
class SceneBlock:
    """One block of text: ``chinese`` as printed (Traditional kept), its ``english``
    (equal to ``chinese`` for text that needs no translation: English, numbers, codes),
    the OCR's weakest line score, and the model that translated it ("" if none did)."""

    chinese: str
    english: str
    box: Box
    confidence: float
    model: str = ""
    vertical: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"zh": self.chinese, "en": self.english, "box": self.box.to_list(),
                "confidence": round(self.confidence, 3), "model": self.model,
                "vertical": self.vertical}


@dataclass(frozen=True, slots=True)
class Barcode:
    """A barcode or QR code: its format (``EAN13``, ``QRCode``…), the text it holds, the
    GS1 organisation that issued the number's prefix (EAN/UPC only, "" if none), the
    English of a QR code's Chinese text ("" if none), and where it is."""

    format: str
    text: str
    box: Box
    issuer: str = ""
    english: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"format": self.format, "text": self.text, "box": self.box.to_list(),
                "issuer": self.issuer, "en": self.english}


@dataclass(frozen=True, slots=True)
class SceneText:
    """Everything read from one photo. ``timings_s``: ``ocr``, ``barcodes``,
    ``first_english`` (from the start to the first translated block), ``total``.
    ``turned_deg``: the photo was read turned this many degrees counter-clockwise (its text
    lay sideways or upside down); size and boxes are the turned photo's."""

    source: str
    width_px: int
    height_px: int
    blocks: tuple[SceneBlock, ...]
    barcodes: tuple[Barcode, ...] = ()
    product: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)
    turned_deg: int = 0

    @property
    def english_lines(self) -> list[str]:
        return [block.english for block in self.blocks]

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "width": self.width_px, "height": self.height_px,
            "blocks": [block.to_dict() for block in self.blocks],
            "barcodes": [code.to_dict() for code in self.barcodes],
            "product": self.product, "turned": self.turned_deg,
            "timings_s": {name: round(value, 3) for name, value in self.timings_s.items()},
        }
