"""Display width and line wrapping for mixed Chinese/English caption text.

Terminals and the glasses' fonts draw CJK and fullwidth characters two columns wide, so
line length is measured in columns, not characters. English words are never split (unless
one alone is longer than a line); Chinese may break between any two characters, except that
closing punctuation never starts a line and opening punctuation never ends one.
"""

from __future__ import annotations

import unicodedata

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


def wrap_text(text: str, max_columns: int) -> list[str]:
    """Wrap ``text`` into lines of at most ``max_columns`` display columns.

    Whitespace is normalized first; an empty or blank ``text`` gives no lines.
    """
    clean = normalize_space(text)
    return [clean[start:end] for start, end in wrap_ranges(clean, max_columns)]


def tail_line(text: str, max_columns: int, ellipsis: str = "…") -> str:
    """The end of ``text`` as one line of at most ``max_columns`` columns.

    Live source text grows at its end, so a one-line view shows the newest words; the cut
    falls at a break point and is marked with ``ellipsis``.
    """
    clean = normalize_space(text)
    if display_width(clean) <= max_columns:
        return clean
    budget = max_columns - display_width(ellipsis)
    start = len(clean)
    for piece_start, _, _ in reversed(_pieces(clean)):
        if display_width(clean[piece_start:]) > budget:
            break
        start = piece_start
    if start == len(clean):  # the last piece alone is too long: cut inside it
        while start > 0 and display_width(clean[start - 1 :]) <= budget:
            start -= 1
    return ellipsis + clean[start:]


def wrap_ranges(text: str, max_columns: int) -> list[tuple[int, int]]:
    """Wrap ``text`` and return each line as a ``(start, end)`` slice of ``text``.

    Slices let callers map wrapped lines back to character positions (e.g. to style the
    committed and tentative parts differently). Whitespace at a line break is dropped;
    whitespace inside a line is kept as it is in ``text``.
    """
    if max_columns < 2:
        raise ValueError(f"max_columns must be at least 2, got {max_columns}")
    lines: list[tuple[int, int]] = []
    line_start = line_end = -1
    line_width = 0
    for start, end, spaced in _pieces(text):
        width = display_width(text[start:end])
        gap = _space_width(text[line_end:start]) if spaced and line_start >= 0 else 0
        if line_start >= 0 and line_width + gap + width <= max_columns:
            line_end, line_width = end, line_width + gap + width
            continue
        if line_start >= 0:
            lines.append((line_start, line_end))
            line_start = -1
        if width <= max_columns:
            line_start, line_end, line_width = start, end, width
            continue
        chunks = _hard_break(text, start, end, max_columns)
        lines.extend(chunks[:-1])
        line_start, line_end = chunks[-1]
        line_width = display_width(text[line_start:line_end])
    if line_start >= 0:
        lines.append((line_start, line_end))
    return lines


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


def _space_width(space: str) -> int:
    """Columns a run of whitespace takes; control characters like tab count as one."""
    return sum(max(1, char_width(char)) for char in space)


def _hard_break(text: str, start: int, end: int, max_columns: int) -> list[tuple[int, int]]:
    """Cut one over-long piece into slices that each fit ``max_columns``."""
    chunks: list[tuple[int, int]] = []
    chunk_start, width = start, 0
    for index in range(start, end):
        char_cols = char_width(text[index])
        if width + char_cols > max_columns and index > chunk_start:
            chunks.append((chunk_start, index))
            chunk_start, width = index, 0
        width += char_cols
    chunks.append((chunk_start, end))
    return chunks
