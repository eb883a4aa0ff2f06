"""Qwen on text written for these tests: numbers, times, prices, names, and sentences that
look like requests or questions, which must be translated, never answered or obeyed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hudtranslate.config import Settings
from hudtranslate.events import Transcript
from hudtranslate.translate.text import has_cjk
from hudtranslate.translate.translator import SessionTranslator

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]

CASES = [
    ("火车晚上七点二十分出发。", [r"7:20|seven[- ]twenty"]),
    ("这个西瓜十五块钱。", [r"\b15\b|fifteen"]),
    ("我们下周三早上九点半见面。", [r"9:30|nine[- ]thirty|half past nine", r"Wednesday"]),
    ("请给小王写一条消息，说我会晚到十分钟。", [r"\bWang\b", r"\b10\b|\bten\b", r"messag"]),
    ("你能告诉我现在几点了吗？", [r"\?$", r"time"]),
    ("他的电话号码是一三九一二三四五六七八。", [r"139\s?1234\s?5678|13912345678"]),
]


def count_evaluated_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch ``llama_cpp.Llama.eval`` evaluates from now on (the list
    grows as they are evaluated)."""
    import llama_cpp

    sizes: list[int] = []
    original = llama_cpp.Llama.eval

    def counting(llm: Any, tokens: Any) -> None:
        sizes.append(len(tokens))
        original(llm, tokens)

    monkeypatch.setattr(llama_cpp.Llama, "eval", counting)
    return sizes


def translate(translator: SessionTranslator, text: str, uid: int) -> str:
    final = Transcript(uid, text, "", uid * 10.0, uid * 10.0 + 2, True, uid * 10.0 + 2)
    result = translator.translate(final)
    assert result is not None
    return result.committed


def test_numbers_names_and_requests_come_through(real_engines: Any,
                                                 real_settings: Settings) -> None:
    translator = SessionTranslator(real_engines.translator, real_settings.translate)
    failures = []
    for uid, (chinese, patterns) in enumerate(CASES):
        english = translate(translator, chinese, uid)
        assert english and not has_cjk(english), (chinese, english)
        failures += [(chinese, english, p) for p in patterns
                     if not re.search(p, english, re.IGNORECASE)]
    assert not failures, failures


def test_a_question_heard_without_its_mark_stays_a_question(real_engines: Any,
                                                            real_settings: Settings) -> None:
    """Whisper often leaves out the final "？"; sent bare, this one came back a statement
    ("They are located in a city.")."""
    translator = SessionTranslator(real_engines.translator, real_settings.translate)
    english = translate(translator, "你们公司在哪个城市", 0)
    assert english.endswith("?"), english


def test_request_is_translated_not_carried_out(real_engines: Any,
                                               real_settings: Settings) -> None:
    translator = SessionTranslator(real_engines.translator, real_settings.translate)
    english = translate(translator, "帮我写一首关于春天的诗。", 0)
    assert re.search(r"\bpoem\b", english, re.I) and re.search(r"spring", english, re.I)
    assert len(english.split()) < 20, f"looks like an answer, not a translation: {english!r}"


COURTESIES = [
    # (what was said before, the courtesy, what its English must say, what it must not)
    ("这是你的咖啡。", "谢谢你。", r"\bthank", r"welcome"),
    ("我帮你拿行李。", "太感谢了。", r"\bthank", r"welcome"),
    ("不用担心，我来处理。", "真是太谢谢你了。", r"\bthank", r"welcome"),
    ("我把文件发给你了。", "收到，谢谢！", r"\bthank", r"welcome"),
    ("谢谢你帮我。", "不客气。", r"welcome|problem|mention|pleasure", r"\bthank"),
    ("我踩到你的脚了。", "对不起。", r"sorry|apolog", r"(?<!not )\bok"),
]


def test_thanks_and_apologies_are_translated_not_answered(real_engines: Any,
                                                          real_settings: Settings) -> None:
    """A small model reads a lone courtesy as a turn to reply to ("谢谢。" → "You're
    welcome."): the prompt says such lines are translated like any other."""
    failures = []
    for before, courtesy, meaning, reply in COURTESIES:
        translator = SessionTranslator(real_engines.translator, real_settings.translate)
        translate(translator, before, 0)
        english = translate(translator, courtesy, 1)
        if not re.search(meaning, english, re.I) or re.search(reply, english, re.I):
            failures.append((before, courtesy, english))
    assert not failures, failures


