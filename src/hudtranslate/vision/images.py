"""Loading photos: format and size checks, EXIF orientation, scaling for OCR.

Pillow decodes JPEG/PNG/WebP/AVIF; HEIC/HEIF (what iPhones save) through the ``pi-heif``
plugin (libheif with libde265, decoding only). A photo's pixel count is checked from its
header before it is decoded, so a 100-MP image (or a decompression bomb) is refused
without using memory.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hudtranslate.errors import ImageError, one_line

log = logging.getLogger(__name__)

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO", "HEIF",
                               "AVIF"})
"""Formats accepted (MPO: the JPEG variant some phone cameras write; GIF: its first
frame, shop pictures are often GIFs named .jpg; HEIF: iPhone photos, .heic)."""


@lru_cache(maxsize=1)
def heif_support() -> bool:
    """Register ``pi-heif``'s HEIC/HEIF opener with Pillow once; False (logged) when the
    package is missing, and HEIC photos are then refused as an unknown format."""
    try:
        from pi_heif import register_heif_opener
    except ImportError as exc:
        log.warning("HEIC photos cannot be read: %s (pip install pi-heif)", exc)
        return False
    register_heif_opener()
    return True


def check_image(path: Path, *, max_megapixels: float = 50.0) -> None:
    """Raise ``ImageError`` as ``load_image`` would for what the file's header shows (no
    such file, not an image, an unsupported format, too many pixels), without decoding
    it: ``look`` checks every photo before it loads the models."""
    load_image(path, max_megapixels=max_megapixels, decode=False)


def load_image(source: Path | bytes, *, max_megapixels: float = 50.0,
               name: str = "", decode: bool = True) -> Image.Image:
    """Decode ``source`` (a path or the file's bytes) to an upright RGB image.

    EXIF orientation is applied (phones store portrait shots sideways with a rotation tag).
    Raises ``ImageError`` naming the file for a missing or empty file, a file that is not a
    supported image, a truncated one, or one over ``max_megapixels`` (checked before
    decoding).
    """
    label = name or (str(source) if isinstance(source, Path) else "uploaded image")
    heif_support()
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    except FileNotFoundError:
        raise ImageError(f"{label}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot open: {one_line(exc)}") from None
    with handle:
        if not handle.read(1):  # a failed download or copy: not a format problem
            raise ImageError(f"{label}: empty (0 bytes)")
        handle.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(handle)
                if image.format not in SUPPORTED_FORMATS:
                    raise ImageError(f"{label}: {image.format or 'unknown'} images are not "
                                     "supported (use JPEG, PNG, WebP, HEIC or AVIF)")
                megapixels = image.width * image.height / 1e6
                if megapixels > max_megapixels:
                    raise ImageError(_over_limit(f"{label}: {image.width}×{image.height} is",
                                                 megapixels, max_megapixels))
                if not decode:
                    return image
                image.load()
                _warn_if_animated(image, label)
                upright = ImageOps.exif_transpose(image)
        except UnidentifiedImageError:
            raise ImageError(f"{label}: not an image (or an unsupported format)") from None
        except Image.DecompressionBombError as exc:
            raise ImageError(_too_large(label, exc, max_megapixels)) from None
        except (OSError, SyntaxError, ValueError) as exc:
            # one_line: some decoders' messages span lines
            raise ImageError(f"{label}: damaged or truncated image: {one_line(exc)}") from None
    return _flattened(upright)


_ANIMATED_FORMATS = frozenset({"GIF", "PNG", "WEBP"})
"""Formats whose extra frames are an animation; an MPO's second frame is a phone camera's
depth map or preview, no more text to read."""


def _warn_if_animated(image: Image.Image, label: str) -> None:
    """Say that only the first frame of an animation is read: text that comes in a later
    frame was missed with nothing but "no text found" to show for it."""
    frames = int(getattr(image, "n_frames", 1))
    if image.format in _ANIMATED_FORMATS and frames > 1:
        log.warning("%s: an animation of %d frames: only the first is read", label, frames)


def _flattened(image: Image.Image) -> Image.Image:
    """``image`` in RGB. A transparent one (a sticker, a logo, a screenshot saved with
    transparency) is laid on white, or on black when what it shows is light: dropping
    the alpha channel leaves the colour of its transparent pixels, often the same as
    the print's, and no text was read from black print on a transparent PNG."""
    if image.mode not in ("RGBA", "LA", "PA", "RGBa", "La") and "transparency" not in image.info:
        return image.convert("RGB")
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    lowest, _ = rgba.getchannel("A").getextrema()
    if lowest == 255:
        return rgba.convert("RGB")
    small = rgba.copy()
    small.thumbnail((256, 256))  # enough to tell light print from dark
    pixels = np.asarray(small, dtype=np.float32)
    alpha = pixels[..., 3] / 255.0
    shown = float(alpha.sum())
    light = shown > 0 and float((pixels[..., :3].mean(axis=2) * alpha).sum()) / shown > 127.5
    background = Image.new("RGBA", rgba.size, (0, 0, 0, 255) if light else (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _too_large(label: str, exc: Image.DecompressionBombError, max_megapixels: float) -> str:
    """The line for a photo Pillow refused as it opened it (over twice its
    ``MAX_IMAGE_PIXELS``, ~358 MP), before our own check saw its size: said as that check
    says it, naming the setting, rather than as Pillow's "could be decompression bomb DOS
    attack" with a limit in pixels that is not the user's."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    if found is None:
        return f"{label}: refused as too large: {one_line(exc)}"
    megapixels = int(found.group(1)) / 1e6
    if megapixels > max_megapixels:
        return _over_limit(f"{label}:", megapixels, max_megapixels)
    ceiling = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
    return f"{label}: {megapixels:.0f} MP, over the {ceiling:.0f} MP Pillow can open"


def _over_limit(what: str, megapixels: float, max_megapixels: float) -> str:
    """``what``, then the size over the user's limit, naming the setting that raises it."""
    return (f"{what} {megapixels:.0f} MP, over the {max_megapixels:g}-MP limit "
            "(vision.max_megapixels)")


def scale_for_ocr(image: Image.Image, long_side_px: int) -> tuple[Image.Image, float]:
    """``image`` scaled so its long side is at most ``long_side_px``, and the factor
    (scaled / original; 1.0 when already small enough). Text stays legible at 1600 px
    for a phone photo of a menu; OCR time and memory grow with the pixel count."""
    long_side = max(image.size)
    if long_side <= long_side_px:
        return image, 1.0
    factor = long_side_px / long_side
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS), factor
