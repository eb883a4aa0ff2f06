"""Pipeline plumbing with fakes: ordering, finals, no captions in silence, failures."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from hudtranslate.config import Settings
from hudtranslate.errors import ConfigError
from hudtranslate.events import AudioChunk, StreamEnd, Transcript, Translation
from hudtranslate.pipeline import Engines, Event, run_pipeline
from hudtranslate.stages import merge_drafts
from hudtranslate.testing import (
    FakeBackend,
    FakeDecoder,
    FakeVad,
    aiter_of,
    chunks_of,
    tone_and_silence,
)

pytestmark = pytest.mark.timeout(60)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.closed = False

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True


def engines(script: list[str], delay_s: float = 0.0) -> Engines:
    return Engines(asr=FakeDecoder(script), translator=FakeBackend(delay_s=delay_s),
                   vad_factory=FakeVad)


async def test_two_sentences_give_two_finals_in_order() -> None:
    audio = tone_and_silence([(0.5, False), (2.0, True), (1.0, False), (3.0, True), (1.0, False)])
    sink = Recorder()
    result = await run_pipeline(chunks_of(audio), engines(["我们走吧。", "今天下雨了吗？"]),
                                Settings.load(env={}), [sink])
    assert [t.source for t in result.translations] == ["我们走吧。", "今天下雨了吗？"[:12]]
    assert all(t.final and t.committed.startswith("EN<") for t in result.translations)
    starts = [t.start_s for t in result.translations]
    assert starts[0] < 0.6 < 2.4 < starts[1] < 3.6
    assert isinstance(sink.events[-1], StreamEnd) and sink.closed
    assert any(isinstance(e, Transcript) for e in sink.events)
    assert result.duration_s == pytest.approx(7.5, abs=0.11)


async def test_silence_gives_no_captions() -> None:
    audio = tone_and_silence([(5.0, False)])
    sink = Recorder()
    result = await run_pipeline(chunks_of(audio), engines(["不该出现"]), Settings.load(env={}),
                                [sink])
    assert result.translations == []
    assert [type(e) for e in sink.events] == [StreamEnd]


async def test_partials_come_before_the_final_while_speaking() -> None:
    audio = tone_and_silence([(0.3, False), (4.0, True), (1.0, False)])
    sink = Recorder()

    async def paced() -> AsyncIterator[AudioChunk]:
        import asyncio

        async for chunk in chunks_of(audio):
            await asyncio.sleep(0.01)
            yield chunk

    await run_pipeline(paced(), engines(["一二三四五六七八九十一二三四五六"]),
                       Settings.load(env={}, overrides={"translate.partial_min_new_chars": 1}),
                       [sink])
    transcripts = [e for e in sink.events if isinstance(e, Transcript)]
    assert any(not t.final for t in transcripts)
    assert transcripts[-1].final
    translations = [e for e in sink.events if isinstance(e, Translation)]
    assert translations[-1].final
    assert any(not t.final and t.tentative for t in translations)


async def test_failing_source_closes_sinks_and_raises() -> None:
    async def broken() -> AsyncIterator[AudioChunk]:
        async for chunk in chunks_of(tone_and_silence([(1.0, True)])):
            yield chunk
        raise OSError("device unplugged")

    sink = Recorder()
    with pytest.raises(OSError, match="unplugged"):
        await run_pipeline(broken(), engines(["好"]), Settings.load(env={}), [sink])
    assert sink.closed


# --- the wearer's typed drafts ------------------------------------------------------------


def said(uid: int, text: str, final: bool = False) -> Transcript:
    return Transcript(uid, text, "", float(uid), uid + 1.0, final, uid + 1.0)


def draft(text: str) -> Transcript:
    return Transcript(0, text, "", 2.0, 2.0, True, 0.0, language="en", draft=True)


async def queued(queue: asyncio.Queue[Transcript | None]) -> AsyncIterator[Transcript]:
    while (item := await queue.get()) is not None:
        yield item


async def test_merge_without_drafts_keeps_the_ids() -> None:
    speech = [said(3, "我们"), said(3, "我们走吧。", True), said(7, "好的。", True)]
    merged = [t async for t in merge_drafts(aiter_of(speech), aiter_of([]), lambda: 0.0)]
    assert merged == speech


async def test_drafts_get_ids_in_arrival_order_and_shift_later_speech() -> None:
    speech: asyncio.Queue[Transcript | None] = asyncio.Queue()
    drafts: asyncio.Queue[Transcript | None] = asyncio.Queue()
    merged = merge_drafts(queued(speech), queued(drafts), lambda: 9.5)
    speech.put_nowait(said(0, "我们"))
    assert (await anext(merged)).utterance_id == 0
    drafts.put_nowait(draft("tell her I'm late"))
    typed = await anext(merged)
    assert (typed.utterance_id, typed.emitted_s, typed.draft, typed.language) == (1, 9.5,
                                                                                 True, "en")
    speech.put_nowait(said(0, "我们走吧。", True))  # the open utterance keeps its id
    speech.put_nowait(said(1, "好的"))
    speech.put_nowait(said(1, "好的。", True))
    speech.put_nowait(said(4, "再见。", True))
    ids = [(await anext(merged)).utterance_id for _ in range(4)]
    assert ids == [0, 2, 2, 5]
    speech.put_nowait(None)
    drafts.put_nowait(draft("thanks"))
    assert (await anext(merged)).utterance_id == 6
    drafts.put_nowait(None)
    with pytest.raises(StopAsyncIteration):
        await anext(merged)


async def test_a_failing_input_fails_the_merge_at_once() -> None:
    async def broken() -> AsyncIterator[Transcript]:
        yield said(0, "我们")
        raise OSError("device unplugged")

    never: asyncio.Queue[Transcript | None] = asyncio.Queue()
    with pytest.raises(OSError, match="unplugged"):
        async for _ in merge_drafts(broken(), queued(never), lambda: 0.0):
            pass


async def test_drafts_are_translated_and_tapped_next_to_the_speech() -> None:
    audio = tone_and_silence([(0.5, False), (2.0, True), (1.0, False)])
    sink = Recorder()
    engine = engines(["我们走吧。"])
    drafts: asyncio.Queue[Transcript | None] = asyncio.Queue()
    drafts.put_nowait(draft("tell her I'll be ten minutes late"))
    drafts.put_nowait(None)
    converse = Settings.load(env={}, overrides={"conversation.mode": "converse"})
    result = await run_pipeline(chunks_of(audio), engine, converse, [sink],
                                drafts=queued(drafts))
    typed = [e for e in sink.events if isinstance(e, Transcript) and e.draft]
    assert len(typed) == 1 and typed[0].language == "en" and typed[0] in result.transcripts
    spoken_ids = {e.utterance_id for e in sink.events
                  if isinstance(e, Transcript) and not e.draft}
    assert spoken_ids and typed[0].utterance_id not in spoken_ids
    finals = {t.utterance_id: t for t in result.translations}
    assert set(finals) == spoken_ids | {typed[0].utterance_id}
    reply = finals[typed[0].utterance_id]
    assert reply.source == "tell her I'll be ten minutes late"
    assert (reply.source_language, reply.target_language, reply.draft) == ("en", "zh", True)
    assert all(finals[uid].source_language == "zh" for uid in spoken_ids)
    assert isinstance(engine.translator, FakeBackend)
    assert any("ten minutes late" in call for call in engine.translator.calls)
    assert isinstance(sink.events[-1], StreamEnd) and sink.closed


async def test_drafts_need_converse_mode() -> None:
    with pytest.raises(ConfigError, match="converse"):
        await run_pipeline(chunks_of(tone_and_silence([(0.5, False)])), engines(["好"]),
                           Settings.load(env={}), drafts=aiter_of([draft("hi")]))


async def test_glossary_terms_heard_as_other_characters_are_restored_before_translation() -> None:
    """Whisper wrote 汤姆 as 汤墓 ("tomb"): the sinks, the transcript and the translator all
    get the glossary's 汤姆, so the term's English can be kept."""
    from hudtranslate.translate.glossary import Glossary

    audio = tone_and_silence([(0.5, False), (2.0, True), (1.0, False)])
    sink = Recorder()
    backend = FakeBackend()
    loaded = Engines(asr=FakeDecoder(["汤墓叫马利来。"]), translator=backend,
                     vad_factory=FakeVad, glossary=Glossary(terms={"汤姆": "Tom", "玛丽": "Mary"}))
    result = await run_pipeline(chunks_of(audio), loaded, Settings.load(env={}), [sink])
    assert [t.text for t in result.transcripts] == ["汤姆叫玛丽来。"]
    shown = [e.text for e in sink.events if isinstance(e, Transcript)]
    assert shown and all("墓" not in text and "马" not in text for text in shown)
    assert backend.calls and all("汤墓" not in call for call in backend.calls)
    assert any("汤姆" in call for call in backend.calls)


async def test_same_sound_errors_are_repaired_before_the_sinks_and_the_translator() -> None:
    """天气与暴 has the sound of 天气预报 "weather forecast": the repair (with jieba's real
    dictionary) reaches the transcript, the sinks and the translator, and composes with the
    glossary's restoration; 0 nats turns it off."""
    from hudtranslate.translate.glossary import Glossary

    audio = tone_and_silence([(0.5, False), (2.0, True), (1.0, False)])
    for margin, expected, heard in (("10", "汤姆说天气预报不准。", "天气预报"),
                                    ("0", "汤姆说天气与暴不准。", "天气与暴")):
        sink = Recorder()
        backend = FakeBackend()
        loaded = Engines(asr=FakeDecoder(["汤墓说天气与暴不准。"]), translator=backend,
                         vad_factory=FakeVad, glossary=Glossary(terms={"汤姆": "Tom"}))
        settings = Settings.load(env={"HUDTRANSLATE_ASR_SAME_SOUND_MARGIN": margin})
        result = await run_pipeline(chunks_of(audio), loaded, settings, [sink])
        assert [t.text for t in result.transcripts] == [expected]
        shown = [e.text for e in sink.events if isinstance(e, Transcript)]
        assert shown[-1] == expected
        assert backend.calls and all(heard in call for call in backend.calls)