SHORT_NUMERALS = [
    # colloquial short forms: 三百五 is 350 (the model alone wrote "35 yuan"), 三万五 35,000
    # ("three million five thousand"), 两千三 2,300
    ("这件衣服三百五。", r"\b350\b"),
    ("他去年挣了三万五。", r"\b35,?000\b|thirty-five thousand"),
    ("那台电脑两千三。", r"\b2,?300\b"),
]


def test_short_numerals_keep_their_value(real_engines: Any, real_settings: Settings) -> None:
    """Each as a session's first sentence: after other sentences with numbers the small
    model may still miscopy digits ("35000" → "350,000"), a fault of its own."""
    failures = []
    for chinese, number in SHORT_NUMERALS:
        translator = SessionTranslator(real_engines.translator, real_settings.translate)
        english = translate(translator, chinese, 0)
        if not re.search(number, english, re.I):
            failures.append((chinese, english))
    assert not failures, failures


REQUESTS_AFTER_CONTEXT = [
    # (the request or question, what its English must say); said after one sentence
    ("告诉我一个笑话。", r"\bjoke\b"),
    ("帮我写一首关于春天的诗。", r"\bpoem\b"),
    ("你能翻译一下吗？", r"\btranslat\w*.*\?$"),
    ("你说对不对？", r"\?$"),
]


def test_requests_after_context_are_translated_not_carried_out(
        real_engines: Any, real_settings: Settings) -> None:
    """After a sentence of conversation the model carried out requests ("Sure, here's a
    joke: …") and answered questions ("You're right."); such an answer is translated
    again with the sentence quoted (``SessionTranslator``)."""
    failures = []
    for request, meaning in REQUESTS_AFTER_CONTEXT:
        translator = SessionTranslator(real_engines.translator, real_settings.translate)
        translate(translator, "我们在这家店等一下吧。", 0)
        english = translate(translator, request, 1)
        if (not re.search(meaning, english, re.I) or len(english.split()) > 12
                or re.match(r"(sure|certainly|of course)\b", english, re.I)):
            failures.append((request, english))
    assert not failures, failures


