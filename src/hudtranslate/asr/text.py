"""Mandarin text clean-up for Whisper output: Simplified characters, Chinese punctuation."""

from __future__ import annotations

import functools
import re

import opencc

SENTENCE_MARKS = "。！？!?"
"""Marks that end a sentence."""
CLAUSE_MARKS = "，、：；,:;"
"""Marks that end a clause (、 separates list items)."""
CUT_CLAUSE_MARKS = CLAUSE_MARKS.replace("、", "")
"""Clause marks a clause may be committed or made final at (not 、, between list items)."""
CLOSING_MARKS = "”’\"'）)》」』"
"""Marks that close a quotation or bracket: they belong to the sentence they end."""

_ASCII_TO_FULLWIDTH = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；"}
CJK_IDEOGRAPHS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""A regex character-class body: CJK unified ideographs, extension A, compatibility ideographs."""
HANZI = re.compile(f"[{CJK_IDEOGRAPHS}]")
"""One Chinese character (CJK unified ideographs, extension A, compatibility ideographs)."""
_SPACE_BETWEEN_CJK = re.compile(
    rf"(?<=[{CJK_IDEOGRAPHS}，。！？、：；])\s+(?=[{CJK_IDEOGRAPHS}，。！？、：；])")
_PUNCT_NEAR_CJK = re.compile(
    rf"(?<=[{CJK_IDEOGRAPHS}])\s*([,?!:;])|([,?!:;])\s*(?=[{CJK_IDEOGRAPHS}])")
_PERIOD_AFTER_CJK = re.compile(rf"(?<=[{CJK_IDEOGRAPHS}])\.(?!\d)")
_REPEATS = re.compile(r"(.{1,8}?)\1{3,}")
_PHRASE_REPEATS = re.compile(r"(.{4,24}?)\1+")
_DIGITS = {"零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "三": "3", "四": "4",
           "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_CLOCK_TIME = re.compile(
    r"\b(at\s+)(1[0-9]|2[0-3]|[1-9])([0-5][0-9])"
    r"(?=[.,!?;:](?!\d)|[，。！？；：]|\s+(?:[ap]\.?m\b|o'clock\b))", re.IGNORECASE)
_DIGIT_RUN = re.compile(f"[{''.join(_DIGITS)}]{{4,}}")


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("tw2s")


def to_simplified(text: str) -> str:
    """Whisper mixes Traditional and Simplified characters; the product shows Simplified
    (OpenCC's ``tw2s`` conversion, Apache-2.0). ``tw2s``, not ``t2s``: Whisper's
    Traditional follows Taiwan's usage, which writes the aspect particle 着 as 著 (带著,
    看著); ``t2s`` keeps 著 (it is also the Simplified character of 著名 "famous"), and
    ``tw2s`` tells them apart by the words around it. On every Chinese text of
    ``shared/data`` the two give the same result."""
    simplified: str = _converter().convert(text)
    return simplified


def normalize_chinese(text: str) -> str:
    """Simplify, use Chinese punctuation next to Chinese text, drop stray spaces and loops.

    Replacement characters (a character cut between byte-level tokens) are dropped.
    Four or more digits read one by one (phone numbers, years: 一三九一二三四…, 二零二五)
    become Arabic digits, which a small translator copies reliably; shorter runs stay, as
    they are usually words or ranges (一一, 三四个).

    Whisper sometimes loops on a syllable ("好好好好好好"); runs of four or more repeats of
    the same short unit are cut to one, which removes the loop but keeps real doubling (好好).
    A phrase of four or more characters said again at once ("运动过度不好运动过度不好", a
    decoder loop over a whole clause, or a speaker restarting) is kept once. English said
    to the Mandarin recogniser gets its times written as ``normalize_english`` does.
    """
    text = to_simplified(text.replace("\ufffd", "").strip())
    text = _PUNCT_NEAR_CJK.sub(lambda m: _ASCII_TO_FULLWIDTH[m.group(1) or m.group(2)], text)
    text = _PERIOD_AFTER_CJK.sub("。", text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _CLOCK_TIME.sub(r"\1\2:\3", text)  # English said in listen mode
    text = _REPEATS.sub(r"\1", text)
    text = _PHRASE_REPEATS.sub(_once_unless_digits, text)
    return arabic_digit_runs(text).strip()


def normalize_english(text: str) -> str:
    """Whisper's English as said: spaces collapsed, replacement characters dropped, and a
    syllable loop ("no no no no no") cut as in ``normalize_chinese``; the phrase rule is not
    applied, as English repeats short phrases on purpose ("very, very").

    A time said after "at" that Whisper wrote without its colon ("at 1045." for "at ten
    forty-five") is written with it ("at 10:45."), when a mark or "am"/"pm" follows: the
    translator had read "Platform 3 at 1045." as "1045号平台" (platform 3 lost)."""
    text = " ".join(text.replace("\ufffd", "").split())
    text = _CLOCK_TIME.sub(r"\1\2:\3", text)
    return _REPEATS.sub(r"\1", text).strip()


def _once_unless_digits(match: re.Match[str]) -> str:
    """A repeated phrase once; a repeated group of digits (a phone number) as it was."""
    unit = match.group(1)
    return match.group(0) if all(c.isdigit() or c in _DIGITS for c in unit) else unit


def arabic_digit_runs(text: str) -> str:
    """Four or more Chinese digits read one by one become Arabic digits."""
    return _DIGIT_RUN.sub(lambda m: "".join(_DIGITS[c] for c in m.group(0)), text)


def common_prefix(first: str, second: str) -> str:
    """Longest common prefix of two strings."""
    size = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        size += 1
    return first[:size]


def char_sounds(text: str) -> list[str]:
    """Toneless pinyin of each character of ``text``, one item per character (a
    character that is not Chinese stands for itself); each read alone, the same way for
    the terms and the text (``pypinyin.lazy_pinyin``)."""
    from pypinyin import lazy_pinyin

    return lazy_pinyin(list(text))
