"""A final decode made in the pause that may end an utterance (``asr/final_ahead.py``):
the VAD says where a pause began, the recogniser decodes ahead on a copy of itself, and
gives that decode's finals out when the pause ends the utterance, or drops it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tests.test_vad_state import FRAME, OPTIONS, PROBABILITY, SILERO_LIKE, LoudnessVad, script

from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.whisper import Decoded
from hudtranslate.config import AsrOptions
from hudtranslate.errors import ConfigError
from hudtranslate.events import AudioArray, AudioChunk, SpeechChunk, Transcript
from hudtranslate.overload import LoadLevel
from hudtranslate.stages import Worker, asr_stage
from hudtranslate.testing import FakeDecoder, tone_and_silence
from hudtranslate.vad import SpeechSegmenter, SpeechStateMachine, UtteranceEnd


def test_the_state_machine_says_where_the_pause_that_ended_an_utterance_began() -> None:
    machine = SpeechStateMachine(OPTIONS, frame_ms=100)
    pauses, ends = [], []
    for symbol in "..SSSS..S..SS....":
        ends += [event for event in machine.push(PROBABILITY[symbol])
                 if isinstance(event, UtteranceEnd)]
        pauses.append(machine.pause_frame)
    # silent from frame 6 (resumed at 8), from 9 (resumed at 11), and from 13 for good
    assert pauses[6:8] == [6, 6] and pauses[8] is None and pauses[9:11] == [9, 9]
    assert pauses[13:15] == [13, 13]
    assert [(end.frame, end.pause_frame) for end in ends] == [(14, 13)]
    assert pauses[15] is None  # the utterance has ended


def test_a_forced_cut_in_running_speech_is_no_pause() -> None:
    machine = SpeechStateMachine(OPTIONS, frame_ms=100)
    ends = [event for symbol in "S" * 25 for event in machine.push(PROBABILITY[symbol])
            if isinstance(event, UtteranceEnd)]
    assert ends and all(end.pause_frame is None and end.speech_continues for end in ends)


def test_speech_chunks_carry_the_pause_they_end_in() -> None:
    segmenter = SpeechSegmenter(LoudnessVad(), SILERO_LIKE)
    chunks: list[SpeechChunk] = []
    audio = script("." * 10 + "S" * 30 + "." * 3 + "S" * 10 + "." * 30)
    for begin in range(0, len(audio), FRAME):
        chunks += segmenter.feed(AudioChunk(audio[begin:begin + FRAME], begin / 16_000))
    frame_s = FRAME / 16_000
    paused = [round(chunk.pause_start_s / frame_s) for chunk in chunks
              if chunk.pause_start_s is not None]
    assert set(paused) == {40, 53}  # the gap between words, then the pause that ends it
    assert chunks[-1].final and chunks[-1].pause_start_s == pytest.approx(53 * frame_s)
    # the utterance ends one pad (100 ms: 3 frames) into its pause
    assert chunks[-1].end_s == pytest.approx((53 + 3) * frame_s)
    assert segmenter.pause_kept_s == pytest.approx(3 * frame_s)


def speech_then_pause(speech_s: float, pause_s: float, *, pause_start_s: float | None,
                      utterance: int = 0) -> list[SpeechChunk]:
    """An utterance of a tone (line 0 of a ``FakeDecoder`` script) then the start of a
    pause in silence, as the VAD sends them: the pause's chunk names where it began."""
    tone = tone_and_silence([(speech_s, True)])
    silence = np.zeros(int(pause_s * 16_000), np.float32)
    return [SpeechChunk(utterance, tone, 0.0),
            SpeechChunk(utterance, silence, speech_s, pause_start_s=pause_start_s)]


def recognizer_for(script_line: str, **options: object) -> tuple[StreamingRecognizer,
                                                                 FakeDecoder]:
    decoder = FakeDecoder([script_line], chars_per_s=8.0)
    recognizer = StreamingRecognizer(
        decoder, dataclasses.replace(AsrOptions(), **options),  # type: ignore[arg-type]
        pause_kept_s=0.3)
    return recognizer, decoder


