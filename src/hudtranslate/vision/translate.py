"""English for the blocks of a photo, through the shared translation backend.

Each block is one user turn with the photo prompt (``translate.prompts.PHOTO_TEXT``); the
blocks already translated from the same photo are the context, so the prompt grows
append-only and llama.cpp evaluates only each new block. What needs no model is not sent
to it: text without Chinese stays as printed, and a price at the end of an item is cut
off before and put back after (so it can never be changed). Traditional characters are
converted for the model only. Chinese the model copied into its answer is glossed from
CC-CEDICT where the dictionary knows the word, else written in pinyin. Street names get
pinyin terms (the model otherwise invents a famous road), and the session glossary applies.
"""

from __future__ import annotations

import calendar
import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pypinyin import lazy_pinyin

from hudtranslate.asr.text import to_simplified
from hudtranslate.translate.answers import quoted_translation, reads_as_reply
from hudtranslate.translate.glossary import Glossary, gloss_chinese, replace_copied_terms
from hudtranslate.translate.prompts import NUMBERS_NOTE, PHOTO_TEXT, quoted_message, user_message
from hudtranslate.translate.text import clean_translation
from hudtranslate.translate.translator import BatchTranslationBackend, TranslationBackend

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"\d+(?:[.:/\-]\d+)*")
_CONTEXT_WINDOW = 6
"""Blocks of context at most; the window restarts (instead of sliding) so the prompt
prefix stays the same for several blocks and llama.cpp keeps reusing it."""
BATCH = 16
"""Blocks the local model writes side by side after the first, by default
(``VisionOptions.batch_blocks``, ``translate/llama_batch.py``): on 2 cores a decode step
for 16 costs about what 8 cost, and one prefill of all their turns less than several."""
_CACHE_SIZE = 512
"""Blocks remembered across photos: a camera sees the same sign again and again."""

_TRAILING_PRICE = re.compile(
    r"^(?P<item>.*[\u3400-\u9fff\uf900-\ufaff)）])\s*"
    r"(?P<price>[¥￥$]?\s*\d+(?:\.\d+)?\s*(?:元|块)?)$")
_STREET = re.compile(
    r"(?:(?<=^)|(?<=[市区區县縣镇鎮：:\s]))"
    r"(?P<name>[\u4e00-\u9fff]{2}?)(?P<direction>[东西南北中]?)(?P<kind>大道|大街|路|街)"
    r"(?=$|[\d一二三四五六七八九十]|[段号號巷弄，,\s])")
_TERMS_ECHO = re.compile(r"\s*\(Terms:[^)]*\)?\s*$")
"""The model sometimes copies the glossary note of the message into its answer."""
_PRICE_ONLY = re.compile(r"^\s*[¥￥]?\s*(?P<amount>\d+(?:\.\d+)?)\s*[元块]\s*$")
"""A bare price ("￥53.0元", "20元") is written out, not sent to a model that would turn
53.0 into 53.00."""
_DATE = re.compile(r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]")
"""A printed date is written as digits for the model (2018年04月19日 → 2018-04-19), so
its numbers come through as printed instead of as "April 19"."""
_ISO_DATE = re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)")
_STREET_KIND = {"路": "Road", "街": "Street", "大道": "Avenue", "大街": "Street"}
_DIRECTION = {"东": "East", "西": "West", "南": "South", "北": "North", "中": "Middle"}


def street_terms(text: str) -> list[tuple[str, str]]:
    """Street names in ``text`` with their pinyin English: ``愚园路`` → ``Yuyuan Road``,
    ``南京西路`` → ``Nanjing West Road``. Only where the name stands as an address (at the
    start, after a city or district, before a number), so 马路 in a sentence is left alone."""
    terms = []
    for match in _STREET.finditer(text):
        name = "".join(lazy_pinyin(match.group("name"))).capitalize()
        parts = [name, _DIRECTION.get(match.group("direction"), ""),
                 _STREET_KIND[match.group("kind")]]
        terms.append((match.group(0), " ".join(part for part in parts if part)))
    return terms


def _english(answer: str, request: _Request) -> str:
    """The model's answer as card English: glossary terms restored, an echoed terms note
    dropped, copied Chinese glossed or romanised, dates as printed, ℃ as °C (the HUD font
    has no ℃)."""
    answer = replace_copied_terms(_TERMS_ECHO.sub("", answer), request.terms)
    english = clean_translation(gloss_chinese(answer)).replace("℃", "°C")
    source = request.simplified
    return restore_printed_periods(restore_printed_codes(restore_printed_dates(
        english, source), source), source)


