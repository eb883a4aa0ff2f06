"""Reading order: OCR lines → blocks, table-driven, no model."""

from __future__ import annotations

import pytest

from hudtranslate.vision.ocr import TextLine
from hudtranslate.vision.reading import group_blocks, join_pieces


def line(text: str, left: float, top: float, right: float, bottom: float,
         confidence: float = 0.99) -> TextLine:
    return TextLine(((left, top), (right, top), (right, bottom), (left, bottom)), text,
                    confidence)


@pytest.mark.parametrize(("pieces", "joined"), [
    (["魯肉飯", "30"], "魯肉飯 30"),
    (["本网点办", "理各类金融业务"], "本网点办理各类金融业务"),
    (["Yuyuan", "Rd."], "Yuyuan Rd."),
    (["打浦路", "15号"], "打浦路 15号"),
    (["", "白飯"], "白飯"),
])
def test_join_pieces(pieces: list[str], joined: str) -> None:
    assert join_pieces(pieces) == joined


def texts(lines: list[TextLine]) -> list[str]:
    return [block.text for block in group_blocks(lines)]


def test_a_dish_and_its_price_are_one_row_and_the_next_dish_starts_a_new_block() -> None:
    lines = [line("三寶牛肉麵", 100, 100, 300, 140), line("180", 320, 102, 370, 140),
             line("豬腳飯", 400, 100, 520, 140), line("90", 530, 100, 570, 140)]
    assert texts(lines) == ["三寶牛肉麵 180", "豬腳飯 90"]


def test_a_wrapped_paragraph_is_one_block() -> None:
    lines = [line("分开洗涤，不宜长时间浸泡，有", 100, 100, 400, 120),
             line("钮扣或拉链的服饰先将钮扣或拉链", 100, 124, 410, 144),
             line("扣好，熨烫时采用仅蒸汽熨烫。", 100, 148, 380, 168),
             line("常规干洗", 100, 172, 180, 192)]
    assert texts(lines) == [
        "分开洗涤，不宜长时间浸泡，有钮扣或拉链的服饰先将钮扣或拉链扣好，熨烫时采用仅蒸汽熨烫。",
        "常规干洗"]


@pytest.mark.parametrize("second", ["【品名】：纯臻营养护发素", "货号：B2390", "22元"])
def test_a_field_or_a_price_below_a_line_starts_its_own_block(second: str) -> None:
    lines = [line("适合所有肤质的温和配方产品", 100, 100, 400, 120),
             line(second, 100, 124, 390, 144)]
    assert len(group_blocks(lines)) == 2


def test_a_line_that_ends_with_a_number_is_not_wrapped() -> None:
    lines = [line("熨斗底板最高温度110℃", 100, 100, 400, 120), line("常规干洗", 100, 124, 180, 144)]
    assert texts(lines) == ["熨斗底板最高温度110℃", "常规干洗"]


def test_a_row_in_between_keeps_two_distant_rows_apart() -> None:
    lines = [line("上海斯格威铂尔大酒店", 33, 384, 492, 457),
             line("打浦路15号", 189, 442, 405, 493),
             line("绿洲仕格维花园公寓", 15, 482, 522, 557)]
    assert texts(lines) == ["上海斯格威铂尔大酒店", "打浦路15号", "绿洲仕格维花园公寓"]


def test_different_type_sizes_are_not_joined() -> None:
    lines = [line("愚园路", 174, 73, 474, 162), line("309", 513, 123, 571, 154)]
    assert texts(lines) == ["愚园路", "309"]


def test_bands_read_top_to_bottom_then_left_to_right() -> None:
    lines = [line("东", 510, 82, 565, 124), line("西", 88, 77, 141, 128),
             line("315", 77, 150, 135, 180)]
    assert texts(lines) == ["西", "东", "315"]


def test_vertical_columns_read_right_to_left_and_stay_whole() -> None:
    lines = [line("华南农业大学", 340, 297, 390, 663), line("土地整治研究中心", 287, 292, 353, 856)]
    blocks = group_blocks(lines)
    assert [block.text for block in blocks] == ["华南农业大学", "土地整治研究中心"]
    assert all(block.vertical for block in blocks)


def test_block_geometry_and_confidence_cover_its_lines() -> None:
    lines = [line("分开洗涤，不宜长时间浸泡，有", 100, 100, 400, 120, 0.9),
             line("钮扣或拉链的服饰先将钮扣", 102, 124, 390, 144, 0.6)]
    (block,) = group_blocks(lines)
    assert (block.left, block.top, block.right, block.bottom) == (100, 100, 400, 144)
    assert block.confidence == 0.6


def test_no_lines_no_blocks() -> None:
    assert group_blocks([]) == []
