"""Reading-speed timing: how long a caption must stay up to be read.

Measured in display columns, so a Chinese character (2 columns) takes as long as two Latin
letters; 17 columns a second is about 17 English characters or 8-9 Chinese characters,
close to the usual subtitle guidelines for both languages.
"""

from __future__ import annotations

from hudtranslate.captions.text import display_width, normalize_space

READING_CHARS_PER_S = 17.0
MIN_DISPLAY_S = 0.8
MAX_DISPLAY_S = 7.0


def min_display_s(
    text: str,
    chars_per_s: float = READING_CHARS_PER_S,
    floor_s: float = MIN_DISPLAY_S,
    ceiling_s: float = MAX_DISPLAY_S,
) -> float:
    """Seconds ``text`` must stay visible: its length over the reading speed, clamped.

    The floor keeps a short word from flashing by; the ceiling keeps one long sentence from
    holding the display after the speaker has moved on.
    """
    if chars_per_s <= 0:
        raise ValueError(f"chars_per_s must be positive, got {chars_per_s}")
    if not 0 <= floor_s <= ceiling_s:
        raise ValueError(f"need 0 <= floor_s <= ceiling_s, got {floor_s} and {ceiling_s}")
    seconds = display_width(normalize_space(text)) / chars_per_s
    return min(max(seconds, floor_s), ceiling_s)
