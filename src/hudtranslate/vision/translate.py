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

import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pypinyin import lazy_pinyin

from hudtranslate.asr.text import to_simplified
from hudtranslate.translate.glossary import Glossary, gloss_chinese, replace_copied_terms
from hudtranslate.translate.prompts import PHOTO_TEXT, user_message
from hudtranslate.translate.text import clean_translation
from hudtranslate.translate.translator import BatchTranslationBackend, TranslationBackend

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"\d+(?:[.:/\-]\d+)*")
_CONTEXT_WINDOW = 6
"""Blocks of context at most; the window restarts (instead of sliding) so the prompt
prefix stays the same for several blocks and llama.cpp keeps reusing it."""
BATCH = 4
"""Blocks the local model writes side by side after the first, by default
(``VisionOptions.batch_blocks``, ``translate/llama_batch.py``)."""
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


def _english(answer: str, terms: Sequence[tuple[str, str]]) -> str:
    """The model's answer as card English: glossary terms restored, an echoed terms note
    dropped, copied Chinese glossed or romanised, ℃ as °C (the HUD font has no ℃)."""
    answer = replace_copied_terms(_TERMS_ECHO.sub("", answer), terms)
    return clean_translation(gloss_chinese(answer)).replace("℃", "°C")


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
        similar length after that first block's turn; otherwise one by one, each after
        the blocks before it.
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
        waiting: list[tuple[int, _Request]] = []
        for index, text in enumerate(texts):
            if cancelled():
                break
            plan = self._plan(text)
            if isinstance(plan, tuple):
                results[index] = plan
            elif batched and context:
                waiting.append((index, plan))
            else:
                results[index] = self._answer(plan, context, cancelled)
            show()
        waiting.sort(key=lambda item: -len(item[1].simplified))  # similar lengths together
        for first in range(0, len(waiting), self.batch):
            if cancelled():
                break
            group = waiting[first : first + self.batch]
            try:
                answers = self._ask_batch([request for _, request in group], context)
            except RuntimeError as exc:  # e.g. no room left in the model's KV cache
                log.warning("photo blocks side by side failed (%s): one at a time", exc)
                for index, request in group:
                    results[index] = self._answer(request, context, cancelled)
            else:
                for (index, request), answer in zip(group, answers, strict=True):
                    results[index] = self._finish(request, answer, context, cancelled,
                                                  extend_context=False)
            show()
        return [result if result is not None else ("", "") for result in results[:shown]]

    def _ask(self, message: str, context: list[tuple[str, str]], budget: int,
             cancelled: Callable[[], bool]) -> str | None:
        return self.backend.translate(message, context, forced_prefix="",
                                      max_new_tokens=budget, cancelled=cancelled,
                                      prompts=PHOTO_TEXT)

    def _ask_batch(self, requests: Sequence[_Request],
                   context: list[tuple[str, str]]) -> list[str]:
        assert isinstance(self.backend, BatchTranslationBackend)
        return self.backend.translate_batch(
            [request.message for request in requests], context,
            max_new_tokens=[request.budget for request in requests], prompts=PHOTO_TEXT)

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
        simplified = _DATE.sub(r"\g<year>-\g<month>-\g<day>", to_simplified(item))
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
                cancelled: Callable[[], bool]) -> tuple[str, str]:
        if len(context) >= _CONTEXT_WINDOW:
            context.clear()
        answer = self._ask(request.message, context, request.budget, cancelled)
        if answer is None:
            return "", ""
        return self._finish(request, answer, context, cancelled, extend_context=True)

    def _finish(self, request: _Request, answer: str, context: list[tuple[str, str]],
                cancelled: Callable[[], bool], *, extend_context: bool) -> tuple[str, str]:
        """Card English from the model's ``answer``: numbers checked (one more try naming
        the lost ones), remembered; the turn joins ``context`` when ``extend_context``."""
        terms = request.terms
        english = _english(answer, terms)
        lost = [number for number in number_runs(request.simplified)
                if not kept(number, english)]
        if lost:  # one more try, the numbers named: a price or a code must not change
            note = f"{request.message}\n(Copy these numbers exactly: {', '.join(lost)})"
            retry = self._ask(note, context, request.budget, cancelled)
            if retry is not None and sum(kept(n, _english(retry, terms)) for n in lost):
                answer, english = retry, _english(retry, terms)
        cached = (english, self.backend.name)
        if extend_context:
            # the turn exactly as the model saw and wrote it, so the next prompt extends
            # the evaluated tokens instead of re-evaluating this turn (~0.2 s a block)
            context.append((request.message, answer.strip()))
        with self._lock:
            self._cache[request.simplified] = cached
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return _with_price(cached, request.price)


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
