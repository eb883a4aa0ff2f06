"""Language detection per utterance (converse mode), with a scripted decoder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from hudtranslate.asr.decode_checks import surer_of
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.text import normalize_english
from hudtranslate.asr.whisper import Decoded, most_likely_language
from hudtranslate.config import AsrOptions
from hudtranslate.events import AudioArray, SpeechChunk


@dataclass
class LanguageDecoder:
    """Answers with scripted (text, language) pairs; records the languages it was offered."""

    answers: list[tuple[str, str]]
    offered: list[tuple[str, ...]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0, task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        self.offered.append(tuple(languages))
        self.prefixes.append(prefix)
        self.prompts.append(prompt)
        text, language = self.answers[min(len(self.offered) - 1, len(self.answers) - 1)]
        if len(languages) == 1:
            language = languages[0]
        return Decoded(text, 0.01, -0.2, language=language)


def chunk(seconds: float, start_s: float = 0.0, *, final: bool = False) -> SpeechChunk:
    tone = np.sin(np.arange(int(seconds * 16_000)) * 0.1).astype(np.float32) * 0.1
    return SpeechChunk(0, tone, start_s, final=final)


def test_detection_is_renormalised_over_the_two_candidates() -> None:
    whisper_says = [("<|ja|>", 0.5), ("<|en|>", 0.3), ("<|zh|>", 0.1), ("<|cy|>", 0.1)]
    language, prob = most_likely_language(whisper_says, ("zh", "en"))
    assert language == "en"
    assert abs(prob - 0.75) < 1e-9


def test_listen_mode_never_asks_for_detection_and_marks_mandarin() -> None:
    decoder = LanguageDecoder([("我们明天去北京。", "zh")])
    recognizer = StreamingRecognizer(decoder, AsrOptions())
    recognizer.insert(chunk(2.0))
    [final] = recognizer.finish(now_s=3.0)
    assert final.language == "zh"
    assert decoder.offered == [()]


def test_english_is_detected_kept_as_english_and_committed_at_word_ends() -> None:
    decoder = LanguageDecoder([("I'll be ten min", "en"), ("I'll be ten minutes late", "en"),
                               ("I'll be ten minutes late", "en"),
                               ("I'll be ten minutes late.", "en")])
    recognizer = StreamingRecognizer(decoder, AsrOptions(partial_interval_ms=1000),
                                     languages=("zh", "en"))
    recognizer.insert(chunk(1.2))
    first = recognizer.process(now_s=1.2)
    recognizer.insert(chunk(1.2, 1.2))
    second = recognizer.process(now_s=2.4)
    assert first is not None and first.language == "en" and first.committed == ""
    # "I'll be ten min" is agreed by both decodes, but "min" is half a word: not committed
    assert second is not None and second.committed == "I'll be ten"
    assert second.tentative == " minutes late"
    recognizer.insert(chunk(1.2, 2.4))
    recognizer.process(now_s=3.6)
    recognizer.insert(SpeechChunk(0, np.zeros(0, np.float32), 3.6, final=True))
    [final] = recognizer.finish(now_s=4.0)
    assert final.language == "en"
    assert final.text == "I'll be ten minutes late."
    assert decoder.offered[0] == ("zh", "en")
    # once English words are agreed, partials continue them in English
    assert decoder.offered[2] == ("en",) and decoder.prefixes[2] == "I'll be ten"
    # the final decode starts afresh and detects again on the whole utterance
    assert decoder.offered[-1] == ("zh", "en") and decoder.prefixes[-1] == ""


def test_a_change_of_language_drops_what_was_agreed_in_the_other() -> None:
    decoder = LanguageDecoder([("我们明天", "zh"), ("我们明天去", "zh"), ("Women ming", "en")])
    recognizer = StreamingRecognizer(decoder, AsrOptions(partial_interval_ms=1000),
                                     languages=("zh", "en"))
    for n in range(2):
        recognizer.insert(chunk(1.2, 1.2 * n))
        recognizer.process(now_s=1.2 * (n + 1))
    recognizer.insert(SpeechChunk(0, np.zeros(0, np.float32), 2.4, final=True))
    [final] = recognizer.finish(now_s=3.0)
    assert final.language == "en" and final.text == "Women ming"


def test_english_clean_up_keeps_repeated_phrases_but_cuts_loops() -> None:
    assert normalize_english("  very,  very good ") == "very, very good"
    assert len(normalize_english("no no no no no no no no").split()) <= 2


def test_the_initial_prompt_goes_only_to_decodes_in_the_first_language() -> None:
    """A Mandarin prompt (names, terms) must not steer the detection decodes or the
    decodes of an English answer; it goes with every decode settled in Mandarin."""
    decoder = LanguageDecoder([("我们明天", "zh"), ("我们明天去北京", "zh"),
                               ("我们明天去北京。", "zh"), ("我们明天去北京。", "zh")])
    recognizer = StreamingRecognizer(decoder, AsrOptions(partial_interval_ms=1000),
                                     languages=("zh", "en"), prompt="汤姆，北京。")
    for second in range(3):
        recognizer.insert(chunk(1.2, 1.2 * second))
        recognizer.process(now_s=1.2 * (second + 1))
    recognizer.insert(SpeechChunk(0, np.zeros(0, np.float32), 3.6, final=True))
    recognizer.finish(now_s=4.0)
    settled = [prompt for offered, prompt in zip(decoder.offered, decoder.prompts, strict=True)
               if offered == ("zh",)]
    detecting = [prompt for offered, prompt in zip(decoder.offered, decoder.prompts,
                                                   strict=True) if len(offered) > 1]
    assert settled and set(settled) == {"汤姆，北京。"}
    assert detecting and set(detecting) == {""}

    english = LanguageDecoder([("I'll be ten", "en"), ("I'll be ten minutes", "en"),
                               ("I'll be ten minutes late", "en")])
    recognizer = StreamingRecognizer(english, AsrOptions(partial_interval_ms=1000),
                                     languages=("zh", "en"), prompt="汤姆，北京。")
    for second in range(3):
        recognizer.insert(chunk(1.2, 1.2 * second))
        recognizer.process(now_s=1.2 * (second + 1))
    assert ("en",) in english.offered
    assert set(english.prompts) == {""}


def test_listen_mode_prompts_every_decode() -> None:
    decoder = LanguageDecoder([("我们明天去北京。", "zh")])
    recognizer = StreamingRecognizer(decoder, AsrOptions(), prompt="北京")
    recognizer.insert(chunk(2.0))
    recognizer.finish(now_s=3.0)
    assert decoder.prompts == ["北京"]


@dataclass
class ScoredDecoder:
    """Detection says ``detected``; each language's decode has its own text and mean
    token log-probability (``by_language``). Records the languages each decode offered."""

    detected: str
    by_language: dict[str, tuple[str, float]]
    offered: list[tuple[str, ...]] = field(default_factory=list)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0, task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        self.offered.append(tuple(languages))
        language = self.detected if len(languages) > 1 else languages[0]
        text, logprob = self.by_language[language]
        return Decoded(text, 0.01, logprob, language=language)


FAR_MANDARIN = "这个可能在想是不是受到了启发"


@pytest.mark.parametrize(
    ("detected", "english_logprob", "mandarin_logprob", "kept", "decodes"),
    [
        # far Mandarin detected as fluent but unsure English: the Mandarin decode is surer
        ("en", -0.9, -0.6, "zh", [("zh", "en"), ("zh",)]),
        # English that failed (under -1): Mandarin, even less sure, is kept
        ("en", -1.75, -2.5, "zh", [("zh", "en"), ("zh",)]),
        # the wearer's clear English: no second decode
        ("en", -0.08, -0.5, "en", [("zh", "en")]),
        # unsure English whose Mandarin decode is less sure still: English stays
        ("en", -0.9, -1.8, "en", [("zh", "en"), ("zh",)]),
        # Mandarin, however unsure, is never decoded again as English
        ("zh", -0.2, -1.9, "zh", [("zh", "en")]),
    ])
def test_an_unsure_second_language_is_checked_against_the_first(
        detected: str, english_logprob: float, mandarin_logprob: float, kept: str,
        decodes: list[tuple[str, ...]]) -> None:
    decoder = ScoredDecoder(detected, {"en": ("I'm fine, it's fine.", english_logprob),
                                       "zh": (FAR_MANDARIN, mandarin_logprob)})
    recognizer = StreamingRecognizer(decoder, AsrOptions(final_beam_size=1),
                                     languages=("zh", "en"))
    recognizer.insert(chunk(2.0, final=True))
    [final] = recognizer.finish(now_s=2.5)
    assert final.language == kept
    assert final.text == (FAR_MANDARIN if kept == "zh" else "I'm fine, it's fine.")
    assert decoder.offered[:len(decodes)] == decodes
    assert ("en",) not in decoder.offered  # the choice is made once, not undone


def test_a_looping_decode_is_never_the_surer() -> None:
    sure_loop = Decoded("好" * 24, 0.0, -0.05, language="zh")
    english = Decoded("So, I am going to talk about it.", 0.0, -0.7, language="en")
    assert surer_of(english, sure_loop) is english
    assert surer_of(english, Decoded("我们走吧。", 0.0, -0.3)).text == "我们走吧。"


def test_english_said_in_listen_mode_is_not_cut_at_the_chinese_rate() -> None:
    said = "Excuse me, do you speak English? The train leaves in ten minutes."
    decoder = LanguageDecoder([(said, "zh")])
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=12.0))
    recognizer.insert(chunk(3.0, final=True))  # 40 Chinese characters' worth: 160 letters
    finals = recognizer.finish(now_s=3.5)
    assert "".join(final.text for final in finals) == said


def test_a_partial_in_unsure_english_is_not_decoded_again() -> None:
    """Only finals are checked: partials decoded again had flipped the utterance's
    language back and forth, and their partial translations went the wrong way."""
    decoder = ScoredDecoder("en", {"en": ("So, I am going to", -0.9), "zh": (FAR_MANDARIN, -0.6)})
    recognizer = StreamingRecognizer(decoder, AsrOptions(partial_interval_ms=1000,
                                                         final_beam_size=1),
                                     languages=("zh", "en"))
    recognizer.insert(chunk(1.2))
    partial = recognizer.process(now_s=1.2)
    assert partial is not None and partial.language == "en"
    assert decoder.offered == [("zh", "en")]
    recognizer.insert(chunk(0.8, 1.2, final=True))
    [final] = recognizer.finish(now_s=2.5)
    assert final.language == "zh"
    assert ("zh",) in decoder.offered


@pytest.mark.parametrize(("english", "mandarin", "text"), [
    # a short English reply Whisper is unsure of, decoded again in Mandarin as Latin letters
    (("Okay", -1.53), ("ok", -1.11), "ok"),
    (("Yes.", -0.9), ("yes", -0.6), "yes"),
    (("Thank you.", -0.7), ("Thank you", -0.9), "Thank you."),
])
def test_a_mandarin_decode_without_chinese_is_english_said(
        english: tuple[str, float], mandarin: tuple[str, float], text: str) -> None:
    """The wearer's "OK." had gone to the HUD as the other person's Mandarin ("ok" → "OK",
    ZH→EN) instead of to the other person as Chinese: a Mandarin decode that wrote no
    Chinese character heard English."""
    decoder = ScoredDecoder("en", {"en": english, "zh": mandarin})
    recognizer = StreamingRecognizer(decoder, AsrOptions(final_beam_size=1),
                                     languages=("zh", "en"))
    recognizer.insert(chunk(1.0, final=True))
    [final] = recognizer.finish(now_s=1.5)
    assert final.language == "en"
    assert final.text == text


def test_english_said_after_mandarin_without_a_pause_is_marked_english() -> None:
    """"请问你是否同意？Excuse me, do you speak English?" in one breath was detected as
    Mandarin, and its English sentence went to the HUD as the other person's (ZH→EN)."""
    said = "请问你是否同意？Excuse me, do you speak English?"
    decoder = LanguageDecoder([(said, "zh")])
    recognizer = StreamingRecognizer(decoder, AsrOptions(), languages=("zh", "en"))
    recognizer.insert(chunk(4.0, final=True))
    finals = recognizer.finish(now_s=4.5)
    assert [(final.text.strip(), final.language) for final in finals] == [
        ("请问你是否同意？", "zh"), ("Excuse me, do you speak English?", "en")]


def test_listen_mode_and_mandarin_with_english_words_stay_mandarin() -> None:
    said = "我们都会争取拿到更多的offer嘛。OK, fine, let's go."
    for languages in ((), ("zh", "en")):
        recognizer = StreamingRecognizer(LanguageDecoder([(said, "zh")]), AsrOptions(),
                                         languages=languages)
        recognizer.insert(chunk(4.0, final=True))
        finals = recognizer.finish(now_s=4.5)
        assert [final.language for final in finals] == (
            ["zh", "zh"] if not languages else ["zh", "en"])
