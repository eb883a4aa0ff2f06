"""Display width and line wrapping for mixed Chinese/English caption text.

Terminals and the glasses' fonts draw CJK and fullwidth characters two columns wide, so
line length is measured in columns, not characters. English words are never split (unless
one alone is longer than a line); Chinese may break between any two characters, except that
closing punctuation never starts a line and opening punctuation never ends one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

Measure = Callable[[str], float]
"""Width of a run of text in some unit: display columns for terminals, pixels for a font."""

NO_LINE_START = frozenset(
    "，。！？、；：」』）》〉】〕〗〙〛〞”’…‥・·～—–％"
    "）］｝｣,.!?;:)]}%"
)
"""Characters that must stay on the line of the character before them."""

NO_LINE_END = frozenset("「『（《〈【〔〖〘〚〝“‘（［｛｢([{$¥￥£€")
"""Characters that must stay on the line of the character after them."""


def char_width(char: str) -> int:
    """Columns one character occupies: 2 for wide/fullwidth, 0 for marks, else 1."""
    if unicodedata.combining(char) or unicodedata.category(char) in {"Mn", "Me", "Cf", "Cc"}:
        return 0
    return 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1


def display_width(text: str) -> int:
    """Columns ``text`` occupies on a monospace display (CJK counts 2, Latin 1)."""
    return sum(char_width(char) for char in text)


def normalize_space(text: str) -> str:
    """Collapse every whitespace run (newlines, tabs, ideographic spaces) to one space."""
    return " ".join(text.split())


_ATTACHED_LEAD = ",.;:!?…"
"""Marks an utterance's English may start with when it continues the one before (", and
then…", ". He might…": the model ending the earlier sentence). They belong to the text
before; a caption line or a subtitle cue starts after them."""


def same_words(source: str, english: str) -> bool:
    """Does ``source`` say the words of ``english`` (case, marks and spaces aside)? English
    said to the Mandarin recogniser in listen mode is its own source ("Thank you" →
    "Thank you."): a caption or a bilingual cue shows it once."""
    def words(text: str) -> str:
        return "".join(char for char in text.casefold() if char.isalnum())
    return bool(words(source)) and words(source) == words(english)


def line_start_text(text: str) -> str:
    """``text`` with spaces normalised and without the marks that attach it to the
    utterance before (``_ATTACHED_LEAD``): what starts a new caption line or cue."""
    return normalize_space(text).lstrip(_ATTACHED_LEAD + " ")


def wrap_text(text: str, max_columns: int) -> list[str]:
    """Wrap ``text`` into lines of at most ``max_columns`` display columns.

    Whitespace is normalized first; an empty or blank ``text`` gives no lines.
    """
    clean = normalize_space(text)
    return [clean[start:end] for start, end in wrap_ranges(clean, max_columns)]


def tail_line(
    text: str, max_width: float, ellipsis: str = "…", measure: Measure | None = None
) -> str:
    """The end of ``text`` as one line at most ``max_width`` wide (columns, or ``measure``).

    Live source text grows at its end, so a one-line view shows the newest words; the cut
    falls at a break point and is marked with ``ellipsis``.
    """
    measure = measure or columns
    clean = normalize_space(text)
    if measure(clean) <= max_width:
        return clean
    start = len(clean)
    for piece_start, _, _ in reversed(_pieces(clean)):
        if measure(ellipsis + clean[piece_start:]) > max_width:
            break
        start = piece_start
    if start == len(clean):  # the last piece alone is too long: cut inside it
        while start > 0 and measure(ellipsis + clean[start - 1 :]) <= max_width:
            start -= 1
    return ellipsis + clean[start:]


def head_line(
    text: str, max_width: float, ellipsis: str = "…", measure: Measure | None = None
) -> str:
    """The start of ``text`` as one line at most ``max_width`` wide (columns, or
    ``measure``), cut at a break point and marked with ``ellipsis`` when it is longer."""
    measure = measure or columns
    clean = normalize_space(text)
    if measure(clean) <= max_width:
        return clean
    end = 0
    for _, piece_end, _ in _pieces(clean):
        if measure(clean[:piece_end] + ellipsis) > max_width:
            break
        end = piece_end
    if end == 0:  # the first piece alone is too long: cut inside it
        while end < len(clean) and measure(clean[: end + 1] + ellipsis) <= max_width:
            end += 1
    return clean[:end].rstrip() + ellipsis


def wrap_ranges(
    text: str, max_width: float, measure: Measure | None = None
) -> list[tuple[int, int]]:
    """Wrap ``text`` and return each line as a ``(start, end)`` slice of ``text``.

    Slices let callers map wrapped lines back to character positions (e.g. to style the
    committed and tentative parts differently). Whitespace at a line break is dropped;
    whitespace inside a line is kept as it is in ``text``. Width is display columns unless
    ``measure`` is given (e.g. a font's advance in pixels, so the HUD wraps on real glyph
    widths); each candidate line is measured whole, so kerning and mixed constraints hold.
    """
    measure = measure or columns
    if measure is columns and max_width < 2:
        raise ValueError(f"max_columns must be at least 2, got {max_width}")
    lines: list[tuple[int, int]] = []
    line_start = line_end = -1
    for start, end, _ in _pieces(text):
        if line_start >= 0 and measure(text[line_start:end]) <= max_width:
            line_end = end
            continue
        if line_start >= 0:
            lines.append((line_start, line_end))
            line_start = -1
        if measure(text[start:end]) <= max_width:
            line_start, line_end = start, end
            continue
        chunks = _hard_break(text, start, end, max_width, measure)
        lines.extend(chunks[:-1])
        line_start, line_end = chunks[-1]
    if line_start >= 0:
        lines.append((line_start, line_end))
    return lines


def columns(text: str) -> float:
    """Display columns of ``text`` where any whitespace character takes at least one."""
    return sum(max(1, char_width(char)) if char.isspace() else char_width(char) for char in text)


def _pieces(text: str) -> list[tuple[int, int, bool]]:
    """Split ``text`` into unbreakable pieces: ``(start, end, preceded_by_space)``."""
    pieces: list[tuple[int, int, bool]] = []
    index, length = 0, len(text)
    while index < length:
        spaced = False
        while index < length and text[index].isspace():
            index += 1
            spaced = True
        if index >= length:
            break
        start = index
        index += 1
        while index < length and not text[index].isspace():
            if _can_break(text[index - 1], text[index]):
                pieces.append((start, index, spaced and bool(pieces)))
                start, spaced = index, False
            index += 1
        pieces.append((start, index, spaced and bool(pieces)))
    return pieces


def _can_break(before: str, after: str) -> bool:
    """A line may break between two non-space characters only next to a wide character."""
    if after in NO_LINE_START or before in NO_LINE_END:
        return False
    return char_width(before) == 2 or char_width(after) == 2


def _hard_break(
    text: str, start: int, end: int, max_width: float, measure: Measure
) -> list[tuple[int, int]]:
    """Cut one over-long piece into slices that each fit ``max_width``."""
    chunks: list[tuple[int, int]] = []
    chunk_start = start
    for index in range(start + 1, end):
        if measure(text[chunk_start : index + 1]) > max_width:
            chunks.append((chunk_start, index))
            chunk_start = index
    chunks.append((chunk_start, end))
    return chunks
