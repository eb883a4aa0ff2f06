"""Optical character recognition with RapidOCR (PP-OCRv6 small, on onnxruntime).

The detector, recogniser and orientation classifier ship inside the ``rapidocr`` 3.10
wheel; they are named by path so RapidOCR never reaches for its download code (any other
model setting downloads at run time, which fails offline). One engine is shared by all
sessions; calls are serialised by a lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hudtranslate.errors import DependencyError, ModelError

log = logging.getLogger(__name__)

BUNDLED_MODELS = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
"""The model files inside the rapidocr wheel (``rapidocr/models/``), by pipeline step."""

Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]
"""Four corners in pixels of the original photo: top-left, top-right, bottom-right,
bottom-left as read along the text."""


@dataclass(frozen=True, slots=True)
class CharBox:
    """One character of a line and its box (pixels of the original photo)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float

    @property
    def center_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text the OCR found: its corners, its text, the recogniser's score (0–1)
    and, when the OCR gives them, each character's box (to find vertical columns the
    detector read across, see ``reading.py``)."""

    quad: Quad
    text: str
    confidence: float
    chars: tuple[CharBox, ...] = ()

    @property
    def left(self) -> float:
        return min(x for x, _ in self.quad)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.quad)

    @property
    def top(self) -> float:
        return min(y for _, y in self.quad)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.quad)

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def vertical(self) -> bool:
        """Text set in a column: the box is much taller than wide and holds several
        characters (a single character is square either way)."""
        return len(self.text) >= 2 and self.height > 1.5 * self.width


def bundled_model_dir() -> Path:
    """Where the rapidocr wheel keeps its models; ``DependencyError`` if not installed."""
    try:
        import rapidocr
    except ImportError as exc:
        raise DependencyError(f"rapidocr is not installed ({exc}): pip install "
                              "'rapidocr==3.10.0' onnxruntime") from None
    return Path(rapidocr.__file__).parent / "models"


class OcrEngine:
    """RapidOCR loaded once with the bundled models and ``threads`` onnxruntime threads."""

    def __init__(self, *, threads: int = 2, min_confidence: float = 0.5) -> None:
        model_dir = bundled_model_dir()
        params: dict[str, Any] = {
            "Global.log_level": "warning",
            "Global.text_score": 0.0,  # filtered in ``read_regions``, counting what was found
            "Global.model_root_dir": str(model_dir),
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            # measured on shared/data/images (23 photos, 2 threads): detection on the long
            # side up to 1280 px without the 180° line classifier: median 0.32 s, character
            # recall 0.972, against 0.52 s and 0.968 with RapidOCR's defaults (every photo
            # scaled up until its short side is 736 px, each line classified)
            "Global.use_cls": False,
            "Det.limit_type": "max",
            "Det.limit_side_len": 1280,
        }
        for step, filename in BUNDLED_MODELS.items():
            path = model_dir / filename
            if not path.is_file():
                raise ModelError(f"the OCR model {path} is missing: reinstall rapidocr==3.10.0")
            params[f"{step}.model_path"] = str(path)
        from rapidocr import RapidOCR

        self._engine: Any = RapidOCR(params=params)
        # its "text detection result is empty" is a warning there, an answer here
        # (``look`` says no text was found); its errors still show
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self.lock = threading.Lock()
        self.threads = threads
        self.min_confidence = min_confidence

    def read(self, image: Image.Image, scale: float = 1.0) -> list[TextLine]:
        """The text lines in ``image`` (RGB) recognised with a score of at least
        ``min_confidence``, with corners divided by ``scale`` so they refer to the
        original photo when ``image`` was scaled by it."""
        return self.read_regions(image, scale)[0]

    def read_regions(self, image: Image.Image,
                     scale: float = 1.0) -> tuple[list[TextLine], int]:
        """``read``, and how many text regions the detector found, whatever their
        recognition scored: none means no text to read however the photo is turned
        (``orientation.read_upright``), while regions read with low scores may be text
        lying sideways."""
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        with self.lock:
            result = self._engine(pixels, return_word_box=True, return_single_char_box=True)
        boxes = getattr(result, "boxes", None)
        if boxes is None:
            return [], 0
        char_lists = getattr(result, "word_results", None) or ()
        if len(char_lists) != len(boxes):
            char_lists = [()] * len(boxes)
        lines = []
        for box, text, score, chars in zip(boxes, result.txts, result.scores, char_lists,
                                           strict=True):
            corners = [(float(x) / scale, float(y) / scale) for x, y in box]
            quad: Quad = (corners[0], corners[1], corners[2], corners[3])
            if text.strip() and score >= self.min_confidence:
                lines.append(TextLine(quad, text.strip(), float(score),
                                      _char_boxes(chars, scale)))
        return lines, len(boxes)


def _char_boxes(chars: Any, scale: float) -> tuple[CharBox, ...]:
    """RapidOCR's per-character results ``(text, score, corners)`` as ``CharBox``es."""
    found = []
    for item in chars or ():
        try:
            text, corners = str(item[0]), item[2]
            xs = [float(point[0]) / scale for point in corners]
            ys = [float(point[1]) / scale for point in corners]
        except (IndexError, TypeError, ValueError):
            return ()
        if text.strip():
            found.append(CharBox(text, min(xs), min(ys), max(xs), max(ys)))
    return tuple(found)
