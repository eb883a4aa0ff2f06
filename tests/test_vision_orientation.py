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


def test_confident_text_outscores_a_longer_run_of_guesses() -> None:
    assert reading_score([_line("禁止吸烟", 0.95)]) > reading_score([_line("禁止吸烟吸烟", 0.6)])
    assert reading_score([_line("禁止吸烟")]) == reading_score([_line("禁止吸烟", vertical=True)])


class TurnedOcr:
    """Reads ``readings[turn]``, the turn (counter-clockwise) told by where the photo's
    marked corner has gone; records the turns it was shown."""

    def __init__(self, readings: dict[int, list[TextLine]], *, unread_regions: int = 2) -> None:
        self.readings = readings
        self.unread_regions = unread_regions
        """Regions the detector finds besides the lines read (read with low scores)."""
        self.turns: list[int] = []

    def read_regions(self, image: Image.Image,
                     scale: float = 1.0) -> tuple[list[TextLine], int]:
        right, bottom = image.width - 1, image.height - 1
        corners = {(0, 0): 0, (0, bottom): 90, (right, bottom): 180, (right, 0): 270}
        turn = next(turn for corner, turn in corners.items() if image.getpixel(corner) != 0)
        self.turns.append(turn)
        lines = self.readings.get(turn, [])
        return lines, len(lines) + self.unread_regions


def _photo() -> Image.Image:
    """30×10, its top-left corner marked."""
    image = Image.new("L", (30, 10))
    image.putpixel((0, 0), 255)
    return image


def test_a_confident_reading_is_kept_without_more_passes() -> None:
    ocr = TurnedOcr({0: [_line("禁止吸烟")]})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert (reading.turned_deg, ocr.turns) == (0, [0])


def test_a_sideways_photo_is_read_turned_and_stops_at_a_good_reading() -> None:
    ocr = TurnedOcr({0: [_line("吸烟", 0.6)], 90: [_line("禁止吸烟")]})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert reading.turned_deg == 90
    assert reading.image.size == (10, 30)
    assert [line.text for line in reading.lines] == ["禁止吸烟"]
    assert ocr.turns == [0, 90]             # 270° and 180° were not tried


def test_an_upside_down_photo_is_read_in_rows_not_in_columns() -> None:
    """Turned by 90° its lines read as columns, by 270° as rows: the same text, and the
    rows are the photo upright."""
    ocr = TurnedOcr({0: [_line("烟吸", 0.5)], 90: [_line("禁止吸烟", vertical=True)],
                     270: [_line("禁止吸烟")]})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert (reading.turned_deg, ocr.turns) == (270, [0, 90, 270])


def test_a_tie_keeps_the_photo_as_taken() -> None:
    column = [_line("一二三四五", vertical=True)]
    ocr = TurnedOcr({turn: column for turn in (0, 90, 180, 270)})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert reading.turned_deg == 0
    assert ocr.turns == [0, 90, 270, 180]   # every turn tried, none better


def test_a_vertical_sign_stays_as_taken_after_one_more_pass() -> None:
    """Its columns read the same turned into rows: a tie, and that reading is good."""
    ocr = TurnedOcr({0: [_line("一二三四五", vertical=True)], 90: [_line("一二三四五")]})
    reading = read_upright(ocr, _photo(), 1600)  # type: ignore[arg-type]
    assert (reading.turned_deg, ocr.turns) == (0, [0, 90])


@pytest.mark.parametrize(("turn_when_empty", "turns"), [(True, [0, 90, 270, 180]),
                                                          (False, [0])])
def test_a_photo_whose_text_regions_read_nothing_is_turned_only_when_asked(
        turn_when_empty: bool, turns: list[int]) -> None:
    ocr = TurnedOcr({})
    reading = read_upright(ocr, _photo(), 1600,  # type: ignore[arg-type]
                           turn_when_empty=turn_when_empty)
    assert (reading.turned_deg, ocr.turns) == (0, turns)


@pytest.mark.parametrize("turn_when_empty", [True, False])
def test_a_photo_where_no_text_region_was_found_is_read_once(turn_when_empty: bool) -> None:
    """Turning makes no text of a picture without any (a blank wall, a blurred scene):
    a single ``look`` at it pays one pass, not four."""
    ocr = TurnedOcr({}, unread_regions=0)
    reading = read_upright(ocr, _photo(), 1600,  # type: ignore[arg-type]
                           turn_when_empty=turn_when_empty)
    assert (reading.turned_deg, reading.lines, ocr.turns) == (0, [], [0])


def test_turns_can_be_switched_off() -> None:
    ocr = TurnedOcr({})
    reading: Any = read_upright(ocr, _photo(), 1600, try_turns=False)  # type: ignore[arg-type]
    assert (reading.turned_deg, ocr.turns) == (0, [0])