def printed_dates_as_digits(text: str) -> str:
    """``2018年04月19日10:51开`` → ``2018-04-19 10:51开``: the date in digits, apart from
    a time printed right after it."""
    def digits(match: re.Match[str]) -> str:
        apart = " " if text[match.end() : match.end() + 1].isdigit() else ""
        return f"{match['year']}-{match['month']}-{match['day']}{apart}"

    return _DATE.sub(digits, text)


def restore_printed_dates(english: str, source: str) -> str:
    """Dates of ``source`` as the model was given them (``2018-04-19``, see ``_DATE``) that
    it wrote out in words ("April 19, 2018", "19th April 2018", "Apr. 19, 2018"), put back
    as printed: a date on a ticket or a label is read against the paper."""
    for match in _ISO_DATE.finditer(source):
        month, day, year = int(match.group("month")), int(match.group("day")), match.group("year")
        if not 1 <= month <= 12:
            continue
        months = rf"(?:{calendar.month_name[month]}|{calendar.month_abbr[month]}\.?)"
        ordinal = rf"0?{day}(?:st|nd|rd|th)?"
        written = (rf"\b(?:{months}\s+{ordinal},?\s+{year}"
                   rf"|{ordinal}\s+(?:of\s+)?{months},?\s+{year})\b")
        english = re.sub(written, match.group(0), english, flags=re.IGNORECASE)
    return english


_PERIOD_RANGE = re.compile(
    r"(?P<period>上午|早上|早晨|中午|下午|傍晚|晚上)\s*(?P<first>\d{1,2})(?::\d{2}|点钟?|时)?\s*"
    r"[~～\-—–至到]\s*(?P<second>\d{1,2}(?::\d{2})?)(?![\d:])")
_PERIOD_AFTER = {"上午": "AM", "早上": "AM", "早晨": "AM", "中午": "PM", "下午": "PM",
                 "傍晚": "PM", "晚上": "PM"}


def restore_printed_periods(english: str, source: str) -> str:
    """A time range printed under one period word ("下午4:00~9:30", afternoon 4 to 9:30)
    whose end the model wrote in the other half of the day ("4:00 PM to 9:30 AM"): the end
    is put in the printed period when it is later on the clock than the start (a range
    past midnight, "晚上10:00~2:00", keeps the model's "2:00 AM")."""
    for match in _PERIOD_RANGE.finditer(source):
        first, second = int(match.group("first")), match.group("second")
        hour = int(second.split(":")[0])
        if not first < hour <= 12:
            continue
        wanted = _PERIOD_AFTER[match.group("period")]
        other = "AM" if wanted == "PM" else "PM"
        english = re.sub(rf"(?<![\d:]){re.escape(second)}\s*{other}\b",
                         f"{second} {wanted}", english, flags=re.IGNORECASE)
    return english


_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9/.\-]*[A-Za-z])(?=[A-Za-z0-9/.\-]*[0-9])"
                   r"[A-Za-z0-9](?:[A-Za-z0-9/.\-]*[A-Za-z0-9])?(?![A-Za-z0-9])")
MIN_CODE_CHARS = 4


def restore_printed_codes(english: str, source: str) -> str:
    """Codes of ``source`` (letters and digits together, ≥ 4 characters: standard numbers
    "GB18401-2010", article numbers "B2390") as printed: the model copies them but
    sometimes spaces them out ("GB 18401-2010", "FZ/T 73025 - 2006"), and a wearer reads a
    code against the label. Only a spaced-out copy is mended; a code the model left out or
    changed stays as the model wrote it."""
    for code in dict.fromkeys(match.group(0) for match in _CODE.finditer(source)):
        if len(code) < MIN_CODE_CHARS or code in english:
            continue
        spaced = r"\s?".join(re.escape(char) for char in code)
        english = re.sub(rf"(?<![A-Za-z0-9]){spaced}(?![A-Za-z0-9])", code, english, count=1)
    return english


def number_runs(text: str) -> list[str]:
    """Digit runs as printed (``"¥53.0元"`` → ``["53.0"]``, ``"027-88852022"`` whole)."""
    return _NUMBER.findall(unicodedata.normalize("NFKC", text))


def kept(number: str, english: str) -> bool:
    """Is ``number`` in ``english`` with its digits intact (thousands commas aside)?"""
    squeezed = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", unicodedata.normalize("NFKC", english))
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", squeezed) is not None


def needs_translation(text: str) -> bool:
    """Does ``text`` hold Chinese characters? (English, numbers and codes stay as printed.)"""
    return bool(re.search(r"[\u3400-\u9fff\uf900-\ufaff]", text))


