"""The streaming recogniser's final decode: cuts, fallback on failed decodes, silence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from hudtranslate.asr.decode_checks import compression_ratio, decode_failed
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.whisper import Decoded
from hudtranslate.config import AsrOptions
from hudtranslate.events import AudioArray, SpeechChunk

GOOD = Decoded("我们明天去北京。", no_speech_prob=0.01, avg_logprob=-0.2)
LOOP = Decoded("好的" * 30, no_speech_prob=0.01, avg_logprob=-0.3)
UNSURE = Decoded("我们明天", no_speech_prob=0.2, avg_logprob=-1.4)
SILENT = Decoded("谢谢观看", no_speech_prob=0.9, avg_logprob=-1.5)


@dataclass
class ScriptedDecoder:
    """Answers each decode with the next scripted result; records what it was given."""

    answers: list[Decoded]
    calls: list[tuple[float, float]] = field(default_factory=list)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0, task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        self.calls.append((len(audio) / 16_000, temperature))
        return self.answers[min(len(self.calls) - 1, len(self.answers) - 1)]


def speech(seconds: float, start_s: float = 0.0, **final: object) -> SpeechChunk:
    tone = np.sin(np.arange(int(seconds * 16_000)) * 0.1).astype(np.float32) * 0.1
    return SpeechChunk(0, tone, start_s, **final)  # type: ignore[arg-type]


def final_of(decoder: ScriptedDecoder, *chunks: SpeechChunk) -> str | None:
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40))
    for chunk in chunks:
        recognizer.insert(chunk)
    finals = recognizer.finish(now_s=9.0)
    return "".join(final.text for final in finals) if finals else None


def test_a_looping_decode_is_retried_warmer() -> None:
    decoder = ScriptedDecoder([LOOP, GOOD])
    assert final_of(decoder, speech(3.0)) == GOOD.text
    assert [temperature for _, temperature in decoder.calls] == [0.0, 0.2]


def test_the_most_likely_try_is_kept_and_a_hard_utterance_is_not_dropped() -> None:
    decoder = ScriptedDecoder([UNSURE, Decoded("我", 0.5, -2.5)])
    assert final_of(decoder, speech(3.0)) == UNSURE.text
    assert len(decoder.calls) == 4  # beam, then three temperatures


def test_silence_is_dropped_only_after_every_try() -> None:
    decoder = ScriptedDecoder([SILENT])
    assert final_of(decoder, speech(2.0)) is None
    assert len(decoder.calls) == 4


@pytest.mark.parametrize(("speech_share", "kept"), [(0.0, False), (0.79, False), (0.8, True),
                                                  (1.0, True)])
def test_whispers_no_speech_test_yields_to_a_confident_vad(speech_share: float,
                                                           kept: bool) -> None:
    """Far, reverberant speech: Whisper is unsure it is speech (no-speech probability
    0.9, an unlikely text), but Silero heard speech in most of the utterance's frames: the
    words are kept. Where Silero was unsure too, the utterance is dropped as before."""
    decoder = ScriptedDecoder([SILENT])
    text = final_of(decoder, speech(2.0, speech_share=speech_share))
    assert (text == SILENT.text) if kept else (text is None)


def test_a_cut_final_decodes_only_the_audio_before_the_cut() -> None:
    decoder = ScriptedDecoder([GOOD])
    text = final_of(decoder, speech(2.0, 10.0),
                    SpeechChunk(0, np.zeros(0, np.float32), 12.0, final=True, cut_s=11.5))
    assert text == GOOD.text
    assert decoder.calls[0][0] == 1.5


def test_failure_measures() -> None:
    assert compression_ratio("") == 0.0
    assert compression_ratio(LOOP.text) > 2.4 > compression_ratio(GOOD.text)
    assert decode_failed(LOOP) and decode_failed(UNSURE) and not decode_failed(GOOD)


def test_a_committed_sentence_is_final_while_the_speaker_goes_on() -> None:
    decoder = ScriptedDecoder([
        Decoded("我们明天去北京吧。汤姆", 0.01, -0.2),
        Decoded("我们明天去北京吧。汤姆也", 0.01, -0.2),
        Decoded("我们明天去北京吧。汤姆也去。", 0.01, -0.2),
    ])
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40,
                                                         partial_interval_ms=500))
    recognizer.insert(speech(2.0))
    first = recognizer.process(now_s=2.0)
    assert first is not None and not first.final
    recognizer.insert(speech(1.0, start_s=2.0))
    sentence = recognizer.process(now_s=3.0)
    assert sentence is not None and sentence.final and sentence.text == "我们明天去北京吧。"
    assert 0.0 < sentence.end_s < 3.0 and sentence.speech_continues
    recognizer.insert(SpeechChunk(0, np.zeros(0, np.float32), 3.0, final=True))
    [rest] = recognizer.finish(now_s=3.5)
    assert rest.text == "汤姆也去。"  # nothing lost, nothing twice
    assert rest.utterance_id == sentence.utterance_id + 1
    assert rest.start_s == sentence.end_s
    assert decoder.calls[-1][1] == 0.0  # the final is forced after the sentence given out


def test_a_final_that_stops_early_does_not_lose_the_agreed_words() -> None:
    decoder = ScriptedDecoder([
        Decoded("周一到周五的直播片段言下之意就是", 0.01, -0.2),
        Decoded("周一到周五的直播片段言下之意就是废话", 0.01, -0.2),
        Decoded("周一到周五的直播片段。", 0.01, -0.2),  # the final beam stops early
        Decoded("周一到周五的直播片段言下之意就是废话有点多。", 0.01, -0.2),
    ])
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40,
                                                         partial_interval_ms=500,
                                                         sentence_final_min_chars=0))
    recognizer.insert(speech(2.0))
    recognizer.process(now_s=2.0)
    recognizer.insert(speech(1.0, start_s=2.0))
    recognizer.process(now_s=3.0)
    recognizer.insert(SpeechChunk(0, np.zeros(0, np.float32), 3.0, final=True))
    [final] = recognizer.finish(now_s=3.5)
    assert final.text == "周一到周五的直播片段言下之意就是废话有点多。"


@dataclass
class BeamRecorder(ScriptedDecoder):
    beams: list[int] = field(default_factory=list)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0, task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        self.beams.append(beam_size)
        return super().decode(audio, prefix=prefix, beam_size=beam_size,
                              max_new_tokens=max_new_tokens, padding_s=padding_s, task=task,
                              temperature=temperature)


def test_a_shed_final_beam_decodes_greedily_once() -> None:
    for override, beams in ((None, [3]), (1, [1])):
        decoder = BeamRecorder([GOOD])
        recognizer = StreamingRecognizer(decoder, AsrOptions(final_beam_size=3,
                                                             max_chars_per_s=40))
        recognizer.insert(speech(3.0))
        [transcript] = recognizer.finish(now_s=4.0, final_beam_size=override)
        assert transcript.text == GOOD.text
        assert decoder.beams == beams


def test_a_shed_partial_decode_waits_another_interval() -> None:
    decoder = ScriptedDecoder([GOOD])
    recognizer = StreamingRecognizer(decoder, AsrOptions(partial_interval_ms=1000))
    assert not recognizer.partial_due  # no utterance yet
    recognizer.insert(speech(0.5))
    assert not recognizer.partial_due
    recognizer.insert(speech(0.6, 0.5))
    assert recognizer.partial_due
    recognizer.skip_partial()
    assert not recognizer.partial_due and recognizer.process(now_s=1.1) is None
    recognizer.insert(speech(1.0, 1.1))
    assert recognizer.partial_due
    assert recognizer.process(now_s=2.1) is not None
    assert decoder.calls == [(2.1, 0.0)]  # the one decode, of all the audio so far


def test_a_final_holding_several_sentences_gives_each_out_in_order() -> None:
    decoder = ScriptedDecoder([Decoded("我们明天去北京吧。汤姆也去吗？他说他不去。", 0.01, -0.2)])
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40))
    recognizer.insert(speech(6.0, start_s=10.0))
    recognizer.insert(SpeechChunk(0, np.zeros(0, np.float32), 16.0, final=True))
    finals = recognizer.finish(now_s=16.5)
    assert [final.text for final in finals] == [
        "我们明天去北京吧。", "汤姆也去吗？", "他说他不去。"]
    assert [final.utterance_id for final in finals] == [0, 1, 2]
    # each starts where the one before ends; times follow the share of spoken characters
    assert finals[0].start_s == 10.0 and finals[-1].end_s == 16.0
    assert [final.start_s for final in finals[1:]] == [final.end_s for final in finals[:-1]]
    assert abs(finals[0].end_s - (10.0 + 6.0 * 8 / 18)) < 1e-9
    assert [final.speech_continues for final in finals] == [True, True, False]


def test_a_final_is_one_sentence_when_sentence_finals_are_off() -> None:
    decoder = ScriptedDecoder([Decoded("我们明天去北京吧。汤姆也去吗？", 0.01, -0.2)])
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40,
                                                         sentence_final_min_chars=0))
    recognizer.insert(speech(4.0))
    finals = recognizer.finish(now_s=4.5)
    assert [final.text for final in finals] == ["我们明天去北京吧。汤姆也去吗？"]


@pytest.mark.parametrize(("override", "heard"), [(None, True), (1, False)])
def test_a_final_is_repaired_by_ear_from_what_was_not_given_out(
        override: int | None, heard: bool) -> None:
    """``heard_repair`` gets the utterance's whole audio and text, and where the text not
    yet given out starts; its answer is what the finals say. Not while beams are shed."""
    calls: list[tuple[int, str, int]] = []

    def repair(audio: AudioArray, text: str, start: int) -> str:
        calls.append((len(audio), text, start))
        return text.replace("北惊", "北京")

    decoder = ScriptedDecoder([Decoded("我们明天去北惊吧。汤姆也去北惊吗？", 0.01, -0.2)])
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40),
                                     heard_repair=repair)
    recognizer.insert(speech(4.0))
    finals = recognizer.finish(now_s=4.5, final_beam_size=override)
    if heard:
        assert calls == [(64_000, "我们明天去北惊吧。汤姆也去北惊吗？", 0)]
        assert [final.text for final in finals] == ["我们明天去北京吧。", "汤姆也去北京吗？"]
    else:
        assert calls == [] and finals[0].text == "我们明天去北惊吧。"


def test_a_sentence_final_given_out_while_the_speaker_goes_on_is_repaired_by_ear() -> None:
    """Speech without a pause: the sentence committed by two agreeing partial decodes is
    given out at once, repaired; the repair stays in the committed text (the next decodes'
    forced prefix), so the rest of the utterance follows on from it."""
    calls: list[tuple[str, int]] = []

    def repair(audio: AudioArray, text: str, start: int) -> str:
        calls.append((text, start))
        return text.replace("北惊", "北京")

    decoder = ScriptedDecoder([Decoded("我们明天去北惊吧。汤姆", 0.01, -0.2)])
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40,
                                                         partial_interval_ms=500),
                                     heard_repair=repair)
    recognizer.insert(speech(1.0))
    assert recognizer.process(now_s=1.0) is not None          # a first hypothesis
    recognizer.insert(speech(1.0, 1.0))
    sentence = recognizer.process(now_s=2.0)                   # agreed: the sentence is out
    assert sentence is not None and sentence.final
    assert sentence.text == "我们明天去北京吧。"
    assert calls == [("我们明天去北惊吧。", 0)]
    assert recognizer._policy.committed.startswith("我们明天去北京吧。")
    assert recognizer._emitted == "我们明天去北京吧。"
