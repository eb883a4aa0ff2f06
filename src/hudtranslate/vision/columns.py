"""Vertical text the detector read across: columns of a menu board (Hong Kong, Taiwan)
printed side by side come out of the OCR as rows of unrelated characters
("全半燒半燒叉叉…"). Such rows are found and read again top to bottom, column by column.

Pure geometry on the OCR's per-character boxes. A stack of rows is read as columns when
its rows are about as far apart as the characters within a row (in horizontal text line
spacing clearly exceeds letter spacing), the characters of each row sit under those of
the row above, and the rows repeat characters the way a menu read across its columns does
(see ``_repeat_rate``). A row of numbers right under the columns gives each column its
price.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence

from hudtranslate.vision.ocr import CharBox, Quad, TextLine

_MIN_ROWS = 3
"""Rows a stack needs before it can be judged a grid of columns."""
_MAX_PITCH_RATIO = 1.35
"""Row pitch over letter pitch at most: 1.2 on a Hong Kong menu board read across its
columns; 1.5–2.1 for horizontal receipts and menus (line spacing exceeds letter spacing)."""
_MIN_REPEAT_RATE = 0.12
"""Share of neighbouring characters that repeat, at least (0.3 across the menu board's
columns; 0 to 0.05 in horizontal text)."""
_ALIGNED_SHARE = 0.6
"""Share of a row's characters that must sit under a character of the row above."""
_NUMBERS_ONLY = re.compile(r"^[\d\s.,]+$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _middle(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _char_height(line: TextLine) -> float:
    return _middle([char.bottom - char.top for char in line.chars])


def _char_width(line: TextLine) -> float:
    return _middle([char.right - char.left for char in line.chars])


def _center_y(line: TextLine) -> float:
    return _middle([char.center_y for char in line.chars])


def _levels(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines at the same height merged into one row (the detector splits a row of columns
    wherever some columns are shorter), characters left to right."""
    levels: list[list[TextLine]] = []
    for line in sorted(lines, key=_center_y):
        if levels and abs(_center_y(line) - _center_y(levels[-1][0])) < 0.5 * max(
                _char_height(line), _char_height(levels[-1][0]), 1.0):
            levels[-1].append(line)
        else:
            levels.append([line])
    merged = []
    for level in levels:
        chars = tuple(sorted((c for line in level for c in line.chars), key=lambda c: c.left))
        left, right = min(c.left for c in chars), max(c.right for c in chars)
        top, bottom = min(c.top for c in chars), max(c.bottom for c in chars)
        quad: Quad = ((left, top), (right, top), (right, bottom), (left, bottom))
        merged.append(TextLine(quad, "".join(c.text for c in chars),
                               min(line.confidence for line in level), chars))
    return merged


def _stacks(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    stacks: list[list[TextLine]] = []
    for line in _levels(lines):
        home = None
        for stack in stacks:
            last = stack[-1]
            height = max(_char_height(last), _char_height(line), 1.0)
            pitch = _center_y(line) - _center_y(last)
            overlap = min(last.right, line.right) - max(last.left, line.left)
            if 0 < pitch <= 1.15 * height and overlap > 0:
                home = stack
                break
        if home is None:
            stacks.append([line])
        else:
            home.append(line)
    return stacks


def _repeat_rate(stack: Sequence[TextLine]) -> float:
    """Share of neighbouring characters in the rows that are the same character. Read
    across a menu's columns, rows repeat (every dish ends in 飯: "飯飯飯飯"); horizontal
    text rarely does (谢谢, 看看)."""
    pairs = [(a.text, b.text) for line in stack for a, b in itertools.pairwise(line.chars)]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0


def _is_grid(stack: Sequence[TextLine]) -> bool:
    """Rows stacked as closely as their characters sit side by side (relative to the
    character width: the OCR's character boxes are as tall as the line's box), aligned
    under each other, and repeating like a menu read across its columns."""
    if len(stack) < _MIN_ROWS or sum(len(line.chars) >= 4 for line in stack) < 2:
        return False
    widths = [_char_width(line) for line in stack if len(line.chars) >= 2]
    row_pitch = _middle([_center_y(b) - _center_y(a) for a, b in itertools.pairwise(stack)])
    letter_pitch = _middle([b.center_x - a.center_x for line in stack
                            for a, b in itertools.pairwise(line.chars)])
    if not widths or letter_pitch <= 0 or row_pitch > _MAX_PITCH_RATIO * letter_pitch:
        return False
    if _repeat_rate(stack) < _MIN_REPEAT_RATE:
        return False
    width = _middle(widths)
    aligned = total = 0
    for above, below in itertools.pairwise(stack):
        for char in below.chars:
            total += 1
            aligned += any(abs(char.center_x - other.center_x) < 0.35 * width
                           for other in above.chars)
    return total > 0 and aligned / total >= _ALIGNED_SHARE


def _columns(stack: Sequence[TextLine]) -> list[list[CharBox]]:
    chars = sorted((char for line in stack for char in line.chars), key=lambda c: c.center_x)
    width = _middle([char.right - char.left for char in chars])
    columns: list[list[CharBox]] = []
    for char in chars:
        if columns and char.center_x - _middle([c.center_x for c in columns[-1]]) < 0.5 * width:
            columns[-1].append(char)
        else:
            columns.append([char])
    split: list[list[CharBox]] = []
    for column in columns:
        column.sort(key=lambda c: c.center_y)
        height = _middle([c.bottom - c.top for c in column])
        piece = [column[0]]
        for char in column[1:]:
            if char.center_y - piece[-1].center_y > 1.6 * height:
                split.append(piece)
                piece = []
            piece.append(char)
        split.append(piece)
    return split


def _numbers(line: TextLine) -> list[tuple[str, float]]:
    """The numbers of a row of prices with their centre x. The recogniser's spaces split
    the numbers when its characters match the text; otherwise digits closer than half a
    digit's height belong to one number."""
    words = line.text.split()
    chars = sorted(line.chars, key=lambda c: c.left)
    if sum(len(word) for word in words) == len(chars):
        numbers, start = [], 0
        for word in words:
            numbers.append(chars[start:start + len(word)])
            start += len(word)
    else:
        numbers = []
        for char in chars:
            if numbers and char.left - numbers[-1][-1].right < 0.5 * (char.bottom - char.top):
                numbers[-1].append(char)
            else:
                numbers.append([char])
    return [("".join(c.text for c in number), (number[0].left + number[-1].right) / 2)
            for number in numbers if number]


def _as_line(column: Sequence[CharBox], confidence: float, price: str) -> TextLine:
    left, right = min(c.left for c in column), max(c.right for c in column)
    top, bottom = min(c.top for c in column), max(c.bottom for c in column)
    quad: Quad = ((left, top), (right, top), (right, bottom), (left, bottom))
    text = "".join(c.text for c in column) + (f" {price}" if price else "")
    return TextLine(quad, text, confidence, tuple(column))


def read_columns(lines: Sequence[TextLine]) -> tuple[list[TextLine], list[TextLine]]:
    """(column lines, other lines): rows that are really vertical columns become one
    vertical line per column (top to bottom, with the price printed under it); the other
    lines are returned as they were."""
    candidates = [line for line in lines
                  if line.chars and not line.vertical and _CJK.search(line.text)]
    grids = [stack for stack in _stacks(candidates) if _is_grid(stack)]
    if not grids:
        return [], list(lines)
    used = {id(char) for stack in grids for line in stack for char in line.chars}
    rest = [line for line in lines if not any(id(char) in used for char in line.chars)]
    found: list[TextLine] = []
    for stack in grids:
        confidence = min(line.confidence for line in stack)
        columns = _columns(stack)
        bottom = max(line.bottom for line in stack)
        height = _middle([_char_height(line) for line in stack])
        prices: dict[int, str] = {}
        placed = 0
        for line in rest:
            if (line.chars and _NUMBERS_ONLY.match(line.text)
                    and bottom - height <= line.top <= bottom + 2.5 * height):
                numbers = _numbers(line)
                for number, center in numbers:
                    target = next((index for index, column in enumerate(columns)
                                   if min(c.left for c in column) - 0.3 * height <= center
                                   <= max(c.right for c in column) + 0.3 * height), None)
                    if target is not None and target not in prices:
                        prices[target] = number
                        placed += 1
                if placed == len(numbers):  # else the row stays: no number is lost
                    rest = [other for other in rest if other is not line]
                break
        found += [_as_line(column, confidence, prices.get(index, ""))
                  for index, column in enumerate(columns)]
    return found, rest
