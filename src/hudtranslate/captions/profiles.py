"""Display profiles: the pixel size, colour depth, font and text area of each glasses HUD.

Built in: ``rokid`` (default; 480×640 portrait, monochrome green: black is transparent,
white shows green), ``even-g1`` (576×136, 1-bit green, about 40 characters × 5 lines) and
``meta-display`` (600×600 colour). Any other display is a built-in one with fields
overridden from the ``[display]`` settings (see ``DisplayOptions``).

Text sits in fixed slots anchored at the bottom margin: ``lines`` English slots, then one
slot for the Chinese line and one for pinyin when they are shown. Colours are per span
style; ``green`` and ``1bit`` displays use the green channel as the brightness level, and
``1bit`` ones dither levels below full brightness (the tentative tail) to a checkerboard.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from hudtranslate.config import DisplayOptions
from hudtranslate.errors import ConfigError

ColorMode = Literal["1bit", "green", "rgb"]
RGB = tuple[int, int, int]
PINYIN_SCALE = 0.7
"""Pinyin is drawn this much smaller than the Chinese it annotates."""


@dataclass(frozen=True)
class DisplayProfile:
    """One display: everything the HUD layout and the frame renderer need to know."""

    name: str
    width_px: int
    height_px: int
    color: ColorMode
    font_size_px: int
    line_height_px: int
    margin_x_px: int
    margin_y_px: int
    lines: int
    max_chars_per_line: int = 42
    committed_rgb: RGB = (0, 255, 0)
    tentative_rgb: RGB = (0, 128, 0)
    source_rgb: RGB = (0, 200, 0)
    pinyin_rgb: RGB = (0, 170, 0)
    description: str = ""

    def __post_init__(self) -> None:
        if self.color not in ("1bit", "green", "rgb"):
            raise ConfigError(f"display colour must be 1bit, green or rgb, got {self.color!r}")
        if self.width_px < 32 or self.height_px < 32:
            raise ConfigError(f"display {self.name} is too small: {self.width_px}×{self.height_px}")
        if self.text_width_px < self.font_size_px * 2:
            raise ConfigError(f"display {self.name}: margins leave no room for text")
        if self.line_height_px < self.font_size_px:
            raise ConfigError(f"display {self.name}: line height {self.line_height_px} px is "
                              f"smaller than the font ({self.font_size_px} px)")
        if self.lines < 1:
            raise ConfigError(f"display {self.name} needs at least one line")

    @property
    def text_width_px(self) -> int:
        return self.width_px - 2 * self.margin_x_px

    @property
    def pinyin_size_px(self) -> int:
        return max(8, round(self.font_size_px * PINYIN_SCALE))

    def slots_height_px(self, source: bool, pinyin: bool) -> int:
        """Height of the text block: English slots, then the Chinese and pinyin slots."""
        height = self.lines * self.line_height_px
        if source:
            height += self.line_height_px
            if pinyin:
                height += round(self.line_height_px * PINYIN_SCALE)
        return height

    def fits(self, source: bool, pinyin: bool) -> bool:
        return self.slots_height_px(source, pinyin) + 2 * self.margin_y_px <= self.height_px

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready fields (the web protocol sends these)."""
        return dataclasses.asdict(self)


ROKID = DisplayProfile(
    name="rokid", width_px=480, height_px=640, color="green", font_size_px=28,
    line_height_px=36, margin_x_px=24, margin_y_px=48, lines=3,
    description="Rokid glasses: 480×640 portrait, monochrome green (black is transparent)",
)
EVEN_G1 = DisplayProfile(
    name="even-g1", width_px=576, height_px=136, color="1bit", font_size_px=21,
    line_height_px=26, margin_x_px=8, margin_y_px=3, lines=4, max_chars_per_line=40,
    tentative_rgb=(0, 128, 0), source_rgb=(0, 255, 0), pinyin_rgb=(0, 255, 0),
    description="Even Realities G1: 576×136, 1-bit green, about 40 characters × 5 lines",
)
META_DISPLAY = DisplayProfile(
    name="meta-display", width_px=600, height_px=600, color="rgb", font_size_px=30,
    line_height_px=39, margin_x_px=36, margin_y_px=40, lines=3,
    committed_rgb=(255, 255, 255), tentative_rgb=(150, 150, 150),
    source_rgb=(255, 214, 102), pinyin_rgb=(200, 170, 90),
    description="Meta Ray-Ban Display: 600×600 colour, one eye",
)
PROFILES: dict[str, DisplayProfile] = {p.name: p for p in (ROKID, EVEN_G1, META_DISPLAY)}
DEFAULT_PROFILE = ROKID.name


def get_profile(name: str) -> DisplayProfile:
    """A built-in profile by name; the error lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ConfigError(f"display.profile: unknown display profile {name!r} (known: "
                          f"{known})") from None


def profile_from_options(options: DisplayOptions) -> DisplayProfile:
    """The profile ``options.profile`` with every set field of ``options`` applied.

    Overriding anything renames the profile ``custom`` (frames then say so); a larger
    font without a line height gets 1.3× the font size.
    """
    base = get_profile(options.profile)
    changes: dict[str, object] = {}
    for name in ("width_px", "height_px", "font_size_px", "line_height_px", "lines"):
        value = getattr(options, name)
        if value:
            changes[name] = value
    for name in ("margin_x_px", "margin_y_px"):
        value = getattr(options, name)
        if value >= 0:
            changes[name] = value
    if options.color:
        changes["color"] = options.color
    if "font_size_px" in changes and "line_height_px" not in changes:
        changes["line_height_px"] = max(options.font_size_px + 1,
                                        round(options.font_size_px * 1.3))
    changes = {key: value for key, value in changes.items() if getattr(base, key) != value}
    if not changes:
        return base
    try:
        return dataclasses.replace(base, name="custom", description=f"custom (from {base.name})",
                                   **changes)  # type: ignore[arg-type]
    except ConfigError as exc:  # name the profile the user started from, not "custom"
        raise ConfigError(str(exc).replace(
            "display custom", f"display {base.name} with your [display] settings", 1)) from None
