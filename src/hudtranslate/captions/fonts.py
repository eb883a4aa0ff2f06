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
