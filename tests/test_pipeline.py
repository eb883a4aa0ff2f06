"""Pipeline plumbing with fakes: ordering, finals, no captions in silence, failures."""

from collections.abc import AsyncIterator

import pytest

from hudtranslate.config import Settings
from hudtranslate.events import AudioChunk, StreamEnd, Transcript, Translation
from hudtranslate.pipeline import Engines, Event, run_pipeline
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, chunks_of, tone_and_silence

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