async def test_a_final_is_repaired_by_ear_before_the_sinks_and_the_translator() -> None:
    """金融血 → 金融学 gains ~4 nats as words (under the 10-nat margin): the recogniser
    asks its engine how likely each text is for the audio and keeps the repair it hears;
    ``asr.same_sound_heard_margin`` 0 turns it off."""
    from dataclasses import dataclass, field

    from hudtranslate.testing import FakeDecoder

    @dataclass
    class HearingDecoder(FakeDecoder):
        scored: list[list[str]] = field(default_factory=list)

        def text_log_probabilities(self, audio: object, texts: list[str], *,
                                   padding_s: float = 3.0, language: str = "") -> list[float]:
            self.scored.append(list(texts))
            return [0.0 if "金融学" in text else -9.0 for text in texts]

    audio = tone_and_silence([(0.5, False), (3.0, True), (1.0, False)])
    for margin, expected in (("3.5", "我学的是金融学专业。"), ("0", "我学的是金融血专业。")):
        backend = FakeBackend()
        decoder = HearingDecoder(["我学的是金融血专业。"])
        loaded = Engines(asr=decoder, translator=backend, vad_factory=FakeVad)
        settings = Settings.load(env={"HUDTRANSLATE_ASR_SAME_SOUND_HEARD_MARGIN": margin})
        result = await run_pipeline(chunks_of(audio), loaded, settings, [Recorder()])
        assert [t.text for t in result.transcripts] == [expected]
        assert bool(decoder.scored) is (margin != "0")
        assert any(expected in call for call in backend.calls)


async def test_text_repairs_run_off_the_event_loop() -> None:
    """A slow repair (a first-seen long partial: tens of ms of pure Python) must not hold
    up the event loop that the server's other wearers share."""
    import time

    from hudtranslate.pipeline import _repaired

    def slow_repair(text: str) -> str:
        time.sleep(0.3)
        return text.replace("与暴", "预报")

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    heard = Transcript(0, "天气与暴", "", 0.0, 1.0, True, 1.0)
    task = asyncio.ensure_future(ticker())
    try:
        repaired = [event async for event in _repaired(aiter_of([heard]), [slow_repair])]
    finally:
        task.cancel()
    assert [event.text for event in repaired] == ["天气预报"]
    assert ticks >= 10
