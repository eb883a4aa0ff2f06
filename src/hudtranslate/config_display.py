"""Settings of what the wearer reads: the terminal captions (``[captions]``) and the
glasses' HUD (``[display]``). Kept apart from ``config`` for size; ``config.Settings``
holds them and ``hudtranslate.config`` re-exports both classes."""

from __future__ import annotations

from dataclasses import dataclass

from hudtranslate.errors import ConfigError, check_range

__all__ = ["CaptionOptions", "DisplayOptions"]


@dataclass(frozen=True)
class CaptionOptions:
    """Terminal caption layout (the glasses' text rules)."""

    max_chars_per_line: int = 42
    max_lines: int = 3
    show_source: bool = True

    def __post_init__(self) -> None:
        check_range("captions.max_chars_per_line", self.max_chars_per_line, 10, 200)
        check_range("captions.max_lines", self.max_lines, 1, 20)


@dataclass(frozen=True)
class DisplayOptions:
    """The glasses' HUD: a built-in profile (rokid, even-g1, meta-display), field by field
    overridable for other hardware. ``0`` / ``""`` / ``-1`` (margins) keep the profile's value.

    ``color`` is ``1bit`` (on/off pixels), ``green`` (256 levels of green) or ``rgb``.
    Pacing: a line stays up until read at ``reading_chars_per_s`` (and at least
    ``min_line_s``); the HUD clears ``clear_after_s`` after the last change (0: never);
    committed lines scroll up over ``scroll_ms``.
    """

    profile: str = "rokid"
    width_px: int = 0
    height_px: int = 0
    color: str = ""
    font_size_px: int = 0
    line_height_px: int = 0
    margin_x_px: int = -1
    margin_y_px: int = -1
    lines: int = 0
    pinyin: bool = False
    reading_chars_per_s: float = 17.0
    min_line_s: float = 0.8
    clear_after_s: float = 7.0
    scroll_ms: int = 240

    def __post_init__(self) -> None:
        from hudtranslate.captions.profiles import get_profile  # it imports DisplayOptions

        get_profile(self.profile)  # here, so the error names the variable or file that set it
        if self.color not in {"", "1bit", "green", "rgb"}:
            raise ConfigError(f"display.color must be 1bit, green or rgb, got {self.color!r}")
        for name in ("width_px", "height_px"):
            value = getattr(self, name)
            if value:
                check_range(f"display.{name}", value, 32, 8192)
        if self.font_size_px:
            check_range("display.font_size_px", self.font_size_px, 8, 200)
        check_range("display.line_height_px", self.line_height_px, 0, 400)
        check_range("display.margin_x_px", self.margin_x_px, -1, 2000)
        check_range("display.margin_y_px", self.margin_y_px, -1, 2000)
        check_range("display.lines", self.lines, 0, 20)
        check_range("display.reading_chars_per_s", self.reading_chars_per_s, 1.0, 100.0)
        check_range("display.min_line_s", self.min_line_s, 0.0, 10.0)
        check_range("display.clear_after_s", self.clear_after_s, 0.0, 3600.0)
        check_range("display.scroll_ms", self.scroll_ms, 0, 2000)
