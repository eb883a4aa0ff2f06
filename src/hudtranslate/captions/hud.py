"""The HUD layout engine: captions → positioned glyph runs for one display profile.

Pure apart from reading the bundled font's metrics: no drawing, no I/O. Renderers (PNG
frames, the web view) draw a ``HudFrame`` exactly as laid out here, so what the web page
shows and what a frame file holds are the same pixels.

Geometry: the text block sits at the bottom margin; its rows are ``profile.lines`` English
rows (roll-up, see ``rollup.py``), then the Chinese line, then optionally pinyin. Lines are
left-aligned so a growing line never shifts; glyphs sit on a baseline centred in the row.
A line is as wide as the text area allows in the font's real pixels, and never more than
``max_chars_per_line`` display columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from hudtranslate.captions.fonts import FontName, HudFont, load_font
from hudtranslate.captions.layout import CaptionLine, utterance_lines
from hudtranslate.captions.pinyin import to_pinyin
from hudtranslate.captions.profiles import PINYIN_SCALE, DisplayProfile
from hudtranslate.captions.rollup import (
    KeyedLine,
    PacingOptions,
    PlacedLine,
    RollUp,
    hud_translations,
)
from hudtranslate.captions.text import Measure, columns, tail_line
from hudtranslate.captions.track import CaptionTrack
from hudtranslate.events import StreamEnd, Transcript, Translation

RunStyle = Literal["committed", "tentative", "source", "pinyin"]
Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right and bottom exclusive."""


@dataclass(frozen=True, slots=True)
class GlyphRun:
    """Text drawn in one style from ``(x_px, baseline_px)`` (left end of the baseline)."""

    text: str
    x_px: int
    baseline_px: int
    size_px: int
    style: RunStyle
    clip: Box | None = None
    """Draw only inside this box (rows scrolling in or out of the English area)."""
    font: FontName = "hud"


@dataclass(frozen=True, slots=True)
class HudFrame:
    """Everything on the display at one moment, at the profile's exact pixel size."""

    profile: DisplayProfile
    runs: tuple[GlyphRun, ...] = ()
    english: tuple[str, ...] = ()
    """The English lines in view, top to bottom (what a reader sees, as text)."""
    source: str = ""
    pinyin: str = ""
    scrolling: bool = False

    @property
    def text(self) -> str:
        return "\n".join(line for line in (*self.english, self.source, self.pinyin) if line)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready layout (the web protocol's ``display.hud``)."""
        return {
            "width_px": self.profile.width_px,
            "height_px": self.profile.height_px,
            "english": list(self.english),
            "source": self.source,
            "pinyin": self.pinyin,
            "scrolling": self.scrolling,
            "runs": [
                {"text": r.text, "x_px": r.x_px, "baseline_px": r.baseline_px,
                 "size_px": r.size_px, "style": r.style, "font": r.font,
                 "clip": list(r.clip) if r.clip else None}
                for r in self.runs
            ],
        }


@dataclass(frozen=True)
class HudGeometry:
    """Pixel positions of the rows for one profile and choice of extra lines."""

    profile: DisplayProfile
    show_source: bool
    show_pinyin: bool
    font: HudFont = field(init=False)
    pinyin_font: HudFont = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "font", load_font(self.profile.font_size_px))
        object.__setattr__(self, "pinyin_font",
                           load_font(self.profile.pinyin_size_px, "latin"))

    @property
    def block_top_px(self) -> int:
        height = self.profile.slots_height_px(self.show_source, self.show_pinyin)
        return max(0, self.profile.height_px - self.profile.margin_y_px - height)

    @property
    def english_box(self) -> Box:
        top = self.block_top_px
        return (0, top, self.profile.width_px, top + self.profile.lines * self.line_px)

    @property
    def line_px(self) -> int:
        return self.profile.line_height_px

    def baseline_px(self, row_top_px: float, row_height_px: int, font: HudFont) -> int:
        return round(row_top_px) + (row_height_px - font.height_px) // 2 + font.ascent_px

    def measure(self, font: HudFont) -> Measure:
        """Pixel width, but never narrower than the column limit allows (≤ 42 columns)."""
        px_per_column = self.profile.text_width_px / self.profile.max_chars_per_line

        def width(text: str) -> float:
            return max(font.measure(text), columns(text) * px_per_column)

        return width


