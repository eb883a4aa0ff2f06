"""Roll-up captions with reading-speed pacing: which lines are up, and where, at a moment.

Live captions on a small display roll up: each utterance starts on a new line, lines fill
the rows from the top, and when the text needs another row every line moves up one (over
``scroll_s``, eased, so the eye can follow). The window never moves back down, so
committed lines never jump when the tentative tail shrinks; only the tail's own rows change.

Pacing: a line may leave the top only after it has been readable for its reading time
(``min_display_s`` at ``reading_chars_per_s``, and ``min_line_s`` after its last change).
While it is held, newer rows wait below the window. So that latency cannot creep up over
a long session, at most one window's worth of rows waits: past that the oldest rows go
unread. Once nothing changes for ``clear_after_s`` (and everything has been read) the
display clears. Time is any monotonic clock in seconds, passed in: this module is pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hudtranslate.captions.layout import CaptionLine, utterance_lines
from hudtranslate.captions.pacing import min_display_s
from hudtranslate.captions.text import Measure
from hudtranslate.captions.track import CaptionTrack
from hudtranslate.config import DisplayOptions
from hudtranslate.events import Translation

_SETTLED_ROWS = 1e-3
"""A scroll this close to its end is over (a thousandth of a row is no pixel)."""

LineKey = tuple[int, int]
"""(utterance id, row within the utterance): a line's identity while its text changes."""


@dataclass(frozen=True)
class PacingOptions:
    """Reading-speed and motion rules; ``unpaced()`` turns them all off (terminal, tests)."""

    reading_chars_per_s: float = 17.0
    min_line_s: float = 0.8
    clear_after_s: float = 7.0
    scroll_s: float = 0.24

    @classmethod
    def unpaced(cls) -> PacingOptions:
        return cls(reading_chars_per_s=math.inf, min_line_s=0.0, clear_after_s=0.0,
                   scroll_s=0.0)

    @classmethod
    def from_options(cls, options: DisplayOptions) -> PacingOptions:
        return cls(options.reading_chars_per_s, options.min_line_s, options.clear_after_s,
                   options.scroll_ms / 1000)


@dataclass(frozen=True, slots=True)
class KeyedLine:
    key: LineKey
    line: CaptionLine


@dataclass(frozen=True, slots=True)
class PlacedLine:
    """A line and its row: 0 is the top row; fractional while scrolling, < 0 leaving."""

    key: LineKey
    line: CaptionLine
    row: float


def rollup_lines(track: CaptionTrack, max_width: float,
                 measure: Measure | None = None) -> list[KeyedLine]:
    """Every wrapped English line of the remembered utterances, each starting a new line
    (the wearer's own utterances: their one echo row, ``layout.utterance_lines``)."""
    return [
        KeyedLine((translation.utterance_id, row), line)
        for translation in hud_translations(track)
        for row, line in enumerate(utterance_lines(translation, max_width, measure))
    ]


def hud_translations(track: CaptionTrack) -> list[Translation]:
    """What the HUD shows rows for, oldest first: the English captions and, in a
    conversation, the wearer's own utterances (echoed)."""
    wearer = track.wearer_translations()
    english = track.translations()
    if not wearer:
        return english
    return sorted([*english, *wearer], key=lambda translation: translation.utterance_id)


@dataclass
class _Seen:
    first_s: float
    changed_s: float
    text: str


