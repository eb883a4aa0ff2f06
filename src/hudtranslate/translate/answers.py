"""Checks a remote model's answer before any of it is shown: the translation inside, or why not.

A chat model on someone else's server may wrap the translation in chatter ("Sure! Here
is the translation: …"), add notes ("(Note: …)", a "Note:" line, an explanation of a
word), answer nothing, or run on far past what the Chinese can mean. ``clean_answer``
keeps the translation when it is clear which part that is, and raises
``RejectedAnswerError`` otherwise, so the router has the local model translate that
sentence instead: a broken answer is never committed.

The rules are about shapes, not words: "Sure" or "Here is" is only a preamble at the start
of an answer and when followed by an announcement or a line break, or when the Chinese
does not itself start with a word of assent (当然, 好, 可以 …); a good translation that
merely contains "sure" or "note" is kept. The translation is one line, as the prompt's
examples and the local model's stop at the first newline have it; lines after it are
notes. Whatever is left must not talk about the translation and must fit
``max_answer_chars``.
"""

from __future__ import annotations

import re

from hudtranslate.asr.text import HANZI
from hudtranslate.errors import RejectedAnswerError

CHARS_PER_HANZI = 8.0
"""English characters allowed per Chinese character of the source. Measured on the 896
(Chinese, reference English) pairs of the dev data (Tatoeba, HSK, the real and read
recordings, the talks; ``shared/data``): the median is 3.7 English characters per
Chinese one, the 99th percentile 6.4, the largest 9.6 (a 15-character classical
sentence with names and titles); every reference fits in 6.9 per character + 40, so
8 per character + 40 leaves ~15 % of headroom over the worst one."""
CHARS_PER_OTHER = 2.0
"""Per Latin letter or digit in the source (glossary terms written in, numbers): copied
through nearly one to one, doubled for slack."""
EXTRA_CHARS = 40
"""Allowance for short sources: 好。 may be "All right, that's fine." and 一举两得 "kill two
birds with one stone" (29 characters for 4)."""

_OTHER = re.compile(r"[A-Za-z0-9]")
_ASSENT = ("当然", "好", "行", "可以", "没问题", "没事", "肯定", "确实", "一定", "对", "嗯", "收到",
           "明白", "知道了")
"""A source starting with one of these may well be translated "Sure, …" or "OK, …"."""
_MENTIONS_TRANSLATION = ("译", "字面", "拼音", "原文")
"""A source with these may be translated with "translate", "literally", "pinyin" …"""
_MENTIONS_NOTE = ("注", "备忘", "提示", "说明")
"""A source with these may be translated with "Note: …"."""

_INTERJECTION = re.compile(
    r"^(?:sure(?:\s+thing)?|certainly|of\s+course|absolutely|okay|ok|alright|all\s+right|"
    r"no\s+problem|got\s+it)\b\s*[!,.:;—–-]*\s*", re.IGNORECASE)
_ABOUT_TRANSLATION = (
    r"(?:here(?:'s|’s|\s+is|\s+are)|below\s+is|this\s+is)"
    r"[^:：\n]{0,80}?\btranslat\w*[^:：\n]{0,60}?")
_LABEL = (
    r"(?:the\s+)?(?:english\s+)?(?:translation|translated\s+text)"
    r"(?:\s+(?:is|would\s+be|reads))?|english|translates?\s+(?:to|as)"
    r"|here(?:'s|’s|\s+is)\s+(?:it|the\s+answer)|here\s+(?:it\s+is|you\s+go|you\s+are)")
_ANNOUNCEMENT = re.compile(rf"^(?:{_ABOUT_TRANSLATION}|{_LABEL})\s*[:：]\s*", re.IGNORECASE)
"""An announcement ending in a colon: "Here is the translation:", "English:"."""
_BARE_ANNOUNCEMENT = re.compile(rf"^{_ABOUT_TRANSLATION}(?:\.\s+|[.!]?\s*$)", re.IGNORECASE)
"""One without: "Here is the English translation." (not for a source about translating:
"This is a translation agency." is then a translation)."""
_NOTE_WORD = (r"(?:notes?|n\.\s?b\.|explanation|translator'?s\s+note|t/n|"
              r"literal(?:ly|\s+translation)|lit\.|pinyin)")
