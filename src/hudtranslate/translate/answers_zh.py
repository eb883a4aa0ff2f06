"""Checks a remote model's *Chinese* answer (en→zh prompt sets) before any of it is shown.

The same idea as ``answers`` (which checks English answers to Chinese sources), for the
other direction: a chat model asked to put the wearer's English into Chinese may still
wrap it in chatter ("好的，以下是翻译：", "Sure! Here's the Chinese translation:"), add
notes ("（注：…）", a "注：" or "Note:" line, a sentence about the wording), answer in
English (it answered or copied the sentence instead of translating it), or run on.
``clean_chinese_answer`` keeps the translation when it is clear which part that is, and
raises ``RejectedAnswerError`` otherwise, so the router has the local model translate
that sentence with the same prompt set.

The rules are about shapes: "好的" or "Sure" is chatter only at the start of an answer and
only when followed by an announcement, or when the English does not itself start with a
word of assent (OK, sure, yes …); the translation is the first line that is not chatter
or a note; Chinese sentences after the first that talk about the translation or the
wording (翻译, 直译, 原文, 意思是 …) are notes, unless the English speaks of such things.
"""

from __future__ import annotations

import re

from hudtranslate.asr.text import HANZI
from hudtranslate.errors import RejectedAnswerError
from hudtranslate.translate.answers import thanks_unanswered
from hudtranslate.translate.text import clean_chinese

HANZI_PER_CHAR = 0.8
"""Chinese characters allowed per character of the English source. Measured on the 865
(Chinese, first English reference) pairs of the dev data (Tatoeba, HSK, the recordings
and talks in ``shared/data``): the median is 0.31 Chinese characters per English one, the
99th percentile 0.53, the largest 0.59; names and numbers copied through are one to
one, so 0.8 leaves room for both."""
EXTRA_HANZI = 20
"""Allowance for short sources and for a drafted message's polite frame ("不好意思，…
谢谢！", ~8 characters): "OK." may well be "好的，没问题。"."""

_LOWERCASE_WORD = re.compile(r"(?<![A-Za-z])[a-z]{2,}(?![A-Za-z])")
_SOURCE_ASSENT = re.compile(
    r"^\W*(?:sure|ok|okay|yes|yeah|yep|well|of\s+course|certainly|absolutely|all\s+right|alright|"
    r"fine|no\s+problem|good|great|right|got\s+it)\b", re.IGNORECASE)
"""An English source starting with one of these may well be translated "好的，…"."""
_SOURCE_ABOUT_WORDING = re.compile(
    r"translat|interpret|\bmean|\bliteral|\benglish\b|\bchinese\b|\bmandarin\b|\boriginal\b|"
    r"\bpinyin\b|\bnote", re.IGNORECASE)
"""An English source with these may be translated with 翻译, 意思, 原文, 注 …"""

_INTERJECTION = re.compile(
    r"^(?:好的|好|当然(?:可以)?|没问题|可以|行|sure(?:\s+thing)?|certainly|of\s+course|"
    r"absolutely|okay|ok|alright|all\s+right|no\s+problem|got\s+it)"
    r"(?=[\s!！,，.。:：;；—–-]|$)[\s!！,，.。:：;；—–-]*", re.IGNORECASE)
_ANNOUNCEMENT = re.compile(
    r"^(?:(?:以下|下面|这)(?:就)?是[^:：\n]{0,30}?(?:翻译|译文|中文)[^:：\n]{0,20}?"
    r"|(?:简体)?中文(?:翻译|译文)?(?:是|为|如下)?|译文(?:是|为|如下)?|翻译(?:结果)?(?:是|为|如下)?"
    r"|(?:here(?:'s|’s|\s+is|\s+are)|below\s+is|this\s+is)[^:：\n]{0,80}?"
    r"(?:\btranslat\w*|\bchinese\b|\bmandarin\b)[^:：\n]{0,60}?"
    r"|(?:the\s+)?(?:(?:simplified\s+)?chinese\s+|mandarin\s+)?(?:translation|translated\s+text)"
    r"(?:\s+(?:is|would\s+be|reads))?|(?:in\s+)?(?:simplified\s+)?(?:chinese|mandarin))"
    r"\s*[:：]\s*", re.IGNORECASE)
"""An announcement ending in a colon: "以下是翻译：", "中文：", "Here's the Chinese:"."""
_BARE_ANNOUNCEMENT = re.compile(
    r"^(?:(?:以下|下面|这)(?:就)?是[^。\n]{0,30}?(?:翻译|译文)(?:如下)?"
    r"|(?:here(?:'s|’s|\s+is|\s+are)|below\s+is|this\s+is)[^\n]{0,80}?\btranslat\w*[^\n]{0,60}?)"
    r"\s*[。.!！]?\s*$", re.IGNORECASE)
"""A whole line that announces without a colon: "以下是翻译。", "Here is the translation."."""
_NOTE_WORD = (r"(?:注|注意|注释|备注|说明|解释|拼音|直译|意译|notes?|n\.\s?b\.|explanation|"
              r"translator'?s\s+note|t/n|literal(?:ly|\s+translation)?|lit\.|pinyin)")
_NOTE_LINE = re.compile(rf"^[\s*_-]*(?:[(\[（【]\s*{_NOTE_WORD}|{_NOTE_WORD}\s*[:：])",
                        re.IGNORECASE)
_NOTE_IN_BRACKETS = re.compile(
    rf"\s*[(\[（【]\s*{_NOTE_WORD}\s*[:：,，.\s][^)\]）】]*(?:[)\]）】]|$)", re.IGNORECASE)
