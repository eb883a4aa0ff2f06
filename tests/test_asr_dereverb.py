"""A far speaker's finals are decoded again dereverberated (WPE, ``asr/dereverb.py``)
and the surer decode kept: the policy with a fake decoder, and WPE on a synthetic room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from hudtranslate.asr import recognizer as recognizer_module
from hudtranslate.asr.dereverb import dereverberate
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.whisper import Decoded
from hudtranslate.config import AsrOptions
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, SpeechChunk

CLEAR = 0.25
"""The fake dereverberation's output: every sample this value."""


@dataclass
class RoomDecoder:
    """``heard`` at ``logprob`` for the audio as it came; ``clearer`` (at
    ``clearer_logprob``) for the dereverberated audio."""

    heard: str = "我在冰海星区有房"
    logprob: float = -0.8
    clearer: str = "我在滨海新区有房"
    clearer_logprob: float = -0.3
    calls: list[bool] = field(default_factory=list)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0, task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        dereverberated = bool(np.all(audio == np.float32(CLEAR)))
        self.calls.append(dereverberated)
        if dereverberated:
            return Decoded(self.clearer, 0.01, self.clearer_logprob)
        return Decoded(self.heard, 0.01, self.logprob)


@pytest.fixture(autouse=True)
def _fake_wpe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recognizer_module, "dereverberate",
                        lambda audio: np.full_like(audio, CLEAR))


def final_of(decoder: RoomDecoder, *, unsure: bool, beam: int | None = None,
             **options: object) -> str:
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40,
                                                         **options))  # type: ignore[arg-type]
    tone = np.sin(np.arange(2 * SAMPLE_RATE_HZ) * 0.1).astype(np.float32) * 0.1
    recognizer.insert(SpeechChunk(0, tone, 0.0, speech_share=1.0))
    recognizer.insert(SpeechChunk(0, tone[:0], 2.0, final=True, speech_share=1.0,
                                  unsure_speaker=unsure))
    return "".join(t.text for t in recognizer.finish(now_s=2.0, final_beam_size=beam))


@pytest.mark.parametrize(("case", "decoder", "unsure", "options", "expected", "decodes"), [
    ("a far speaker, surer dereverberated", RoomDecoder(), True, {}, "我在滨海新区有房",
     [False, True]),
    ("a far speaker, surer as heard", RoomDecoder(clearer_logprob=-1.2), True, {},
     "我在冰海星区有房", [False, True]),
    ("the dereverberated decode loops", RoomDecoder(clearer="网站" * 30), True, {},
     "我在冰海星区有房", [False, True]),
    ("the surer dereverberated decode stopped early", RoomDecoder(clearer="我在滨海"),
     True, {}, "我在冰海星区有房", [False, True]),
    ("a speaker Silero is sure of", RoomDecoder(), False, {}, "我在冰海星区有房", [False]),
    ("switched off", RoomDecoder(), True, {"dereverberate_unsure": False},
     "我在冰海星区有房", [False]),
    ("beams shed under load: optional work goes first", RoomDecoder(), True, {"beam": 1},
     "我在冰海星区有房", [False]),
])
def test_a_far_speakers_final_keeps_the_surer_decode(
        case: str, decoder: RoomDecoder, unsure: bool, options: dict[str, object],
        expected: str, decodes: list[bool]) -> None:
    assert final_of(decoder, unsure=unsure, **options) == expected, case
    assert decoder.calls == decodes, case


def test_wpe_takes_reverberation_out_of_the_gaps_between_syllables() -> None:
    """Voiced syllables (120-ms harmonic bursts with gaps) in a room (RT60 0.6 s,
    ``far_field.room_response``): the reverberation that fills the gaps is what WPE
    predicts from the past and removes; the syllables stay."""
    from hudtranslate.eval.far_field import room_response

    rate, rng = SAMPLE_RATE_HZ, np.random.default_rng(5)
    dry, voiced = np.zeros(6 * rate), np.zeros(6 * rate, bool)
    start_s = 0.2
    while start_s < 5.5:
        count = int(0.12 * rate)
        t = np.arange(count) / rate
        f0 = rng.uniform(100, 250)
        begin = int(start_s * rate)
        dry[begin:begin + count] = np.hanning(count) * sum(
            np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) / k for k in range(1, 15))
        voiced[begin:begin + count] = True
        start_s += 0.12 + rng.uniform(0.08, 0.25)
    wet = np.convolve(dry, room_response(0.6, np.random.default_rng(3)))[: len(dry)]
    wet = (wet / np.max(np.abs(wet)) * 0.5).astype(np.float32)
    clean = dereverberate(wet)
    assert clean.dtype == np.float32 and clean.shape == wet.shape

    def gaps_to_syllables_db(audio: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(audio[~voiced] ** 2) / np.mean(audio[voiced] ** 2)))

    assert gaps_to_syllables_db(clean) < gaps_to_syllables_db(wet) - 0.5   # measured: 0.8 dB
    assert np.sqrt(np.mean(clean[voiced] ** 2)) > 0.7 * np.sqrt(np.mean(wet[voiced] ** 2))


def test_audio_too_short_for_wpe_is_left_as_it_is() -> None:
    short = np.ones(1000, np.float32)
    assert dereverberate(short) is short
