"""Reading order: OCR lines grouped into blocks a reader would take as one unit.

Pure geometry and text, no model. Three rules, applied in order:

1. **Rows**: pieces of one printed line that the detector split (a dish and its price,
   a sentence broken at a wide gap) are joined left to right when they overlap vertically,
   have similar heights and the gap between them is small.
2. **Paragraphs**: a row continues the block above it when it is left-aligned under it,
   close below, of the same height, and the row above looks wrapped (it is at least as
   wide, holds several Chinese characters and does not end a sentence, a number or a
   field); a row that starts a field ("【品名】", "货号：") always starts a block.
0. **Columns**: rows of characters that are really vertical columns read across are read
   again column by column first (``columns.py``).
3. **Order**: blocks are read in bands from top to bottom, left to right within a band;
   columns of vertical text right to left, as they are printed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hudtranslate.vision.columns import read_columns
from hudtranslate.vision.ocr import TextLine

_SAME_ROW_OVERLAP = 0.6
"""Share of the smaller height two pieces must overlap vertically to be one row."""
_MAX_HEIGHT_RATIO = 1.35
"""Pieces or rows whose heights differ more are different type sizes: not joined."""
_ROW_GAP_HEIGHTS = 1.2
"""Largest horizontal gap, in line heights, between pieces joined into one row."""
_PARAGRAPH_GAP_HEIGHTS = 0.7
"""Largest vertical gap, in line heights, between a wrapped row and the next."""
_MIN_WRAPPED_CJK = 6
"""A row with fewer Chinese characters is a heading or an item, not a wrapped line."""

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_OR_DIGIT = re.compile(r"[0-9A-Za-z]")
_CLOSED_END = re.compile(r"[。！？!?：:；;0-9A-Za-z%℃°)）】」』]$")
_FIELD_START = re.compile(r"^\s*(?:[【\[(（]|[^\s：:]{1,6}[：:])")
_ENDS_WITH_NUMBER = re.compile(r"\d[)）]?$")
_PRICE = re.compile(r"^[¥￥$]?\s*\d+(?:[.,]\d+)?\s*(?:元|块)?$")


@dataclass(frozen=True, slots=True)
class TextBlock:
    """Lines read as one unit: ``text`` is what is translated, ``rows`` the printed rows
    (each the pieces of one line joined), ``lines`` the OCR lines it came from."""

    lines: tuple[TextLine, ...]
    rows: tuple[str, ...]
    vertical: bool = False

    @property
    def text(self) -> str:
        return join_pieces(self.rows) if not self.vertical else "".join(self.rows)

    @property
    def left(self) -> float:
        return min(line.left for line in self.lines)

    @property
    def right(self) -> float:
        return max(line.right for line in self.lines)

    @property
    def top(self) -> float:
        return min(line.top for line in self.lines)

    @property
    def bottom(self) -> float:
        return max(line.bottom for line in self.lines)

    @property
    def confidence(self) -> float:
        """The weakest line's score: one misread line makes the block doubtful."""
        return min(line.confidence for line in self.lines)


def join_pieces(pieces: Sequence[str]) -> str:
    """Join text pieces as printed: nothing between Chinese characters, one space where
    Latin letters or digits meet anything (a dish and its price: "魯肉飯 30")."""
    out = ""
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if out and (_LATIN_OR_DIGIT.search(out[-1]) or _LATIN_OR_DIGIT.match(piece[0])):
            out += " "
        out += piece
    return out


def _similar_height(a: float, b: float) -> bool:
    low, high = sorted((max(a, 1.0), max(b, 1.0)))
    return high / low <= _MAX_HEIGHT_RATIO


