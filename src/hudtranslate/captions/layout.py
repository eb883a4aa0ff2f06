"""Lay out one caption frame: a few wrapped English lines plus an optional Chinese line.

Pure and display-agnostic: renderers (terminal, PNG frames, web HUD) draw a CaptionView and
choose colours per span style. Committed English keeps its place; only the tentative tail
changes from frame to frame, and older lines scroll off the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from hudtranslate.captions.text import (
    Measure,
    head_line,
    line_start_text,
    normalize_space,
    tail_line,
    wrap_ranges,
)
from hudtranslate.config import CaptionOptions
from hudtranslate.events import Translation, join_english

SpanStyle = Literal["committed", "tentative", "source"]


class CaptionSpan(NamedTuple):
    """A run of text drawn in one style."""

    text: str
    style: SpanStyle


@dataclass(frozen=True, slots=True)
class CaptionLine:
    """One display line, made of styled spans."""

    spans: tuple[CaptionSpan, ...]

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)

    @property
    def is_source(self) -> bool:
        return any(span.style == "source" for span in self.spans)


@dataclass(frozen=True, slots=True)
class CaptionView:
    """A whole caption frame: English lines first, then the Chinese source line if any.

    English sits on top so that showing or hiding the source line never moves it.
    """

    lines: tuple[CaptionLine, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def english_lines(self) -> tuple[CaptionLine, ...]:
        return tuple(line for line in self.lines if not line.is_source)

    @property
    def source_lines(self) -> tuple[CaptionLine, ...]:
        return tuple(line for line in self.lines if line.is_source)


def layout_caption(
    committed: str, tentative: str, source: str, options: CaptionOptions
) -> CaptionView:
    """Wrap committed + tentative English and keep the last ``options.max_lines`` lines.

    Each character keeps the style of the part it came from, so a line (or a hard-broken
    word) that straddles the boundary is split into a committed and a tentative span. The
    joining space belongs to the tentative part. When ``options.show_source`` is set and
    ``source`` is not blank, one line with the end of the Chinese follows the English.
    """
    lines = caption_lines(committed, tentative, options.max_chars_per_line)
    lines = lines[-options.max_lines :]
    if options.show_source:
        source_line = tail_line(source, options.max_chars_per_line)
        if source_line:
            lines.append(CaptionLine((CaptionSpan(source_line, "source"),)))
    return CaptionView(tuple(lines))


def caption_lines(
    committed: str, tentative: str, max_width: float, measure: Measure | None = None
) -> list[CaptionLine]:
    """Every wrapped line of one utterance's English, styled committed/tentative.

    The one line breaker for all displays: the terminal measures in columns, the HUD in
    the font's pixels (``measure``), so both break the same text the same way.
    """
    committed_text = line_start_text(committed)  # a line never starts ". He might…"
    english = join_english(committed_text, normalize_space(tentative))
    if not committed_text:
        english = line_start_text(english)
    boundary = len(committed_text)
    return [
        CaptionLine(_styled_spans(english, start, end, boundary))
        for start, end in wrap_ranges(english, max_width, measure)
    ]


ECHO_MARK = "› "
"""Starts the row that echoes the wearer's own words on the wearer's HUD."""


def echo_line(translation: Translation, max_width: float,
              measure: Measure | None = None) -> CaptionLine | None:
    """The one dim row the wearer's HUD gives an utterance of the wearer's own (English
    translated into Chinese for the other person), or None: nothing while it is spoken.

    Once its Chinese is final the row says what went to the partner page, in the
    wearer's English ("› I'll be ten minutes late"; a typed or dictated message: "› draft
    ready: …"), cut to one row: the wearer sees that it was heard right without looking at
    the phone, and the other person's captions keep every other row. The Chinese itself
    never goes through the English line breaker.
    """
    if translation.target_language == "en" or not translation.final:
        return None
    label = "draft ready: " if translation.draft else ""
    text = head_line(ECHO_MARK + label + translation.source, max_width, measure=measure)
    return CaptionLine((CaptionSpan(text, "tentative"),))


def utterance_lines(translation: Translation, max_width: float,
                    measure: Measure | None = None) -> list[CaptionLine]:
    """The HUD's rows for one utterance: its English wrapped (the other person's), or the
    echo row of the wearer's own (``echo_line``), or none."""
    if translation.target_language == "en":
        return caption_lines(translation.committed, translation.tentative, max_width, measure)
    echo = echo_line(translation, max_width, measure)
    return [echo] if echo is not None else []


def _styled_spans(text: str, start: int, end: int, boundary: int) -> tuple[CaptionSpan, ...]:
    """Split ``text[start:end]`` at ``boundary`` into committed and tentative spans."""
    cut = min(max(boundary, start), end)
    spans = [
        CaptionSpan(text[start:cut], "committed"),
        CaptionSpan(text[cut:end], "tentative"),
    ]
    return tuple(span for span in spans if span.text)