def place(geometry: HudGeometry, window: list[PlacedLine], source: str,
          scrolling: bool = False) -> HudFrame:
    """Position the window's English rows, then the Chinese (and pinyin) line."""
    profile, font = geometry.profile, geometry.font
    box = geometry.english_box
    runs: list[GlyphRun] = []
    english: list[str] = []
    for placed in window:
        row_top = box[1] + placed.row * geometry.line_px
        baseline = geometry.baseline_px(row_top, geometry.line_px, font)
        whole = 0 <= placed.row <= profile.lines - 1
        clip = None if whole and placed.row == int(placed.row) else box
        if -0.5 < placed.row < profile.lines - 0.5:
            english.append(placed.line.text)
        runs.extend(_line_runs(placed.line, profile.margin_x_px, baseline, font, clip))
    source_line = pinyin_line = ""
    if geometry.show_source and source.strip():
        source_line = tail_line(source, profile.text_width_px, measure=geometry.measure(font))
        baseline = geometry.baseline_px(box[3], geometry.line_px, font)
        runs.append(GlyphRun(source_line, profile.margin_x_px, baseline, font.size_px, "source"))
        if geometry.show_pinyin:
            small = geometry.pinyin_font
            pinyin_line = tail_line(to_pinyin(source_line.lstrip("…")), profile.text_width_px,
                                    measure=geometry.measure(small))
            row_px = round(geometry.line_px * PINYIN_SCALE)
            baseline = geometry.baseline_px(box[3] + geometry.line_px, row_px, small)
            runs.append(GlyphRun(pinyin_line, profile.margin_x_px, baseline, small.size_px,
                                 "pinyin", font="latin"))
    return HudFrame(profile, tuple(runs), tuple(english), source_line, pinyin_line, scrolling)


def _line_runs(line: CaptionLine, x0: int, baseline: int, font: HudFont,
               clip: Box | None) -> list[GlyphRun]:
    runs: list[GlyphRun] = []
    before = ""
    for span in line.spans:
        x = x0 + round(font.measure(before))
        runs.append(GlyphRun(span.text, x, baseline, font.size_px, span.style, clip))
        before += span.text
    return runs


class HudEngine:
    """One display's live captions: feed events with a clock time, ask for the frame now.

    Holds its own ``CaptionTrack`` and ``RollUp`` (so several views, e.g. profiles in a web
    page, each scroll on their own) and re-wraps only utterances whose text changed.
    """

    def __init__(self, profile: DisplayProfile, pacing: PacingOptions | None = None, *,
                 show_source: bool = True, show_pinyin: bool = False) -> None:
        self.profile = profile
        self.geometry = HudGeometry(profile, show_source, show_source and show_pinyin)
        self.track = CaptionTrack()
        self.rollup = RollUp(profile.lines, pacing)
        self._measure = self.geometry.measure(self.geometry.font)
        self._wrapped: dict[int, tuple[Translation, list[CaptionLine]]] = {}
        if self.geometry.show_pinyin:
            to_pinyin("")  # fail now, with the install hint, if pypinyin is missing

    def update(self, event: Transcript | Translation | StreamEnd, now_s: float) -> bool:
        """Take one event at ``now_s``; returns whether the captions changed."""
        if not self.track.update(event):
            return False
        self.rollup.update(self._lines(), now_s, settled=self.track.settled())
        return True

    def seed(self, events: Iterable[Transcript | Translation], now_s: float) -> None:
        """Join a session in progress: take its latest events at once and show the newest
        rows (fed one by one, the old rows would first have to be read and scrolled)."""
        for event in events:
            self.track.update(event)
        self.rollup.update(self._lines(), now_s, settled=self.track.settled())

    def frame(self, now_s: float) -> HudFrame:
        window = self.rollup.window(now_s)
        source = "" if self.rollup.cleared else self.track.source()
        return place(self.geometry, window, source, self.rollup.scrolling(now_s))

    def scrolling(self, now_s: float) -> bool:
        return self.rollup.scrolling(now_s)

    def next_change_s(self, now_s: float) -> float | None:
        return self.rollup.next_change_s(now_s)

    def _lines(self) -> list[KeyedLine]:
        keyed: list[KeyedLine] = []
        fresh: dict[int, tuple[Translation, list[CaptionLine]]] = {}
        for translation in hud_translations(self.track):
            cached = self._wrapped.get(translation.utterance_id)
            if cached is None or not _same_rows(cached[0], translation):
                cached = (translation, utterance_lines(translation, self.profile.text_width_px,
                                                       self._measure))
            fresh[translation.utterance_id] = cached
            keyed.extend(KeyedLine((translation.utterance_id, row), line)
                         for row, line in enumerate(cached[1]))
        self._wrapped = fresh
        return keyed


def _same_rows(old: Translation, new: Translation) -> bool:
    """Would ``new`` give the same rows as ``old``? English rows depend on the English
    alone; the wearer's echo row on the English said, once final."""
    if old.target_language != new.target_language:
        return False
    if new.target_language == "en":
        return (old.committed, old.tentative) == (new.committed, new.tentative)
    return (old.source, old.final, old.draft) == (new.source, new.final, new.draft)