class RollUp:
    """The paced roll-up window over a growing list of keyed lines (see module doc)."""

    def __init__(self, rows: int, pacing: PacingOptions | None = None) -> None:
        if rows < 1:
            raise ValueError(f"rows must be at least 1, got {rows}")
        self.rows = rows
        self.pacing = pacing or PacingOptions()
        self._lines: list[KeyedLine] = []
        self._top: LineKey | None = None
        self._seen: dict[LineKey, _Seen] = {}
        self._now = -math.inf
        self._changed_s = -math.inf
        self._settled = True
        self._cleared = False
        self._scroll_start_s = -math.inf
        self._scroll_rows = 0.0

    @property
    def cleared(self) -> bool:
        """True after the display cleared itself, until the captions change again."""
        return self._cleared

    def update(self, lines: Sequence[KeyedLine], now_s: float, *, settled: bool) -> None:
        """New captions: ``lines`` are all rows in order; ``settled`` when none may change."""
        self._advance(now_s)
        self._lines = list(lines)
        self._settled = settled
        self._changed_s = self._now
        self._cleared = False
        if self._top is None and self._lines:  # start (or join) showing the newest rows
            self._top = self._lines[max(0, len(self._lines) - self.rows)].key
        self._advance(now_s)

    def window(self, now_s: float) -> list[PlacedLine]:
        """The lines on display at ``now_s`` with their (possibly fractional) rows."""
        self._advance(now_s)
        offset = self._offset(self._now)
        below = self._from_top()
        placed = [PlacedLine(k.key, k.line, i + offset) for i, k in enumerate(below[: self.rows])]
        if offset > 0:
            above = [k for k in self._lines if self._top is not None and k.key < self._top]
            for back, keyed in enumerate(reversed(above[-math.ceil(offset) :]), start=1):
                placed.insert(0, PlacedLine(keyed.key, keyed.line, offset - back))
        return placed

    def scrolling(self, now_s: float) -> bool:
        return self._offset(max(now_s, self._now)) > 0

    def next_change_s(self, now_s: float) -> float | None:
        """When the window changes next without new captions (scroll, release or clear)."""
        self._advance(now_s)
        times = [t for t in (self.next_scroll_s(now_s), self._clear_s()) if t is not None]
        return min(times, default=None)

    def next_scroll_s(self, now_s: float) -> float | None:
        """End of the running scroll, or when a held row is read and may scroll away."""
        self._advance(now_s)
        if self._offset(self._now) > 0:
            return self._scroll_start_s + self.pacing.scroll_s
        below = self._from_top()
        if len(below) <= self.rows:
            return None
        return self._deadline(below[0].key)

    def _from_top(self) -> list[KeyedLine]:
        top = self._top
        return [k for k in self._lines if top is not None and k.key >= top]

    def _deadline(self, key: LineKey) -> float:
        seen = self._seen.get(key)
        if seen is None:
            return math.inf
        reading = min_display_s(seen.text, self.pacing.reading_chars_per_s,
                                floor_s=self.pacing.min_line_s,
                                ceiling_s=max(self.pacing.min_line_s, 7.0))
        return max(seen.first_s + reading, seen.changed_s + self.pacing.min_line_s)

    def _clear_s(self) -> float | None:
        if self.pacing.clear_after_s <= 0 or self._cleared or not self._settled:
            return None
        if self._changed_s == -math.inf:
            return None
        below = self._from_top()
        if len(below) > self.rows:  # rows still waiting: scroll them into view first
            return None
        shown = [self._deadline(k.key) for k in below]
        return max([self._changed_s + self.pacing.clear_after_s, *shown])

    def _offset(self, now_s: float) -> float:
        """Rows the text is still shifted down by, easing out to 0 over ``scroll_s``."""
        if self._scroll_rows <= 0 or self.pacing.scroll_s <= 0:
            return 0.0
        progress = (now_s - self._scroll_start_s) / self.pacing.scroll_s
        offset = self._scroll_rows * (1 - min(progress, 1.0)) ** 3
        return offset if offset >= _SETTLED_ROWS else 0.0

    def _advance(self, now_s: float) -> None:
        self._now = max(self._now, now_s)
        now = self._now
        self._mark_seen(now)
        clear_s = self._clear_s()
        if clear_s is not None and now >= clear_s and self._lines:
            last = self._lines[-1].key
            self._top = (last[0], last[1] + 1)
            self._cleared, self._scroll_rows = True, 0.0
            return
        if clear_s is not None and now >= clear_s:
            self._cleared = True
        below = self._from_top()
        overflow = len(below) - self.rows
        if overflow <= 0:
            return
        steps = 0
        while steps < overflow and self._deadline(below[steps].key) <= now:
            steps += 1
        steps = max(steps, overflow - self.rows)  # bound the backlog: latency must not creep
        if steps == 0:
            return
        self._scroll_rows = min(self._offset(now) + steps, float(self.rows))
        self._scroll_start_s = now
        self._top = below[steps].key
        self._mark_seen(now)

    def _mark_seen(self, now: float) -> None:
        visible = self._from_top()[: self.rows]
        for keyed in visible:
            text = keyed.line.text
            seen = self._seen.get(keyed.key)
            if seen is None:
                self._seen[keyed.key] = _Seen(now, now, text)
            elif seen.text != text:
                seen.changed_s, seen.text = now, text
        if len(self._seen) > 4 * self.rows + 64:
            current = {k.key for k in self._lines}
            self._seen = {key: s for key, s in self._seen.items() if key in current}