class SceneTranslator:
    """Translates photo text blocks with a shared backend; remembers recent blocks."""

    def __init__(self, backend: TranslationBackend, glossary: Glossary | None = None, *,
                 max_new_tokens: int = 160, batch: int = BATCH) -> None:
        self.backend = backend
        self.batch = batch
        self.glossary = glossary or Glossary({})
        self.max_new_tokens = max_new_tokens
        self._cache: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def translate_blocks(self, texts: Sequence[str],
                         on_block: Callable[[int, str, str], None] | None = None,
                         cancelled: Callable[[], bool] = lambda: False,
                         ) -> list[tuple[str, str]]:
        """(English, model name) for each text, in order; ``on_block(index, english,
        model)`` as each one is ready, in order. A cancelled run returns what was done so
        far.

        The first block the model translates goes alone (the first English line shows
        soonest). With a backend that can decode several completions together
        (``translate_batch``: the local model), the rest go in groups of ``batch`` of
        similar length after that first block's turn, a text that repeats (a column of
        特价) asked once; otherwise one by one, each after the blocks before it.
        """
        context: list[tuple[str, str]] = []
        results: list[tuple[str, str] | None] = [None] * len(texts)
        shown = 0

        def show() -> None:
            nonlocal shown
            while shown < len(texts) and (result := results[shown]) is not None:
                if on_block is not None:
                    on_block(shown, *result)
                shown += 1

        batched = self.batch > 1 and isinstance(self.backend, BatchTranslationBackend)
        waiting: dict[str, list[tuple[int, _Request]]] = {}  # the same message asked once
        for index, text in enumerate(texts):
            if cancelled():
                break
            plan = self._plan(text)
            if isinstance(plan, tuple):
                results[index] = plan
            elif batched and context:
                waiting.setdefault(plan.message, []).append((index, plan))
            else:
                results[index] = self._answer(plan, context, cancelled)
            show()
        asks = sorted(waiting.values(), key=lambda same: -len(same[0][1].simplified))
        for first in range(0, len(asks), self.batch):  # similar lengths together
            if cancelled():
                break
            group = [same[0][1] for same in asks[first : first + self.batch]]
            for same, translated in zip(asks[first : first + self.batch],
                                        self._translate_group(group, context, cancelled),
                                        strict=True):
                for index, request in same:
                    results[index] = _with_price(translated, request.price)
            show()
        return [result if result is not None else ("", "") for result in results[:shown]]

    def _translate_group(self, group: Sequence[_Request], context: list[tuple[str, str]],
                         cancelled: Callable[[], bool]) -> list[tuple[str, str]]:
        """(English, model) of each request, written side by side; the answers that lost
        a number are asked once more, side by side too, naming the numbers. Written one
        at a time if the model cannot take the group (e.g. no room left in its KV cache).
        Prices are not put back here."""
        try:
            answers = self._ask_batch([request.message for request in group],
                                      [request.budget for request in group], context)
            lost = [self._lost_numbers(request, answer)
                    for request, answer in zip(group, answers, strict=True)]
            again = [index for index, numbers in enumerate(lost) if numbers]
            if again and not cancelled():
                retries = self._ask_batch(
                    [_numbers_note(group[index].message, lost[index]) for index in again],
                    [group[index].budget for index in again], context)
                for index, retry in zip(again, retries, strict=True):
                    answers[index] = _better(group[index], answers[index], retry, lost[index])
            replies = [index for index, (request, answer) in enumerate(zip(group, answers,
                                                                            strict=True))
                       if reads_as_reply(answer, request.simplified)]
            if replies and not cancelled():
                quoted = self._ask_batch([quoted_message(group[index].message)
                                          for index in replies],
                                         [group[index].budget for index in replies], context)
                for index, retry in zip(replies, quoted, strict=True):
                    answers[index] = _unless_reply(retry, group[index])
        except RuntimeError as exc:
            log.warning("photo blocks side by side failed (%s): one at a time", exc)
            return [self._answer(request, context, cancelled, with_price=False)
                    for request in group]
        return [self._remember(request, answer) for request, answer in zip(group, answers,
                                                                           strict=True)]

    def _ask_batch(self, messages: Sequence[str], budgets: Sequence[int],
                   context: list[tuple[str, str]]) -> list[str]:
        assert isinstance(self.backend, BatchTranslationBackend)
        return self.backend.translate_batch(messages, context, max_new_tokens=budgets,
                                            prompts=PHOTO_TEXT)

    def _ask(self, message: str, context: list[tuple[str, str]], budget: int,
             cancelled: Callable[[], bool]) -> str | None:
        return self.backend.translate(message, context, forced_prefix="",
                                      max_new_tokens=budget, cancelled=cancelled,
                                      prompts=PHOTO_TEXT)

    def _token_budget(self, source: str) -> int:
        """English tokens allowed for ``source``: about two per character plus a margin
        (a garbled OCR line otherwise sends a small model into a loop of 160 tokens)."""
        return min(self.max_new_tokens, 12 + 2 * len(source))

    def translate_one(self, text: str, context: list[tuple[str, str]],
                      cancelled: Callable[[], bool] = lambda: False) -> tuple[str, str]:
        """English and model name for one block; ``context`` (zh, en) of this photo is
        used and extended."""
        plan = self._plan(text)
        if isinstance(plan, tuple):
            return plan
        return self._answer(plan, context, cancelled)

    def _plan(self, text: str) -> tuple[str, str] | _Request:
        """What ``text`` needs: its (English, model) at once (no Chinese, a bare price, a
        remembered block), or a request for the model."""
        if not needs_translation(text):
            return text, ""
        price_tag = _PRICE_ONLY.match(text)
        if price_tag:
            return f"{price_tag.group('amount')} yuan", ""
        item, price = text, ""
        match = _TRAILING_PRICE.match(text)
        if match:
            item, price = match.group("item"), match.group("price").replace(" ", "")
        simplified = printed_dates_as_digits(to_simplified(item))
        with self._lock:
            cached = self._cache.get(simplified)
            if cached is not None:
                self._cache.move_to_end(simplified)
        if cached is not None:
            return _with_price(cached, price)
        terms = street_terms(simplified) + self.glossary.find(simplified)
        return _Request(simplified, price, terms, user_message(simplified, terms),
                        self._token_budget(simplified))

    def _answer(self, request: _Request, context: list[tuple[str, str]],
                cancelled: Callable[[], bool], *, with_price: bool = True) -> tuple[str, str]:
        """One block alone, after ``context`` (which it then joins): the number check and
        its one more try as in ``_translate_group``."""
        if len(context) >= _CONTEXT_WINDOW:
            context.clear()
        answer = self._ask(request.message, context, request.budget, cancelled)
        if answer is None:
            return "", ""
        lost = self._lost_numbers(request, answer)
        if lost:  # one more try, the numbers named: a price or a code must not change
            retry = self._ask(_numbers_note(request.message, lost), context, request.budget,
                              cancelled)
            if retry is not None:
                answer = _better(request, answer, retry, lost)
        if reads_as_reply(answer, request.simplified):  # answered, not translated: quoted
            retry = self._ask(quoted_message(request.message), context, request.budget,
                              cancelled)
            answer = _unless_reply(retry or "", request)
        if answer:  # the turn exactly as the model saw and wrote it, so the next prompt
            # extends the evaluated tokens instead of re-evaluating this turn (~0.2 s a block)
            context.append((request.message, answer.strip()))
        translated = self._remember(request, answer)
        return _with_price(translated, request.price) if with_price else translated

    @staticmethod
    def _lost_numbers(request: _Request, answer: str) -> list[str]:
        """The numbers of the block missing from the card English of ``answer``."""
        english = _english(answer, request)
        return [number for number in number_runs(request.simplified)
                if not kept(number, english)]

    def _remember(self, request: _Request, answer: str) -> tuple[str, str]:
        """(Card English, model name) of ``answer``, remembered for the block; no answer
        (``_unless_reply``): the block as printed, with no model, not remembered."""
        if not answer:
            return request.simplified, ""
        translated = (_english(answer, request), self.backend.name)
        with self._lock:
            self._cache[request.simplified] = translated
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return translated


