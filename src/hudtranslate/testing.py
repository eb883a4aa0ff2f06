"""Fakes and helpers for testing plumbing without models. Real models test the product.

Fakes are plain objects with the same verbs as the engines: ``FakeDecoder`` "recognises"
a scripted sentence in proportion to the audio it is given, ``FakeBackend`` "translates"
by tagging its input, ``FakeVad`` calls loud frames speech.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from hudtranslate.asr.whisper import Decoded
from hudtranslate.events import (
    SAMPLE_RATE_HZ,
    AudioArray,
    AudioChunk,
    Transcript,
    Translation,
)
from hudtranslate.translate.prompts import SPEECH, PromptSet

T = TypeVar("T")


_BASE_HZ = 200.0
_STEP_HZ = 100.0


@dataclass
class FakeDecoder:
    """"Recognises" speech made by ``tone_and_silence``: the tone's pitch says which
    script line it is (the k-th speech piece is line k), and the audio's length how much
    of the line has been said (``chars_per_s``). ``transcribe_offline`` hears the whole
    line (or ``offline_script``'s line, when given) from any length of audio. Asked to
    detect among ``languages``, it "hears" line k in ``line_languages[k]`` (default zh)."""

    script: Sequence[str]
    chars_per_s: float = 4.0
    calls: list[tuple[float, str]] = field(default_factory=list)
    offline_script: Sequence[str] | None = None
    offline_calls: list[tuple[float, int]] = field(default_factory=list)
    line_languages: Sequence[str] = ()

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0,
               task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        duration_s = len(audio) / SAMPLE_RATE_HZ
        self.calls.append((duration_s, prefix))
        line = self._line(audio)
        text = self.script[line][: int(duration_s * self.chars_per_s)]
        language = languages[0] if languages else "zh"
        if len(languages) > 1 and line < len(self.line_languages):
            language = self.line_languages[line]
        return Decoded(text=text, no_speech_prob=0.0, avg_logprob=-0.1, language=language)

    def transcribe_offline(self, audio: AudioArray, *, beam_size: int = 5) -> str:
        self.offline_calls.append((len(audio) / SAMPLE_RATE_HZ, beam_size))
        return (self.offline_script or self.script)[self._line(audio)]

    def _line(self, audio: AudioArray) -> int:
        spectrum = np.abs(np.fft.rfft(audio))
        peak_hz = float(np.argmax(spectrum)) * SAMPLE_RATE_HZ / max(len(audio), 1)
        return min(max(round((peak_hz - _BASE_HZ) / _STEP_HZ), 0), len(self.script) - 1)


def fake_english(source: str) -> str:
    """What ``FakeBackend`` answers: ASCII that names the source, e.g. ``EN<6211-4eec>``,
    with "?" after it when the source is a question (a question is translated as one: an
    answer without it reads as a reply, ``answers.reads_as_reply``)."""
    asks = source.rstrip().endswith(("？", "?"))
    return "EN<" + "-".join(f"{ord(char):x}" for char in source) + ">" + ("?" if asks else "")


@dataclass
class FakeBackend:
    """Translates to ``fake_english(source)``, after an optional cancellable delay."""

    name: str = "fake"
    delay_s: float = 0.0
    calls: list[str] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        """After ``delay_s``; with ``on_text``, the delay is spread over the words, which
        are reported one by one as a streaming model would."""
        self.calls.append(source)
        words = fake_english(source).split()
        steps = words if on_text is not None else [" ".join(words)]
        for index in range(len(steps)):
            deadline = time.monotonic() + self.delay_s / len(steps)
            while time.monotonic() < deadline:
                if cancelled():
                    return None
                time.sleep(0.005)
            if on_text is not None:
                on_text(" ".join(words[: index + 1]) + " ")
        return forced_prefix + fake_english(source)


class FakeVad:
    """Speech probability from frame loudness: RMS above 0.01 is speech."""

    def probability(self, frame: AudioArray) -> float:
        return 1.0 if float(np.sqrt(np.mean(np.square(frame)))) > 0.01 else 0.0

    def reset(self) -> None:
        pass


def tone_and_silence(pattern: Iterable[tuple[float, bool]], amplitude: float = 0.3) -> AudioArray:
    """Audio of (seconds, is_speech) pieces: zeros for silence, and for the k-th speech
    piece a tone of 200 + 100·k Hz (which ``FakeDecoder`` reads as script line k)."""
    pieces = []
    spoken = 0
    for seconds, speech in pattern:
        n = int(seconds * SAMPLE_RATE_HZ)
        t = np.arange(n) / SAMPLE_RATE_HZ
        hz = _BASE_HZ + _STEP_HZ * spoken
        piece = amplitude * np.sin(2 * np.pi * hz * t) if speech else np.zeros(n)
        spoken += speech
        pieces.append(piece.astype(np.float32))
    return np.concatenate(pieces)


async def chunks_of(samples: AudioArray, chunk_ms: int = 100) -> AsyncIterator[AudioChunk]:
    """The audio as consecutive ``AudioChunk``s, as fast as possible."""
    step = SAMPLE_RATE_HZ * chunk_ms // 1000
    for start in range(0, len(samples), step):
        yield AudioChunk(samples[start : start + step], start / SAMPLE_RATE_HZ)


async def aiter_of(items: Iterable[T]) -> AsyncIterator[T]:
    for item in items:
        yield item


async def run_stage(stage: Callable[[AsyncIterator[T]], AsyncIterator[object]],
                    inputs: Iterable[T]) -> list[object]:
    """Run one stage on scripted input and collect everything it yields."""
    return [item async for item in stage(aiter_of(inputs))]


def scripted_captions(
    segments: Sequence[tuple[float, float, str, str]],
    *,
    step_s: float = 0.5,
    pause_s: float = 0.35,
    translate_s: float = 0.6,
) -> list[Transcript | Translation]:
    """Caption events of a talk, as the live pipeline would emit them, without any model.

    ``segments`` are ``(start_s, end_s, chinese, english)``. While each is spoken, every
    ``step_s`` the transcript grows in proportion and a partial translation (all
    tentative, as ``SessionTranslator`` makes them) follows ``translate_s`` later; after
    ``pause_s`` of silence the final transcript and the final, committed English arrive.
    Sorted by ``emitted_s``: feed them to a sink or a display at those times.
    """
    events: list[Transcript | Translation] = []
    for uid, (start_s, end_s, chinese, english) in enumerate(segments):
        words = english.split()
        t = start_s + step_s
        while t < end_s:
            share = (t - start_s) / (end_s - start_s)
            heard = chinese[: max(1, int(len(chinese) * share))]
            stable = heard[: max(0, len(heard) - 2)]
            events.append(Transcript(uid, stable, heard[len(stable) :], start_s, t, False, t))
            partial = " ".join(words[: max(1, int(len(words) * share))])
            events.append(Translation(uid, heard, "", partial, start_s, t, False,
                                      t + translate_s))
            t += step_s
        done_s = end_s + pause_s
        events.append(Transcript(uid, chinese, "", start_s, end_s, True, done_s))
        events.append(Translation(uid, chinese, english, "", start_s, end_s, True,
                                  done_s + translate_s, model="scripted"))
    return sorted(events, key=lambda event: event.emitted_s)