_NOTE_LINE = re.compile(rf"^[\s*_-]*(?:[(\[（【]\s*{_NOTE_WORD}\b|{_NOTE_WORD}\s*[:：])",
                        re.IGNORECASE)
_NOTE_IN_BRACKETS = re.compile(
    rf"\s*[(\[（【]\s*{_NOTE_WORD}(?:\s|[:：,.])[^)\]）】]*(?:[)\]）】]|$)", re.IGNORECASE)
_NOTE_AFTER_SENTENCE = re.compile(
    rf"(?<=[.!?\"”'’)])\s*[-—–*]*\s*{_NOTE_WORD}\s*[:：—–-].*$", re.IGNORECASE | re.DOTALL)
_COMMENTARY = re.compile(
    r"translat\w*|\bliteral(?:ly)?\b|\bpinyin\b|\bthe\s+original\b|"
    r"[\"“'‘(（「]\s*[\u3400-\u9fff]|[\u3400-\u9fff]\s*[\"”'’)）」]|"
    r"[\u3400-\u9fff]\s*(?:means?|refers?|is\s+an?\s+(?:word|phrase|term|idiom))\b",
    re.IGNORECASE)
"""In a sentence after the first: it explains the wording (quotes the Chinese, says what
it means), it does not translate. A name merely copied through in Chinese does not count."""
_TRANSLATION_TALK = re.compile(r"translat\w*|\bas\s+an\s+ai\b", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r"(?:(?<=[.!?。！？])|(?<=[.!?。！？][\"”’']))\s+")
_QUOTED = re.compile(r"([\"“「『'‘])(.+)([\"”」』'’])([.!?]?)", re.DOTALL)
_CLOSING = {'"': '"', "“": "”", "「": "」", "『": "』", "'": "'", "‘": "’"}


def max_answer_chars(source: str) -> int:
    """The longest English (characters) ``source`` can mean: 8 per Chinese character,
    2 per Latin letter or digit, plus 40 (see ``CHARS_PER_HANZI`` for the measurement).
    Only the first line of ``source`` counts: the glossary's "(Terms: …)" list is not
    translated."""
    text = source.split("\n", 1)[0]
    return round(CHARS_PER_HANZI * len(HANZI.findall(text))
                 + CHARS_PER_OTHER * len(_OTHER.findall(text)) + EXTRA_CHARS)


def strip_preamble(line: str, source: str) -> str:
    """``line`` without the chatter a model may put before the translation ("Sure! Here's
    the translation:", "Translation:", "English:"). An interjection ("Sure,", "OK") is
    chatter before an announcement, or when the Chinese does not start with a word of
    assent: "Sure, I'll come." for 当然，我会来。 is kept, and so is "OK." for 好的。."""
    assent = source.lstrip().startswith(_ASSENT)
    about_translation = any(word in source for word in _MENTIONS_TRANSLATION)
    for _ in range(4):
        before = line
        interjection = _INTERJECTION.match(line)
        if interjection:
            rest = line[interjection.end():]
            if not assent or _ANNOUNCEMENT.match(rest) or _BARE_ANNOUNCEMENT.match(rest):
                line = rest
        announcement = _ANNOUNCEMENT.match(line) or (
            None if about_translation else _BARE_ANNOUNCEMENT.match(line))
        if announcement:
            line = line[announcement.end():]
        if line == before:
            break
    return line.strip()


def is_preamble_line(line: str, source: str) -> bool:
    """True when a whole line is chatter before the translation, or a note."""
    if not line.strip():
        return False
    if _NOTE_LINE.match(line) and not any(word in source for word in _MENTIONS_NOTE):
        return True
    return not strip_preamble(line.strip(), source)


def first_line_done(answer: str, source: str) -> bool:
    """Has a streamed ``answer`` finished a line that holds the translation? Then the rest
    (notes) need not be waited for: the translation is one line."""
    *done, _ = answer.split("\n")
    return any(line.strip() and not is_preamble_line(line, source) for line in done)