def _unless_reply(retry: str, request: _Request) -> str:
    """A quoted retry's answer without its quotes, or "" when it still reads as the
    model's reply instead of a translation. A small model answers some printed phrases
    too: "敬请见谅！" (please excuse us) on a stall's sign came out "Sorry, but I can't
    assist with that." (``translate.answers.reads_as_reply``)."""
    answer = quoted_translation(retry, request.simplified)
    if not answer:
        log.info("photo block left as printed (the model answered it): %r", request.simplified)
    return answer


def _numbers_note(message: str, lost: Sequence[str]) -> str:
    """The message asked once more, naming the numbers the first answer lost."""
    return f"{message}\n{NUMBERS_NOTE} {', '.join(lost)})"


def _better(request: _Request, answer: str, retry: str, lost: Sequence[str]) -> str:
    """The retry if it keeps any of the ``lost`` numbers, else the first answer."""
    english = _english(retry, request)
    return retry if any(kept(number, english) for number in lost) else answer


@dataclass(frozen=True)
class _Request:
    """A block for the model: its simplified text without a trailing price, the price,
    glossary terms, the message as sent and its token budget."""

    simplified: str
    price: str
    terms: list[tuple[str, str]]
    message: str
    budget: int


def _with_price(translated: tuple[str, str], price: str) -> tuple[str, str]:
    english, model = translated
    return (f"{english} {price}" if price else english), model
