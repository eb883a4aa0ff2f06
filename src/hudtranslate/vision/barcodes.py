"""Barcodes and QR codes: zxing-cpp first, OpenCV's EAN/UPC reader as a second try, and
the GS1 organisation that issued an EAN/UPC number's prefix (``gs1-prefix``).

A GS1 prefix tells where the number was *issued* (695 → GS1 China), not where the
product was made, and no offline database maps numbers to product names: the card says
only what the code itself says.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PIL import Image

from hudtranslate.vision.scene import Barcode, Box

log = logging.getLogger(__name__)

_UPSCALE_BELOW_PX = 1600
"""Photos whose long side is under this are read again at twice the size when nothing was
found: zxing needed a 2× upscale on a real hang tag (MODELS.md)."""
_MIN_LINEAR_ASPECT = 0.08
"""A linear code detected as a sliver (height under this share of its width) is a false
read: one showed up on a photo with no barcode in it (MODELS.md)."""
_RETAIL = ("EAN", "UPC", "ISBN")


def gs1_issuer(digits: str) -> str:
    """``"GS1 China"`` for ``6959555702539``; "" for a number with a bad check digit or a
    prefix no organisation holds."""
    try:
        import gs1_prefix
    except ImportError:  # pragma: no cover - dependency is declared
        return ""
    found = gs1_prefix.lookup(digits)
    if found.range is None or found.check_digit_valid is False:
        return ""
    return str(found.range.issuing_organisation)


def _box(position: Any, scale: float) -> Box:
    points = [position.top_left, position.top_right, position.bottom_right,
              position.bottom_left]
    xs = [point.x / scale for point in points]
    ys = [point.y / scale for point in points]
    return Box(min(xs), min(ys), max(xs), max(ys))


def _zxing(image: Image.Image, scale: float) -> list[Barcode]:
    import zxingcpp

    found = []
    for code in zxingcpp.read_barcodes(image):
        if not code.valid or not code.text:
            continue
        box = _box(code.position, scale)
        name = code.format.name if hasattr(code.format, "name") else str(code.format)
        linear = any(kind in name.upper() for kind in (*_RETAIL, "CODE", "ITF", "CODABAR"))
        width = max(box.right - box.left, 1.0)
        if linear and (box.bottom - box.top) < _MIN_LINEAR_ASPECT * width:
            log.debug("dropped a flat %s detection %s", name, code.text)
            continue
        found.append(Barcode(_format_name(name), code.text, box))
    return found


def _format_name(name: str) -> str:
    return name.replace("-", "").replace("_", "")


def _opencv(image: Image.Image) -> list[Barcode]:
    try:
        import cv2
    except ImportError:  # pragma: no cover - comes with rapidocr
        return []
    detector = cv2.barcode.BarcodeDetector()
    pixels = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    ok, texts, kinds, corners = detector.detectAndDecodeWithType(pixels)
    if not ok:
        return []
    found = []
    for text, kind, quad in zip(texts, kinds, corners, strict=False):
        if not text:
            continue
        xs, ys = quad[:, 0], quad[:, 1]
        box = Box(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        found.append(Barcode(_format_name(str(kind)), str(text), box))
    return found


def read_barcodes(image: Image.Image) -> list[Barcode]:
    """Every barcode and QR code in ``image`` (RGB), each EAN/UPC with its GS1 issuer."""
    found = _zxing(image, 1.0)
    if not found and max(image.size) < _UPSCALE_BELOW_PX:
        bigger = image.resize((image.width * 2, image.height * 2), Image.Resampling.LANCZOS)
        found = _zxing(bigger, 2.0)
    if not found:
        found = _opencv(image)
    unique: dict[str, Barcode] = {}
    for code in found:
        if code.format.upper().startswith(_RETAIL):
            code = Barcode(code.format, code.text, code.box, issuer=gs1_issuer(code.text))
        unique.setdefault(code.text, code)
    return list(unique.values())