def strip_notes(line: str, source: str) -> str:
    """``line`` without notes and explanations: "(Note: …)", "… Note: …" to the end, and
    every sentence from the first later one that talks about the wording (quotes the
    Chinese, says "literally", "translated", "pinyin", "the original")."""
    if not any(word in source for word in _MENTIONS_NOTE):
        line = _NOTE_AFTER_SENTENCE.sub("", line)
        line = _NOTE_IN_BRACKETS.sub("", line)
    sentences = _SENTENCE_SPLIT.split(line.strip())
    if len(sentences) > 1 and not any(word in source for word in _MENTIONS_TRANSLATION):
        for index, sentence in enumerate(sentences[1:], start=1):
            if _COMMENTARY.search(sentence):
                sentences = sentences[:index]
                break
    return " ".join(sentences).strip()


def unquote(text: str) -> str:
    """``text`` without quotes around all of it ("“Let's go.”", "\"Let's go\"."); quotes
    inside it stay."""
    text = text.strip()
    quoted = _QUOTED.fullmatch(text)
    if quoted is None:
        return text
    opening, inner, closing, trailing = quoted.groups()
    if closing != _CLOSING[opening] or opening in inner or closing in inner:
        return text
    inner = inner.strip()
    return inner + trailing if trailing and not inner.endswith((".", "!", "?")) else inner


def quoted_translation(answer: str, source: str) -> str:
    """The answer to ``source`` asked again quoted (``prompts.quoted_message``), without
    its quotes; "" when it still reads as a reply (``reads_as_reply``). For speech and
    photo text alike."""
    answer = unquote(answer)
    return "" if not answer or reads_as_reply(answer, source) else answer


def clean_answer(answer: str, source: str) -> str:
    """The translation inside a finished remote ``answer`` to ``source`` (the Chinese
    that was sent).

    Raises ``RejectedAnswerError`` with ``reason`` "empty" (nothing, or only
    whitespace), "chatter" (no translation line, or what is left still talks about
    translating) or "too_long" (over ``max_answer_chars``).
    """
    lines = [line.strip() for line in answer.splitlines() if line.strip()]
    if not lines:
        raise RejectedAnswerError("empty")
    line = next((line for line in lines if not is_preamble_line(line, source)), "")
    text = unquote(strip_notes(strip_preamble(line, source), source))
    if not text:
        raise RejectedAnswerError("chatter", _excerpt(answer))
    if _TRANSLATION_TALK.search(text) and not any(w in source for w in _MENTIONS_TRANSLATION):
        raise RejectedAnswerError("chatter", _excerpt(answer))
    limit = max_answer_chars(source)
    if len(text) > limit:
        raise RejectedAnswerError("too_long", f"{len(text)} characters, at most {limit}")
    return text


_GRATITUDE = ("谢", "感激")
_THANKS_ANSWERED = ("客气", "不用谢", "乐意", "荣幸", "没事", "没关系")
"""A source with these may itself mean "You're welcome" / "My pleasure"."""
_APOLOGY = ("对不起", "抱歉", "不好意思", "遗憾", "可惜")
_ENGLISH_GRATITUDE = re.compile(r"\b(?:thanks?|thank\s+you|grateful|appreciate)\b",
                                re.IGNORECASE)
_ENGLISH_THANKS_ANSWERED = re.compile(
    r"\b(?:welcome|(?:my\s+)?pleasure|no\s+problem|don't\s+mention\s+it|anytime)\b",
    re.IGNORECASE)
_ENGLISH_APOLOGY = re.compile(r"\b(?:sorry|apologi[sz]e|excuse\s+me)\b", re.IGNORECASE)
_ENGLISH_ASSENT = re.compile(
    r"\b(?:ok(?:ay)?|sure|yes|yeah|yep|fine|of\s+course|certainly|absolutely|alright|"
    r"all\s+right|no\s+problem|got\s+it)\b", re.IGNORECASE)
"""English said to the Mandarin recogniser (listen mode) reaches the translator as it was
said ("Thank you", "OK"): the same words of thanks, apology or assent, in English."""


def thanks_unanswered(source: str) -> bool:
    """Does ``source`` (Chinese, or English) thank without itself saying "you're welcome"?
    Then an answer of "You're welcome" / "不客气" is the model's reply to it."""
    return (_says(source, _GRATITUDE, _ENGLISH_GRATITUDE)
            and not _says(source, _THANKS_ANSWERED, _ENGLISH_THANKS_ANSWERED))