@dataclass
class _Row:
    pieces: list[TextLine]

    @property
    def text(self) -> str:
        return join_pieces([piece.text for piece in self.pieces])

    @property
    def left(self) -> float:
        return min(piece.left for piece in self.pieces)

    @property
    def right(self) -> float:
        return max(piece.right for piece in self.pieces)

    @property
    def top(self) -> float:
        return min(piece.top for piece in self.pieces)

    @property
    def bottom(self) -> float:
        return max(piece.bottom for piece in self.pieces)

    @property
    def height(self) -> float:
        return max(piece.height for piece in self.pieces)

    def takes(self, piece: TextLine) -> bool:
        """Is ``piece`` the continuation of this row to the right?"""
        last = self.pieces[-1]
        overlap = min(last.bottom, piece.bottom) - max(last.top, piece.top)
        if overlap < _SAME_ROW_OVERLAP * min(last.height, piece.height):
            return False
        if not _similar_height(last.height, piece.height):
            return False
        if _ENDS_WITH_NUMBER.search(self.text) and _CJK.match(piece.text):
            return False  # an item and its price are complete: the next item starts
        gap = piece.left - last.right
        return -0.5 * piece.height <= gap <= _ROW_GAP_HEIGHTS * max(last.height, piece.height)


def _rows(lines: Sequence[TextLine]) -> list[_Row]:
    rows: list[_Row] = []
    for piece in sorted(lines, key=lambda line: (line.left, line.top)):
        row = next((row for row in rows if row.takes(piece)), None)
        if row is None:
            rows.append(_Row([piece]))
        else:
            row.pieces.append(piece)
    return rows


def _continues(above: _Row, below: _Row) -> bool:
    """Is ``below`` the next line of a paragraph wrapped at ``above``?"""
    height = max(above.height, below.height)
    if not _similar_height(above.height, below.height):
        return False
    gap = below.top - above.bottom
    if not -0.3 * height <= gap <= _PARAGRAPH_GAP_HEIGHTS * height:
        return False
    if abs(above.left - below.left) > 1.5 * height:
        return False
    text = above.text
    return (len(_CJK.findall(text)) >= _MIN_WRAPPED_CJK
            and above.right - above.left >= 0.85 * (below.right - below.left)
            and not _CLOSED_END.search(text) and not _FIELD_START.match(below.text)
            and not _PRICE.match(below.text))


def _between(above: _Row, below: _Row, rows: Sequence[_Row]) -> bool:
    """Does another row lie between ``above`` and ``below``, under both? Then ``below``
    does not continue ``above`` (the line in between does, or starts something else)."""
    return any(
        other is not above and above.top < other.top < below.top
        and min(other.right, below.right) > max(other.left, below.left)
        for other in rows)


def group_blocks(lines: Sequence[TextLine]) -> list[TextBlock]:
    """Group OCR ``lines`` into blocks in reading order (see the module docstring)."""
    columns, lines = read_columns(lines)
    vertical = [line for line in lines if line.vertical] + columns
    rows = sorted(_rows([line for line in lines if not line.vertical]),
                  key=lambda row: (row.top, row.left))
    paragraphs: list[list[_Row]] = []
    for index, row in enumerate(rows):
        home = next((para for para in reversed(paragraphs)
                     if _continues(para[-1], row) and not _between(para[-1], row, rows[:index])),
                    None)
        if home is None:
            paragraphs.append([row])
        else:
            home.append(row)
    blocks = [TextBlock(tuple(p for row in para for p in row.pieces),
                        tuple(row.text for row in para)) for para in paragraphs]
    blocks += [TextBlock((line,), (line.text,), vertical=True) for line in vertical]
    return reading_order(blocks)


def reading_order(blocks: Sequence[TextBlock]) -> list[TextBlock]:
    """Blocks in bands top to bottom: a block starts a new band when its top is below the
    band's first block's middle. Within a band, horizontal blocks left to right, vertical
    columns right to left."""
    bands: list[list[TextBlock]] = []
    for block in sorted(blocks, key=lambda b: b.top):
        if bands and block.top < (bands[-1][0].top + bands[-1][0].bottom) / 2:
            bands[-1].append(block)
        else:
            bands.append([block])
    ordered: list[TextBlock] = []
    for band in bands:
        ordered += sorted(band, key=lambda b: -b.right if b.vertical else b.left)
    return ordered
