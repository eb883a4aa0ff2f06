"""Clean-up of model output: caption English (zh→en), or Chinese for the other person (en→zh)."""

from __future__ import annotations

import re

from pypinyin import lazy_pinyin

from hudtranslate.asr.text import HANZI, normalize_chinese

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_HANZI = re.compile(HANZI.pattern + "+")
_LABEL = re.compile(r"^\s*(english|translation|english translation)\s*:\s*", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_FULLWIDTH = str.maketrans({"，": ",", "。": ".", "！": "!", "？": "?", "：": ":", "；": ";",
                            "“": '"', "”": '"', "‘": "'", "’": "'", "（": "(", "）": ")"})


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def romanize(match: re.Match[str]) -> str:
    """Chinese characters as capitalised pinyin: what a name copied through should read as."""
    return " " + "".join(lazy_pinyin(match.group(0))).capitalize()


def clean_translation(text: str) -> str:
    """Strip labels and wrapping quotes; Chinese the model copied through (usually a
    name) becomes pinyin, so the English line never shows characters the wearer can't read."""
    text = _LABEL.sub("", text.strip())
    text = text.translate(_FULLWIDTH)
    text = _HANZI.sub(romanize, text)
    text = _CJK.sub(" ", text)
    text = re.sub(r"\s+(['’]s\b|[,.!?;:])", r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text


_CHINESE_LABEL = re.compile(
    r"^\s*(?:(?:简体)?中文(?:翻译)?|译文|翻译(?:结果)?|chinese(?:\s+translation)?|translation)"
    r"\s*[:：]\s*", re.IGNORECASE)
_WRAPPING_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}


def clean_chinese(text: str) -> str:
    """Model output of an en→zh prompt as a line of Simplified Chinese: without a label
    ("翻译：", "Chinese:") or quotes around all of it, with Chinese punctuation next to
    Chinese text, no spaces between characters, loops cut and digit runs as Arabic digits
    (``asr.text.normalize_chinese``, the same rules as for recognised Mandarin).
    Characters are kept: unlike ``clean_translation``, Chinese is the point."""
    text = _CHINESE_LABEL.sub("", text.strip())
    if len(text) >= 2 and _WRAPPING_QUOTES.get(text[0]) == text[-1]:
        inner = text[1:-1]
        if text[0] not in inner and text[-1] not in inner:
            text = inner
    return normalize_chinese(text)


_PLAIN_WORD = re.compile(r"^[\"'“‘(]*([A-Za-z]+)(?:['’][A-Za-z]+)?[\"'”’),.!?;:…]*$")
_SENTENCE_END = (".", "!", "?", "…", ":", ";")
MIN_AVOIDED_LETTERS = 3
"""Shorter words (a, I, to, OK) are left alone: their tokens are pieces of everything."""


def english_words_to_avoid(source: str) -> list[str]:
    """Lower-case words of an English ``source`` that must not appear in its Chinese
    translation: every plain word of three letters or more, except those written with a
    capital inside a sentence (names, which may stay in Latin letters). A sentence's
    first word counts in lower case ("Anyone can …" must not give "anyone可以…"). Words
    glued to digits, dots or @ (addresses, codes, "B12") are not plain and are left
    alone, as they must be copied. Only the first line counts (not a "(Terms: …)" list).
    """
    words: dict[str, None] = {}
    starts_sentence = True
    for chunk in source.split("\n", 1)[0].split():
        plain = _PLAIN_WORD.match(chunk)
        if plain and len(plain.group(1)) >= MIN_AVOIDED_LETTERS:
            word = plain.group(1)
            if word.islower() or (starts_sentence and word[1:].islower()):
                words.setdefault(word.lower())
        starts_sentence = chunk.endswith(_SENTENCE_END)
    return list(words)


_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "no.", "vs.", "etc.", "jr.",
                            "sr.", "co.", "inc.", "ltd."})


def without_full_stop(english: str) -> str:
    """``english`` without the full stop that ends it, for the start of a sentence the
    speaker goes on with: the model ends each piece it is given as a sentence ("I think
    running is the most important thing."), and continuing after that period it starts
    another ("It gives me good health.") instead of finishing the one the Chinese says.
    A period that belongs to an abbreviation ("8 a.m.", "Mr.") stays; so do "?" and "!".
    A trailing ellipsis goes too: the model marks a piece that stops mid-clause as trailing
    off ("If I go back to my situation then..."), and after it starts a new sentence
    ("When I graduated…") where the speaker went on with the same one."""
    stripped = english.rstrip()
    trailing_off = stripped.rstrip(".…")
    if stripped.endswith(("..", "…")) and trailing_off.strip():
        return trailing_off.rstrip()
    if not stripped.endswith("."):
        return english
    last = stripped.split()[-1].lower()
    if last in _ABBREVIATIONS or "." in last[:-1].strip("\"'”’)"):
        return english
    return stripped[:-1]


_CLOSED_CLASS = frozenset((
    "a", "an", "the", "this", "that", "these", "those", "some", "any", "no", "every",
    "each", "all", "both", "either", "neither", "another", "it", "its", "we", "our", "you",
    "your", "he", "his", "him", "she", "her", "they", "their", "them", "one", "to", "of",
    "in", "on", "at", "by", "for", "from", "with", "without", "into", "onto", "about",
    "as", "than", "like", "after", "before", "since", "until", "while", "when", "where",
    "whether", "if", "because", "so", "and", "but", "or", "nor", "yet", "then", "though",
    "although", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does",
    "did", "have", "has", "had", "can", "could", "will", "would", "shall", "should", "may",
    "might", "must", "not", "there", "here", "what", "which", "who", "whom", "whose",
    "how", "why",
))
"""English words of closed classes (articles, pronouns but "I", prepositions, conjunctions,
auxiliaries): never a name, so one that starts a continuation can be lowercased safely."""

_CLAUSE_MARKS = tuple(",;:-–—")


def after_open_part(open_english: str, english: str, *, full_stop_back: bool) -> str:
    """``english`` (what follows the open sentence's English ``open_english``: the model's
    continuation of it, or a part translated alone) as it reads after it.

    After a clause mark the sentence goes on, though the model may start the rest with a
    capital: a closed-class first word is lowercased ("If possible," + "To see it…" →
    "to see it…"; a name or "I" keeps its capital). ``full_stop_back``: the model judged
    the open sentence complete and this part is in the same caption — after a bare word
    whose full stop ``without_full_stop`` took away, the stop comes back (". The next
    day…"; ``join_english`` attaches it). Leading spaces are kept.
    """
    body = english.lstrip()
    lead = english[: len(english) - len(body)]
    open_end = open_english.rstrip()[-1:]
    first, space, rest = body.partition(" ")
    if not body or not open_end:
        return english
    if open_end in _CLAUSE_MARKS:
        if first.lower().strip(",.;:!?'\"") in _CLOSED_CLASS and first[:1].isupper():
            return f"{lead}{first[:1].lower()}{first[1:]}{space}{rest}"
        return english
    if open_end.isalnum() and full_stop_back and body[:1].isupper():
        return f". {body}"
    return english
