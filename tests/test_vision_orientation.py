"""Which reading of a photo wins when its text may lie sideways (``vision.orientation``):
the policy, with a fake OCR engine that reads by how far the photo was turned."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from hudtranslate.vision.ocr import Quad, TextLine
from hudtranslate.vision.orientation import doubtful, read_upright, reading_score


def _line(text: str, confidence: float = 0.99, *, vertical: bool = False) -> TextLine:
    width, height = (20, 20 * len(text)) if vertical else (20 * len(text), 20)
    quad: Quad = ((0, 0), (width, 0), (width, height), (0, height))
    return TextLine(quad, text, confidence)


@pytest.mark.parametrize(("lines", "expected"), [
    ([], True),                                                    # nothing read
    ([_line("禁止吸烟"), _line("出口")], False),                     # upright, confident
    ([_line("禁止吸烟", 0.6), _line("出口", 0.7)], True),            # low scores
    ([_line("禁止吸烟", vertical=True), _line("出口")], True),       # mostly columns
    ([_line("禁止", vertical=True), _line("出口在右边走")], False),   # a column among rows
    ([_line("牛肉面二十五元", 0.9), _line("茶", 0.6)], False),       # weighted by characters
])
def test_doubtful_readings(lines: list[TextLine], expected: bool) -> None:
    assert doubtful(lines) is expected


def test_rows_outscore_the_same_text_in_columns() -> None:
    assert reading_score([_line("禁止吸烟")]) > reading_score([_line("禁止吸烟", vertical=True)])
    assert reading_score([_line("禁止吸烟", 0.95)]) > reading_score([_line("禁止吸烟吸烟", 0.6)])


class TurnedOcr:
    """Reads the photo's width as the turn it is at: ``readings[width]``."""

    def __init__(self, readings: dict[int, list[TextLine]]) -> None:
        self.readings = readings
        self.widths: list[int] = []

    def read(self, image: Image.Image, scale: float = 1.0) -> list[TextLine]:
        self.widths.append(image.width)
        return self.readings.get(image.width, [])


def _photo() -> Image.Image:
    return Image.new("RGB", (30, 10))   # turned by 90°/270° it is 10 wide


def test_a_confident_reading_is_kept_without_more_passes() -> None:
    ocr = TurnedOcr({30: [_line("禁止吸烟")]})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert (reading.turned_deg, ocr.widths) == (0, [30])


def test_a_sideways_photo_is_read_turned_and_stops_at_a_good_reading() -> None:
    ocr = TurnedOcr({30: [_line("吸烟", 0.6)], 10: [_line("禁止吸烟")]})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert reading.turned_deg == 90
    assert reading.image.size == (10, 30)
    assert [line.text for line in reading.lines] == ["禁止吸烟"]
    assert ocr.widths == [30, 10]           # 270° and 180° were not tried


def test_a_tie_keeps_the_photo_as_taken() -> None:
    column = [_line("一二三四五", vertical=True)]
    ocr = TurnedOcr({30: column, 10: [_line("一二三四五", vertical=True)]})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert reading.turned_deg == 0
    assert ocr.widths == [30, 10, 10, 30]   # every turn tried, none better


def test_turns_can_be_switched_off() -> None:
    ocr = TurnedOcr({})
    reading: Any = read_upright(ocr, _photo(), 1600, try_turns=False)  # type: ignore[arg-type]
    assert (reading.turned_deg, ocr.widths) == (0, [30])