def test_a_pause_that_ends_the_utterance_gives_the_finals_decoded_in_it() -> None:
    line = "我们明天去北京，后天回来。"
    recognizer, decoder = recognizer_for(line)
    for chunk in speech_then_pause(1.6, 0.1, pause_start_s=1.6):
        recognizer.insert(chunk)
    assert recognizer.final_ahead_due
    recognizer.decode_final_ahead(now_s=1.7)
    decoded = len(decoder.calls)
    assert decoded and not recognizer.final_ahead_due and not recognizer.partial_due
    # the rest of the pause, then the VAD's end: no decode, the same finals as without
    recognizer.insert(SpeechChunk(0, np.zeros(3200, np.float32), 1.7, pause_start_s=1.6))
    recognizer.insert(SpeechChunk(0, np.zeros(0, np.float32), 1.9, final=True,
                                  pause_start_s=1.6))
    finals = recognizer.finish(now_s=2.0)
    assert len(decoder.calls) == decoded
    assert [final.text for final in finals] == [line]
    assert finals[-1].emitted_s == 2.0 and finals[-1].end_s == pytest.approx(1.9)
    assert (recognizer.pauses.used, recognizer.pauses.dropped) == (1, 0)

    waiting, later = recognizer_for(line, final_ahead_ms=0)
    for chunk in speech_then_pause(1.6, 0.3, pause_start_s=1.6):
        waiting.insert(chunk)
    assert not waiting.final_ahead_due
    waiting.insert(SpeechChunk(0, np.zeros(0, np.float32), 1.9, final=True, pause_start_s=1.6))
    assert [final.text for final in waiting.finish(now_s=2.0)] == [line]
    # the decode ahead heard audio of the final's length: the pause's rest as silence
    assert decoder.calls[0][0] == pytest.approx(later.calls[0][0])


def decoded_ahead(line: str) -> tuple[StreamingRecognizer, FakeDecoder]:
    """A recogniser that heard 1 s of speech and 0.1 s of pause, and decoded ahead."""
    recognizer, decoder = recognizer_for(line)
    for chunk in speech_then_pause(1.0, 0.1, pause_start_s=1.0):
        recognizer.insert(chunk)
    recognizer.decode_final_ahead(now_s=1.1)
    return recognizer, decoder


def test_speech_after_the_pause_drops_the_decode_made_in_it() -> None:
    recognizer, decoder = decoded_ahead("我们明天去北京，后天回来。")
    ahead_calls = len(decoder.calls)
    recognizer.insert(SpeechChunk(0, tone_and_silence([(0.6, True)]), 1.1))  # goes on
    assert recognizer.pauses.dropped == 1
    recognizer.insert(SpeechChunk(0, np.zeros(4800, np.float32), 1.7, final=True,
                                  pause_start_s=1.7))
    finals = recognizer.finish(now_s=2.2)
    assert len(decoder.calls) > ahead_calls  # decoded again, on all of the audio
    assert decoder.calls[-1][0] == pytest.approx(2.0)
    assert "".join(final.text for final in finals) == "我们明天去北京，后天回来。"[:16]
    assert recognizer.pauses.used == 0


def test_a_decode_ahead_is_dropped_when_the_final_would_be_decoded_otherwise() -> None:
    """Another beam (shed under load), or a cut that was no pause: the final is decoded."""
    recognizer, decoder = decoded_ahead("我们明天去北京。")
    calls = len(decoder.calls)
    recognizer.insert(SpeechChunk(0, np.zeros(3200, np.float32), 1.1, final=True,
                                  pause_start_s=1.0))
    recognizer.finish(now_s=1.4, final_beam_size=1)
    assert len(decoder.calls) > calls and recognizer.pauses.dropped == 1


