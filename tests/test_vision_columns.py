"""Columns of a menu board the detector read across, read again top to bottom (no model)."""

from __future__ import annotations

from collections.abc import Sequence

from hudtranslate.vision.columns import read_columns
from hudtranslate.vision.ocr import CharBox, TextLine
from hudtranslate.vision.reading import group_blocks

PITCH_X, PITCH_Y, SIZE = 100, 115, 96


def row(text: str, x0: float, y: float, pitch_x: float = PITCH_X,
        height: float = 137) -> TextLine:
    """One detected row: characters ``pitch_x`` apart, boxes as tall as the line box."""
    chars = tuple(CharBox(char, x0 + i * pitch_x, y - height / 2, x0 + i * pitch_x + SIZE,
                          y + height / 2) for i, char in enumerate(text) if char != " ")
    left, right = chars[0].left, chars[-1].right
    quad = ((left, y - height / 2), (right, y - height / 2), (right, y + height / 2),
            (left, y + height / 2))
    return TextLine(quad, text, 0.95, chars)


def numbers_row(numbers: Sequence[str], centers: Sequence[float], y: float) -> TextLine:
    chars = []
    for number, center in zip(numbers, centers, strict=True):
        start = center - len(number) * 15
        chars += [CharBox(d, start + i * 30, y - 30, start + i * 30 + 28, y + 30)
                  for i, d in enumerate(number)]
    quad = ((chars[0].left, y - 30), (chars[-1].right, y - 30), (chars[-1].right, y + 30),
            (chars[0].left, y + 30))
    return TextLine(quad, " ".join(numbers), 0.9, tuple(chars))


# columns, right to left as printed: 叉燒飯 80 | 燒鴨飯 80 | 油雞飯 70 | 排骨飯 70
BOARD = [row("排油燒叉", 0, 1000), row("骨雞鴨燒", 0, 1000 + PITCH_Y),
         row("飯飯飯飯", 0, 1000 + 2 * PITCH_Y)]


def test_a_menu_board_read_across_is_read_by_columns_with_prices() -> None:
    prices = numbers_row(["70", "70", "80", "80"], [48, 148, 248, 348], 1000 + 3.6 * PITCH_Y)
    columns, rest = read_columns([*BOARD, prices])
    assert sorted(line.text for line in columns) == ["叉燒飯 80", "排骨飯 70", "油雞飯 70",
                                                     "燒鴨飯 80"]
    assert rest == []
    blocks = group_blocks([*BOARD, prices])
    assert [block.text for block in blocks] == ["叉燒飯 80", "燒鴨飯 80", "油雞飯 70",
                                                "排骨飯 70"]
    assert all(block.vertical for block in blocks)


def test_horizontal_lines_with_line_spacing_stay_as_they_are() -> None:
    lines = [row("分开洗涤不宜长时间浸泡", 0, 1000, height=60),
             row("有钮扣或拉链的服饰先将", 0, 1000 + 1.6 * PITCH_X, height=60),
             row("钮扣或拉链扣好再熨烫衣", 0, 1000 + 3.2 * PITCH_X, height=60)]
    columns, rest = read_columns(lines)
    assert columns == [] and rest == lines


def test_closely_stacked_rows_without_repeats_stay_horizontal() -> None:
    lines = [row("三寶牛肉麵", 0, 1000), row("紅燒牛筋麵", 0, 1000 + PITCH_Y),
             row("酸辣湯餃子", 0, 1000 + 2 * PITCH_Y)]
    assert read_columns(lines)[0] == []


def test_lines_without_character_boxes_are_left_alone() -> None:
    plain = [TextLine(((0, 0), (300, 0), (300, 40), (0, 40)), "飯飯飯飯", 0.9)] * 3
    assert read_columns(plain) == ([], plain)


def test_a_price_row_with_numbers_no_column_takes_stays_whole() -> None:
    prices = numbers_row(["70", "70", "80", "80", "999"], [48, 148, 248, 348, 900],
                         1000 + 3.6 * PITCH_Y)
    columns, rest = read_columns([*BOARD, prices])
    assert len(columns) == 4
    assert rest == [prices]