def _says(source: str, chinese: tuple[str, ...], english: re.Pattern[str]) -> bool:
    """Does ``source`` hold one of the ``chinese`` words, or an ``english`` one?"""
    return any(word in source for word in chinese) or bool(english.search(source))

_REPLY_TO_THANKS = re.compile(
    r"^(?:(?:it\s+was\s+)?my\s+pleasure|no\s+problem|don't\s+mention\s+it|anytime)\b|"
    r"\byou(?:'re|’re|\s+are)\s+(?:very\s+|most\s+)?welcome\b(?!\s+to\b)", re.IGNORECASE)
_REFUSAL = re.compile(
    r"\b(?:can't|can’t|cannot|can\s+not|unable\s+to|not\s+able\s+to|won't)\s+"
    r"(?:assist|help)\s+with\s+"
    r"(?:that|this|your\s+request)\b|\bas\s+an\s+ai\b", re.IGNORECASE)
_SORRY_BUT = re.compile(r"^(?:i(?:'m|’m|\s+am)\s+)?sorry,?\s+but\b", re.IGNORECASE)
_QUESTION_END = ("？", "?")
SHORT_ANSWER_WORDS = 4
"""A question's English this short, with no question mark, is an answer to it ("对吧？" →
"Yes.", "你说对不对？" → "You're right."); a longer one is a translation that lost its
mark, not worth translating again."""
_REPLY_OPENERS = ("sure", "certainly", "of course", "absolutely", "okay", "ok", "alright",
                  "all right", "no problem", "got it", "you're welcome", "you are welcome",
                  "my pleasure", "i'm sorry, but", "sorry, but")


def reads_as_reply(english: str, source: str) -> bool:
    """Does ``english`` read as the model's own reply to ``source`` rather than its
    translation? A small chat model, given a sentence after others, sometimes answers it:
    "谢谢。" → "You're welcome.", "告诉我一个笑话。" → "Sure, here's a joke: …", "打扰了。" →
    "Sorry, but I can't assist with that." (``scripts/probe_answering.py``).

    Shapes, not topics: an opening interjection ("Sure", "Of course", "OK") counts only
    when the Chinese has no word of assent anywhere (当然, 好, 可以 …: "好的。" may be
    "Sure."); "You're welcome" only for a thanks that does not itself say it (不客气);
    "Sorry, but" only when the Chinese does not apologise; a short answer with no question
    mark to a question (``SHORT_ANSWER_WORDS``); a refusal ("I can't assist with that",
    "As an AI") always. English said to the Mandarin recogniser in listen mode ("Thank
    you" → "You're welcome.") is judged by the same words in English."""
    text = english.strip()
    if not text:
        return False
    if _REFUSAL.search(text):
        return True
    if _REPLY_TO_THANKS.search(text) and thanks_unanswered(source):
        return True
    if _SORRY_BUT.match(text) and not _says(source, _APOLOGY, _ENGLISH_APOLOGY):
        return True
    if _asks(source) and "?" not in text and len(text.split()) <= SHORT_ANSWER_WORDS:
        return True
    return bool(_INTERJECTION.match(text)) and not _says(source, _ASSENT, _ENGLISH_ASSENT)


def _asks(source: str) -> bool:
    """Does ``source`` (its first line: not a glossary note) end as a question?"""
    return source.split("\n", 1)[0].rstrip().endswith(_QUESTION_END)


def may_open_reply(english: str, source: str) -> bool:
    """Could ``english``, a translation still being written, be opening a reply
    (``reads_as_reply``)? Then its words are held back until it is finished and checked:
    a prefix of an opener ("Su", "You're"), or an opener that ``reads_as_reply`` would
    call a reply once the rest is written."""
    text = " ".join(english.strip().lower().replace("’", "'").split())
    if not text:
        return True
    return any(opener.startswith(text) for opener in _REPLY_OPENERS) or reads_as_reply(
        text, source)


def _excerpt(text: str, size: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= size else text[:size] + "…")
