"""Caption text rules for the glasses: width, wrapping, layout, pacing, display profiles,
the HUD layout engine and its renderers (terminal, PNG frames and replays)."""

from hudtranslate.captions.fonts import HudFont, font_path, load_font
from hudtranslate.captions.frames import (
    FrameSink,
    make_frame_sink,
    png_bytes,
    preview_image,
    render_frame,
)
from hudtranslate.captions.hud import GlyphRun, HudEngine, HudFrame, HudGeometry, place
from hudtranslate.captions.layout import (
    CaptionLine,
    CaptionSpan,
    CaptionView,
    SpanStyle,
    caption_lines,
    layout_caption,
)
from hudtranslate.captions.pacing import min_display_s
from hudtranslate.captions.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    DisplayProfile,
    get_profile,
    profile_from_options,
)
from hudtranslate.captions.replay import find_ffmpeg, write_replay
from hudtranslate.captions.rollup import PacingOptions, PlacedLine, RollUp, rollup_lines
from hudtranslate.captions.terminal import TerminalCaptions, render
from hudtranslate.captions.text import (
    char_width,
    columns,
    display_width,
    normalize_space,
    tail_line,
    wrap_ranges,
    wrap_text,
)
from hudtranslate.captions.track import CaptionTrack

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "CaptionLine",
    "CaptionSpan",
    "CaptionTrack",
    "CaptionView",
    "DisplayProfile",
    "FrameSink",
    "GlyphRun",
    "HudEngine",
    "HudFont",
    "HudFrame",
    "HudGeometry",
    "PacingOptions",
    "PlacedLine",
    "RollUp",
    "SpanStyle",
    "TerminalCaptions",
    "caption_lines",
    "char_width",
    "columns",
    "display_width",
    "find_ffmpeg",
    "font_path",
    "get_profile",
    "layout_caption",
    "load_font",
    "make_frame_sink",
    "min_display_s",
    "normalize_space",
    "place",
    "png_bytes",
    "preview_image",
    "profile_from_options",
    "render",
    "render_frame",
    "rollup_lines",
    "tail_line",
    "wrap_ranges",
    "wrap_text",
    "write_replay",
]