_NOTE_AFTER_SENTENCE = re.compile(
    rf"(?<=[。！？.!?”\"）)])\s*[-—–*]*\s*{_NOTE_WORD}\s*[:：].*$", re.IGNORECASE | re.DOTALL)
_COMMENTARY = re.compile(
    r"翻译|译文|直译|意译|原文|原句|英文|英语|意思是|指的是|"
    r"translat\w*|\bliteral(?:ly)?\b|\bpinyin\b|\bas\s+an\s+ai\b|作为(?:一个)?(?:AI|人工智能)",
    re.IGNORECASE)
"""In a sentence after the first: it talks about the translation or the wording."""
_TRANSLATION_TALK = re.compile(
    r"翻译|译文|translat\w*|\bas\s+an\s+ai\b|作为(?:一个)?(?:AI|人工智能)", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r"(?<=[。！？!?])(?![”’\"'」』）)])\s*|(?<=[。！？!?][”’\"'」』])\s*")


_CHINESE_REPLY_TO_THANKS = re.compile(
    r"^\W*(?:不客气|不用客气|别客气|不用谢|不谢|没关系|没事|乐意效劳|我的荣幸|很高兴(?:能)?帮)")


def reads_as_chinese_reply(chinese: str, english: str) -> bool:
    """Does ``chinese`` read as the model's reply to the English ``english`` rather than
    its translation? Qwen 1.5B answers the wearer's "Thank you." with "不客气。" (You're
    welcome), with or without context; a thanks that itself says "you're welcome" may
    well be translated so (``answers.thanks_unanswered``)."""
    return bool(_CHINESE_REPLY_TO_THANKS.match(chinese)) and thanks_unanswered(english)


def max_chinese_answer_chars(source: str) -> int:
    """The longest Chinese (characters) the English ``source`` can mean: 0.8 per source
    character plus 20 (see ``HANZI_PER_CHAR``). Only the first line of ``source`` counts:
    a glossary's "(Terms: …)" list is not translated."""
    text = source.split("\n", 1)[0].strip()
    return round(HANZI_PER_CHAR * len(text) + EXTRA_HANZI)


def strip_chinese_preamble(line: str, source: str) -> str:
    """``line`` without chatter before the translation ("好的，以下是翻译：", "Sure! Here's
    the Chinese translation:", "中文："). An interjection ("好的，", "Sure,") is chatter
    before an announcement, or when the English does not start with a word of assent:
    "好的，我马上来。" for "OK, I'm coming." is kept."""
    assent = bool(_SOURCE_ASSENT.match(source))
    for _ in range(4):
        before = line
        interjection = _INTERJECTION.match(line)
        if interjection:
            rest = line[interjection.end():]
            if not assent or _ANNOUNCEMENT.match(rest) or _BARE_ANNOUNCEMENT.match(rest):
                line = rest
        announcement = _ANNOUNCEMENT.match(line) or _BARE_ANNOUNCEMENT.match(line)
        if announcement:
            line = line[announcement.end():]
        if line == before:
            break
    return line.strip()


def is_chinese_preamble_line(line: str, source: str) -> bool:
    """True when a whole line is chatter before the translation, or a note."""
    if not line.strip():
        return False
    if _NOTE_LINE.match(line) and not _SOURCE_ABOUT_WORDING.search(source):
        return True
    return not strip_chinese_preamble(line.strip(), source)


def chinese_first_line_done(answer: str, source: str) -> bool:
    """Has a streamed ``answer`` finished a line that holds the translation? Then the rest
    (notes) need not be waited for."""
    *done, _ = answer.split("\n")
    return any(line.strip() and not is_chinese_preamble_line(line, source) for line in done)


def strip_chinese_notes(line: str, source: str) -> str:
    """``line`` without notes: "（注：…）", "… 注：…" to the end, and every sentence from the
    first later one that talks about the translation or the wording."""
    if _SOURCE_ABOUT_WORDING.search(source):
        return line.strip()
    line = _NOTE_AFTER_SENTENCE.sub("", line)
    line = _NOTE_IN_BRACKETS.sub("", line)
    sentences = [part for part in _SENTENCE_SPLIT.split(line.strip()) if part]
    for index, sentence in enumerate(sentences[1:], start=1):
        if _COMMENTARY.search(sentence):
            sentences = sentences[:index]
            break
    return "".join(sentences).strip()


def clean_chinese_answer(answer: str, source: str) -> str:
    """The Chinese translation inside a finished remote ``answer`` to the English
    ``source`` that was sent, cleaned like local output (``text.clean_chinese``).

    Raises ``RejectedAnswerError`` with ``reason`` "empty", "chatter" (no translation
    line, or what is left talks about translating), "not_chinese" (no Chinese character
    but English words: the model answered or copied the sentence instead of translating
    it) or "too_long" (over ``max_chinese_answer_chars``).
    """
    lines = [line.strip() for line in answer.splitlines() if line.strip()]
    if not lines:
        raise RejectedAnswerError("empty")
    line = next((line for line in lines if not is_chinese_preamble_line(line, source)), "")
    text = clean_chinese(strip_chinese_notes(strip_chinese_preamble(line, source), source))
    if not text:
        raise RejectedAnswerError("chatter", _excerpt(answer))
    if _TRANSLATION_TALK.search(text) and not _SOURCE_ABOUT_WORDING.search(source):
        raise RejectedAnswerError("chatter", _excerpt(answer))
    if not HANZI.search(text) and _LOWERCASE_WORD.search(text):
        raise RejectedAnswerError("not_chinese", _excerpt(answer))
    limit = max_chinese_answer_chars(source)
    if len(text) > limit:
        raise RejectedAnswerError("too_long", f"{len(text)} characters, at most {limit}")
    return text


def _excerpt(text: str, size: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= size else text[:size] + "…")