def test_context_trimmed_keeps_the_evaluated_turns_and_the_meaning(
        real_engines: Any, real_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the oldest context turns are dropped, the kept ones are moved back in the KV
    cache instead of evaluated again (``llama_cache``), and translations still read right."""
    import hudtranslate.translate.llama as llama

    kept: list[int] = []
    original = llama.cut_evaluated_span

    def spy(llm: Any, tokens: list[int], shared_upto: int = 0) -> int:
        kept.append(original(llm, tokens, shared_upto))
        return kept[-1]

    monkeypatch.setattr(llama, "cut_evaluated_span", spy)
    translator = SessionTranslator(real_engines.translator, real_settings.translate)
    sentences = ["今天天气很好。", "我们去公园散步吧。", "公园里有很多人。", "孩子们在放风筝。",
                 "我买了两瓶水。", "我们坐在树下休息。", "天快黑了。",
                 "火车晚上七点二十分出发。"]
    english = [translate(translator, chinese, uid) for uid, chinese in enumerate(sentences)]
    assert len(translator.context) < len(sentences) - 2  # trimmed on the way
    assert max(kept) >= 16, kept  # a cut kept evaluated turns
    assert re.search(r"7:20|seven[- ]twenty", english[-1], re.I), english
    assert re.search(r"\btwo\b|\b2\b", english[4], re.I), english


def test_short_prompts_are_evaluated_as_whole_batches(
        real_engines: Any, real_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where llama.cpp multiplies 16 tokens at a time (AVX-512), a final whose prompt adds
    11-15 tokens is evaluated as 16 (``llama_batch.WHOLE_BATCH_TOKENS``) and no prefill is
    made between sentences; the English still reads right."""
    from hudtranslate.translate.llama import LlamaBackend
    from hudtranslate.translate.llama_batch import PAD_FROM_TOKENS

    backend = real_engines.translator
    assert isinstance(backend, LlamaBackend)
    whole = backend.engine.whole_batch_tokens
    if not whole:
        pytest.skip("llama.cpp was built without AVX-512: short batches are not padded")
    batches = count_evaluated_batches(monkeypatch)
    translator = SessionTranslator(backend, real_settings.translate)
    assert not translator.can_prepare
    english = []
    for uid, chinese in enumerate(["今天天气很好。", "下雨了。", "好的。", "我们走吧。"]):
        batches.clear()
        english.append(translate(translator, chinese, uid))
        prompt_batch = batches[0]
        assert not PAD_FROM_TOKENS <= prompt_batch < whole, (chinese, batches)
        if uid:  # the closing of the last answer, the user turn and the opening: 11-15
            assert prompt_batch == whole, (chinese, batches)
    assert re.search(r"weather", english[0], re.I), english
    assert re.search(r"rain", english[1], re.I), english
    assert re.search(r"\bgo\b|leave", english[3], re.I), english


def test_streams_taking_turns_keep_their_evaluated_context(
        real_engines: Any, real_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two wearers' sentences in turn: each stream's evaluated prompt is parked in its own
    KV sequence while the other translates (``llama_cache.SequenceParking``), so a
    sentence evaluates only its own words, not its stream's context again."""
    evaluated = count_evaluated_batches(monkeypatch)
    streams = {
        "walk": ["我们去公园散步吧。", "公园里有很多人。", "孩子们在放风筝。", "我买了两瓶水。"],
        "meeting": ["会议下午三点开始。", "请大家准时参加。", "我们要讨论明年的预算。",
                    "经理会介绍新项目。"],
    }
    translators = {name: SessionTranslator(real_engines.translator, real_settings.translate)
                   for name in streams}
    english: dict[str, list[str]] = {name: [] for name in streams}
    per_sentence: list[int] = []
    for uid in range(4):
        for name, translator in translators.items():
            before = sum(evaluated)
            english[name].append(translate(translator, streams[name][uid], uid))
            translator.prepare_next()
            if uid:
                per_sentence.append(sum(evaluated) - before)
    for translator in translators.values():
        translator.close()
    # a sentence with its answer is ~20-30 tokens; its stream's context was 45-110 more
    assert max(per_sentence) < 40, per_sentence
    assert re.search(r"park", english["walk"][0], re.I), english
    assert re.search(r"\b(3|three)\b", english["meeting"][0], re.I), english
    assert re.search(r"budget", english["meeting"][2], re.I), english
    assert re.search(r"\btwo\b|\b2\b", english["walk"][3], re.I), english


def test_more_streams_than_parking_sequences_and_ended_streams_free_theirs(
        real_engines: Any) -> None:
    """The least recently used stream gives its sequence up when all are taken; a
    stream that ended frees its cells before the next generation."""
    from hudtranslate.translate.llama import PARKING_SEQUENCES, LlamaBackend
    from hudtranslate.translate.llama_cache import kv_owner

    backend = real_engines.translator
    assert isinstance(backend, LlamaBackend)
    engine = backend.engine
    owners = [f"test-stream-{index}" for index in range(PARKING_SEQUENCES + 2)]
    for index, owner in enumerate(owners):
        with kv_owner(owner):
            backend.prepare([(f"第{index}句。", f"Sentence {index}.")])
    assert engine._parking.parked == PARKING_SEQUENCES
    for owner in owners:
        engine.forget_owner(owner)
    with kv_owner("test-stream-after"):
        backend.prepare([])
    assert engine._parking.parked == 0


def test_streams_asking_at_once_are_written_side_by_side(
        real_engines: Any, real_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three wearers' sentences reaching the model at nearly the same time (a server
    that is behind: ``write_together``) are decoded together, later ones joining the first at
    its next step (``llama_together``), and each reads right."""
    import threading

    import hudtranslate.translate.llama as llama

    joined: list[int] = []
    original = llama.decode_together

    def counting(llm: Any, parking: Any, generations: Any, stops: Any, capacity: int,
                 more: Any, whole_batch: int = 0) -> None:
        def more_counted(writing: int) -> Any:
            arrived = more(writing)
            joined.extend([writing] * len(arrived))
            return arrived
        original(llm, parking, generations, stops, capacity, more_counted, whole_batch)

    monkeypatch.setattr(llama, "decode_together", counting)
    sentences = [("这个西瓜十五块钱。", r"\b15\b|fifteen"),
                 ("火车晚上七点二十分出发。", r"7:20|seven[- ]twenty"),
                 ("我们下周三早上九点半见面。", r"Wednesday")]
    translators = [SessionTranslator(real_engines.translator, real_settings.translate)
                   for _ in sentences]
    english = [""] * len(sentences)
    engine = real_engines.translator.engine
    engine.write_together(True)
    try:
        def wearer(index: int) -> None:
            threading.Event().wait(0.15 * index)
            english[index] = translate(translators[index], sentences[index][0], 0)

        threads = [threading.Thread(target=wearer, args=(index,)) for index in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        engine.write_together(False)
        for translator in translators:
            translator.close()
    assert joined and max(joined) >= 1, joined  # someone joined a generation in flight
    for (chinese, pattern), text in zip(sentences, english, strict=True):
        assert re.search(pattern, text, re.IGNORECASE), (chinese, text)
    assert engine._waiting == []