def test_final_ahead_ms_is_checked() -> None:
    with pytest.raises(ConfigError, match="final_ahead_ms"):
        AsrOptions(final_ahead_ms=-1)


class AheadCounter:
    """A recogniser whose open utterance is always in a pause: counts decodes ahead."""

    def __init__(self) -> None:
        self.ahead_calls = 0
        self.partial_due = False
        self.final_ahead_due = True

    def insert(self, chunk: SpeechChunk) -> None:
        pass

    def decode_final_ahead(self, now_s: float) -> None:
        self.ahead_calls += 1

    def finish(self, now_s: float, *, final_beam_size: int | None = None) -> list[Transcript]:
        return []


@pytest.mark.parametrize(("sessions", "level", "expected"), [
    (None, None, 2), (1, LoadLevel.NORMAL, 2), (2, LoadLevel.NORMAL, 0),
    (1, LoadLevel.NO_PARTIAL_ENGLISH, 0)])
def test_decodes_ahead_only_for_a_session_alone_and_on_time(
        sessions: int | None, level: LoadLevel | None, expected: int) -> None:
    async def speech() -> AsyncIterator[SpeechChunk]:
        for index in range(2):
            yield SpeechChunk(0, np.zeros(1600, np.float32), 0.1 * index)
            await asyncio.sleep(0.01)

    @contextlib.asynccontextmanager
    async def turn(model: str, *, urgent: bool, give_up: object = None) -> AsyncIterator[bool]:
        yield True

    load = None if sessions is None else SimpleNamespace(
        shared=SimpleNamespace(sessions=sessions), level=level,
        watch=lambda stage, pending: None, turn=turn)

    async def run() -> int:
        recognizer, worker = AheadCounter(), Worker("asr")
        try:
            async for _ in asr_stage(speech(), recognizer,  # type: ignore[arg-type]
                                     worker, lambda: 0.0, None, load):  # type: ignore[arg-type]
                pass
        finally:
            worker.close()
        return recognizer.ahead_calls

    assert asyncio.run(run()) == expected


@dataclass
class HearingDecoder(FakeDecoder):
    """A ``FakeDecoder`` that keeps the audio of each decode."""

    heard: list[AudioArray] = field(default_factory=list)

    def decode(self, audio: AudioArray, **options: Any) -> Decoded:
        self.heard.append(audio.copy())
        return super().decode(audio, **options)


@pytest.mark.parametrize("ahead_ms", [100, 0])
def test_a_final_ended_by_a_pause_hears_its_start_then_silence(ahead_ms: int) -> None:
    """Decoded ahead or not, the final hears ``final_ahead_ms`` of the pause and then
    silence to the VAD's end: a decode made in the pause is the final decode."""
    decoder = HearingDecoder(["我们明天去北京。"])
    recognizer = StreamingRecognizer(decoder, AsrOptions(final_ahead_ms=ahead_ms),
                                     pause_kept_s=0.3)
    noise = np.random.default_rng(0).uniform(-0.01, 0.01, 4800).astype(np.float32)
    recognizer.insert(SpeechChunk(0, tone_and_silence([(1.0, True)]), 0.0))
    recognizer.insert(SpeechChunk(0, noise, 1.0, final=True, pause_start_s=1.0))
    assert recognizer.finish(now_s=1.4)
    final = decoder.heard[0]
    # (levelled: silence is a constant there)
    assert len(final) == 20_800 and np.ptp(final[16_000:17_600]) > 1e-3
    assert (np.ptp(final[17_600:]) == 0) == (ahead_ms > 0)


def test_no_decode_ahead_without_knowing_how_much_pause_the_vad_keeps() -> None:
    recognizer = StreamingRecognizer(FakeDecoder(["我们明天去北京。"]), AsrOptions())
    for chunk in speech_then_pause(1.0, 0.2, pause_start_s=1.0):
        recognizer.insert(chunk)
    assert not recognizer.final_ahead_due
