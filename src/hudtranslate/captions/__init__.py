"""Caption text rules for the glasses: width, wrapping, layout, pacing and the terminal view."""

from hudtranslate.captions.layout import (
    CaptionLine,
    CaptionSpan,
    CaptionView,
    SpanStyle,
    layout_caption,
)
from hudtranslate.captions.pacing import min_display_s
from hudtranslate.captions.terminal import TerminalCaptions, render
from hudtranslate.captions.text import (
    char_width,
    display_width,
    normalize_space,
    tail_line,
    wrap_ranges,
    wrap_text,
)

__all__ = [
    "CaptionLine",
    "CaptionSpan",
    "CaptionView",
    "SpanStyle",
    "TerminalCaptions",
    "char_width",
    "display_width",
    "layout_caption",
    "min_display_s",
    "normalize_space",
    "render",
    "tail_line",
    "wrap_ranges",
    "wrap_text",
]
