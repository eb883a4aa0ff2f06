"""The bundled HUD font and its real metrics.

One font for every display: WenQuanYi Micro Hei (assets/fonts/, Apache-2.0, see its
LICENSE.md) covers Latin, pinyin tone marks and all common Han characters, so mixed
Chinese/English lines never fall back to a second font with other metrics. Layout is
Pillow's basic engine (FreeType, no Raqm/FriBiDi), so the same text gives the same pixels on
every machine with the same Pillow wheel.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import ImageFont

FONT_FILE = "wqy-microhei.ttc"
FONT_INDEX = 0
"""Face 0 of the collection is the proportional "Micro Hei" (1 is "Micro Hei Mono")."""


def font_path() -> Path:
    """Where the bundled font file is (inside the installed package)."""
    return Path(str(resources.files("hudtranslate") / "assets" / "fonts" / FONT_FILE))


@dataclass(frozen=True, eq=False)
class HudFont:
    """One size of the HUD font: advance widths and vertical metrics in whole pixels."""

    size_px: int
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
def load_font(size_px: int) -> HudFont:
    """The bundled font at ``size_px`` (cached: fonts are immutable and costly to open)."""
    if not 6 <= size_px <= 400:
        raise ValueError(f"font size must be between 6 and 400 px, got {size_px}")
    face = ImageFont.truetype(
        str(font_path()), size_px, index=FONT_INDEX, layout_engine=ImageFont.Layout.BASIC
    )
    ascent, descent = face.getmetrics()
    return HudFont(size_px, face, int(ascent), int(descent))
