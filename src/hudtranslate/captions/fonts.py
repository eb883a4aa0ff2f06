"""The bundled HUD fonts and their real metrics.

``hud``: WenQuanYi Micro Hei (assets/fonts/, Apache-2.0, see LICENSE-wqy-microhei.md)
draws every English and Chinese line: one ~5 MB file with Latin and all common Han
characters, so mixed Chinese/English lines never fall back to a font with other metrics.
``latin``: DejaVu Sans (Bitstream Vera licence, LICENSE-DejaVuSans.md) draws only the
pinyin line, because Micro Hei's third-tone vowels (ǎ ǐ ǒ ǔ ǚ) are blank glyphs.

Layout is Pillow's basic engine (FreeType, no Raqm/FriBiDi), so the same text gives the
same pixels on every machine with the same Pillow wheel.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from PIL import ImageFont

FontName = Literal["hud", "latin"]
FONT_FILES: dict[str, tuple[str, int]] = {
    "hud": ("wqy-microhei.ttc", 0),  # face 0: proportional "Micro Hei" (1 is "Mono")
    "latin": ("DejaVuSans.ttf", 0),
}


def font_path(name: FontName = "hud") -> Path:
    """Where a bundled font file is (inside the installed package)."""
    file_name = FONT_FILES[name][0]
    return Path(str(resources.files("hudtranslate") / "assets" / "fonts" / file_name))


@dataclass(frozen=True, eq=False)
class HudFont:
    """One size of the HUD font: advance widths and vertical metrics in whole pixels."""

    size_px: int
    name: FontName
    face: ImageFont.FreeTypeFont
    ascent_px: int
    descent_px: int

    def measure(self, text: str) -> float:
        """Advance width of ``text`` in pixels, as Pillow will draw it."""
        return float(self.face.getlength(text))

    @property
    def height_px(self) -> int:
        return self.ascent_px + self.descent_px


@functools.lru_cache(maxsize=32)
def load_font(size_px: int, name: FontName = "hud") -> HudFont:
    """A bundled font at ``size_px`` (cached: fonts are immutable and costly to open)."""
    if not 6 <= size_px <= 400:
        raise ValueError(f"font size must be between 6 and 400 px, got {size_px}")
    index = FONT_FILES[name][1]
    face = ImageFont.truetype(
        str(font_path(name)), size_px, index=index, layout_engine=ImageFont.Layout.BASIC
    )
    ascent, descent = face.getmetrics()
    return HudFont(size_px, name, face, int(ascent), int(descent))


def single_face(data: bytes, index: int = 0) -> bytes:
    """Face ``index`` of a TrueType collection (``.ttc``) as a standalone ``.ttf``; a
    single font is returned as it is. Raises ValueError for anything else.

    Browsers load no collections as web fonts, and the HUD font is one. The tables are
    copied unchanged (the OpenType spec, "Font Collections": a collection's faces point
    into one file); only the table offsets are rewritten.
    """
    if data[:4] != b"ttcf":
        if data[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO"):
            return data
        raise ValueError("not a TrueType font or collection")
    (count,) = struct.unpack_from(">I", data, 8)
    if not 0 <= index < count:
        raise ValueError(f"the collection has {count} faces, not face {index}")
    (start,) = struct.unpack_from(">I", data, 12 + 4 * index)
    (tables,) = struct.unpack_from(">H", data, start + 4)
    records = [struct.unpack_from(">4sIII", data, start + 12 + 16 * k) for k in range(tables)]
    header = bytearray(data[start : start + 12])
    body = bytearray()
    offset = 12 + 16 * tables
    directory = bytearray()
    for tag, checksum, table_offset, length in records:
        directory += struct.pack(">4sIII", tag, checksum, offset + len(body), length)
        body += data[table_offset : table_offset + length]
        body += b"\0" * (-len(body) % 4)  # tables start on 4-byte boundaries
    return bytes(header + directory + body)


@functools.lru_cache(maxsize=2)
def web_font(name: FontName = "hud") -> bytes:
    """A bundled font as a browser can load it (``single_face`` of its face), read once."""
    return single_face(font_path(name).read_bytes(), FONT_FILES[name][1])
