"""Numbers written out for the voice: one row per shape of number, as it is said."""

from __future__ import annotations

import random
import re

import pytest

from hudtranslate.speech_out.numbers import spell_numbers, year

CASES = [
    # times
    ("The train leaves at 5:30 pm", "The train leaves at five thirty p m"),
    ("The train leaves at 5:30 p.m.", "The train leaves at five thirty p m."),
    ("at 5 p.m. and then", "at five p m and then"),
    ("We met at 10 am", "We met at ten a m"),
    ("at 17:05", "at seventeen oh five"),
    ("It is 12:00.", "It is twelve o'clock."),
    ("at 5.30 pm", "at five thirty p m"),
    ("09:15:30", "nine fifteen and thirty seconds"),
    # money
    ("It costs $12.99.", "It costs twelve dollars and ninety-nine cents."),
    ("268.5 yuan", "two hundred sixty-eight point five yuan"),
    ("¥99 each", "ninety-nine yuan each"),
    ("RMB 200", "two hundred yuan"),
    ("$1", "one dollar"),
    ("$0.50", "fifty cents"),
    ("$12.00", "twelve dollars"),
    ("£3.20", "three pounds and twenty pence"),
    ("€1,250", "one thousand two hundred fifty euros"),
    ("A $1.5 million deal", "A one point five million dollars deal"),
    ("$3bn", "three billion dollars"),
    # percentages, units, signs
    ("Prices rose 3.5%.", "Prices rose three point five percent."),
    ("down -3%", "down minus three percent"),
    ("It was -5°C", "It was minus five degrees Celsius"),
    ("12 km away", "twelve kilometers away"),
    ("1 kg", "one kilogram"),
    # dates and years
    ("She was born on May 5, 1998.", "She was born on May fifth, nineteen ninety-eight."),
    ("2024-05-01", "May first, twenty twenty-four"),
    ("Sept. 11, 2001", "September eleventh, two thousand one"),
    ("on the 21st of June", "on the twenty-first of June"),
    ("the 5 May meeting", "the fifth of May meeting"),
    ("March 2020", "March twenty twenty"),
    ("In 1850", "In eighteen fifty"),
    ("He said 2019 was hard", "He said twenty nineteen was hard"),
    ("the 1990s and the '80s", "the nineteen nineties and the eighties"),
    ("Pay 2000 yuan", "Pay two thousand yuan"),
    ("2024 people", "two thousand twenty-four people"),
    ("you may 5 times", "you may five times"),
    # phone numbers and codes, digit by digit
    ("Call 138-1234-5678.", "Call one three eight, one two three four, five six seven eight."),
    ("+86 10 8888 6666", "plus eight six, one zero, eight eight eight eight, six six six six"),
    ("(555) 123-4567", "five five five, one two three, four five six seven"),
    ("Dial 13812345678", "Dial one three eight one two three four five six seven eight"),
    ("code 007", "code zero zero seven"),
    # ordinals, fractions, ranges, plain numbers
    ("the 3rd floor", "the third floor"),
    ("2/3 of them", "two thirds of them"),
    ("1/2", "one half"),
    ("Open 24/7", "Open twenty-four seven"),
    ("5-10 minutes", "five to ten minutes"),
    ("from 5 - 10 people", "from five to ten people"),
    ("About 1,250 people", "About one thousand two hundred fifty people"),
    ("1,000,000", "one million"),
    ("0.75", "zero point seven five"),
    ("Room 301", "Room three hundred one"),
    ("gate #5", "gate number five"),
    ("COVID-19", "COVID-nineteen"),
    ("G20 summit", "G twenty summit"),
    ("no digits here, 5:30 is gone?", "no digits here, five thirty is gone?"),
]


@pytest.mark.parametrize(("text", "spoken"), CASES)
def test_spell_numbers(text: str, spoken: str) -> None:
    assert spell_numbers(text) == spoken


@pytest.mark.parametrize("text", [text for text, _ in CASES])
def test_no_digit_survives(text: str) -> None:
    assert not any(char.isdigit() for char in spell_numbers(text))


@pytest.mark.parametrize(("text", "spoken"), [
    # a decimal without its leading zero was said without its digit
    ("add .5 litres", "add point five litres"),
    (".5%", "point five percent"),
    ("-.5", "minus point five"),
    ("$.99", "ninety-nine cents"),
    # dotted numbers (versions, sections) came out as "one point two.3"
    ("1.2.3", "one point two point three"),
    ("see section 1.2.3.", "see section one point two point three."),
    ("v2.10.1 is out", "v two point ten point one is out"),
    # a colon that is no valid time was left in: "ten:seventy-five"
    ("10:75", "ten seventy-five"),
    ("at 25:00", "at twenty-five zero zero"),
    ("10:30:75", "ten thirty seventy-five"),
    ("12:345", "twelve three hundred forty-five"),
    ("won 3:1", "won three one"),
    ("1:2.5", "one two point five"),
    # beyond inflect's range it raised NumOutOfRangeError
    (",".join(["123"] * 12), " ".join(["one two three"] * 12)),
])
def test_numbers_the_voice_lost_or_broke(text: str, spoken: str) -> None:
    assert spell_numbers(text) == spoken


_PIECES = ("0", "1", "5", "07", "10", "12", "25", "59", "75", "99", "123", "1998", "2024",
           "12345", "1234567", ".", ":", ",", "-", "/", "%", "$", "¥", "#", "+", "(", ")",
           "'", " ", "  ", "am", "p.m.", "st", "th", "s", "km", "°C", "May", "in", "x", "v",
           "people", "-")


def _colons_between_digits(text: str) -> int:
    return len(re.findall(r"(?<=[0-9]):(?=[0-9])", text))


def test_no_digit_or_colon_between_digits_survives_any_mix() -> None:
    """Property: for 3000 random mixes of digits, separators, signs and units, no digit
    is left and every colon between digits is gone (read as a time or as numbers)."""
    rng = random.Random(20240501)
    for _ in range(3000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12)))
        spoken = spell_numbers(text)
        assert not any(char in "0123456789" for char in spoken), (text, spoken)
        assert spoken.count(":") <= text.count(":") - _colons_between_digits(text), (
            text, spoken)


def test_text_without_digits_is_unchanged() -> None:
    text = "  Nothing to say, twice.  "
    assert spell_numbers(text) is text


@pytest.mark.parametrize(("value", "spoken"), [
    (1998, "nineteen ninety-eight"), (1905, "nineteen oh five"), (1900, "nineteen hundred"),
    (2000, "two thousand"), (2007, "two thousand seven"), (2010, "twenty ten"),
    (2024, "twenty twenty-four"), (1100, "eleven hundred"),
])
def test_years(value: int, spoken: str) -> None:
    assert year(value) == spoken


def test_only_ascii_digits_are_numbers() -> None:
    """Other scripts' digits pass through untouched (the voice NFKC-normalises full-width
    digits before this runs; see test_speech_voice)."""
    assert spell_numbers("٣ and ２５ and 5") == "٣ and ２５ and five"
