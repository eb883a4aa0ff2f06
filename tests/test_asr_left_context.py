"""An unsure final of an utterance cut in running speech is decoded again after the one
before it (forced prefix): table-driven, with a fake decoder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from hudtranslate.asr.decode_checks import with_alone_tail
from hudtranslate.asr.left_context import LeftContext
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.whisper import Decoded
from hudtranslate.config import AsrOptions
from hudtranslate.events import AudioArray, SpeechChunk

FIRST = "我们分散开来并在树林中"
ALONE = "占开搜索"
IN_CONTEXT = "展开搜索"


@dataclass
class ContextDecoder:
    """The first utterance decodes as ``FIRST``; the second alone as ``alone(seconds)``
    (``ALONE``, at ``alone_logprob``), and after a forced prefix as ``answer(prefix)``."""

    alone_logprob: float = -0.9
    answer: Callable[[str], str] = lambda prefix: prefix + IN_CONTEXT
    alone: Callable[[float], str] = lambda seconds: ALONE
    calls: list[tuple[float, str]] = field(default_factory=list)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0, task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        seconds = len(audio) / 16_000
        self.calls.append((seconds, prefix))
        if prefix.startswith(FIRST[:2]) and seconds > 3.5:
            return Decoded(self.answer(prefix), 0.01, -0.5)
        if seconds > 2.5:
            return Decoded(FIRST, 0.01, -0.3)
        return Decoded(self.alone(seconds), 0.01, self.alone_logprob)


def chunk(utterance: int, seconds: float, start_s: float) -> SpeechChunk:
    tone = np.sin(np.arange(int(seconds * 16_000)) * 0.1).astype(np.float32) * 0.1
    return SpeechChunk(utterance, tone, start_s, speech_share=1.0)


def second_final(decoder: ContextDecoder, *, gap_s: float = 0.0,
                 beam: int | None = None, **options: float) -> str:
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40, **options))
    recognizer.insert(chunk(0, 3.0, 0.0))
    first = recognizer.finish(now_s=3.0)
    assert "".join(t.text for t in first) == FIRST
    recognizer.insert(chunk(1, 2.0, 3.0 + gap_s))
    return "".join(t.text for t in recognizer.finish(now_s=5.0, final_beam_size=beam))


@pytest.mark.parametrize(("case", "decoder", "kwargs", "expected", "context_decodes"), [
    ("unsure, cut in running speech", ContextDecoder(), {}, IN_CONTEXT, 1),
    ("sure of it alone", ContextDecoder(alone_logprob=-0.03), {}, ALONE, 0),
    ("fairly sure: heard in context all the same", ContextDecoder(alone_logprob=-0.3), {},
     IN_CONTEXT, 1),
    ("fairly sure, under a stricter threshold", ContextDecoder(alone_logprob=-0.3),
     {"left_context_below_logprob": -0.6}, ALONE, 0),
    ("a pause before it", ContextDecoder(), {"gap_s": 0.5}, ALONE, 0),
    ("turned off", ContextDecoder(), {"left_context_below_logprob": 0.0}, ALONE, 0),
    ("beams shed under load", ContextDecoder(), {"beam": 1}, ALONE, 0),
    ("the context decode ignored the prefix", ContextDecoder(answer=lambda _: "完全不同"), {},
     ALONE, 1),
    ("the mark that ends the utterance before is not this one's",
     ContextDecoder(answer=lambda p: p + "？" + IN_CONTEXT), {}, IN_CONTEXT, 1),
    ("the context decode loops", ContextDecoder(answer=lambda p: p + "好的" * 40), {}, ALONE, 1),
    ("the context decode ends early", ContextDecoder(answer=lambda p: p + "展开"), {}, ALONE,
     1),
])
def test_left_context_policy(case: str, decoder: ContextDecoder, kwargs: dict[str, float],
                             expected: str, context_decodes: int) -> None:
    assert second_final(decoder, **kwargs) == expected, case
    in_context = [call for call in decoder.calls if call[1]]
    assert len(in_context) == context_decodes, case
    for seconds, prefix in in_context:  # both utterances' audio, the first one's text
        assert seconds == pytest.approx(5.0) and prefix == FIRST


def test_a_stub_before_is_not_worth_hearing_again() -> None:
    """A one-character utterance before ("啊" heard as "3") would steer the decode."""
    decoder = ContextDecoder()
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40))
    recognizer.insert(chunk(0, 1.0, 0.0))
    first = recognizer.finish(now_s=1.0)
    assert "".join(t.text for t in first) == ALONE[:4]
    recognizer.insert(chunk(1, 2.0, 1.0))
    assert "".join(t.text for t in recognizer.finish(now_s=3.0)) == ALONE


def test_unsure_partials_still_decode_the_final_alone_first() -> None:
    """Decoded only in context, Whisper stopped a syllable early at the unit's end with
    nothing to mend it from ("…给约" for "…给约翰"): the decode alone always comes first."""
    decoder = ContextDecoder()
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40))
    recognizer.insert(chunk(0, 3.0, 0.0))
    recognizer.finish(now_s=3.0)
    decoder.calls.clear()
    recognizer.insert(chunk(1, 2.0, 3.0))
    assert recognizer.process(now_s=5.0) is not None  # a partial, unsure
    assert "".join(t.text for t in recognizer.finish(now_s=5.0)) == IN_CONTEXT
    assert decoder.calls == [(pytest.approx(2.0), ""), (pytest.approx(2.0), ""),
                             (pytest.approx(5.0), FIRST)]


def growing(in_context: str, said: str = IN_CONTEXT,
            alone_logprob: float = -0.9) -> ContextDecoder:
    """A ``ContextDecoder`` whose second utterance alone says more the more of it there is
    (``said`` for all of its two seconds), and in context says ``in_context``."""
    return ContextDecoder(alone_logprob, answer=lambda prefix: prefix + in_context,
                          alone=lambda seconds: said[: round(len(said) / 2 * seconds)])


@pytest.mark.parametrize(("in_context", "expected"), [
    (IN_CONTEXT, IN_CONTEXT),
    (IN_CONTEXT[:2], IN_CONTEXT),
], ids=["says what the decode alone heard", "stops where the partial did: the rest of the "
        "utterance is not lost"])
def test_a_decode_in_context_that_stops_early_is_dropped(in_context: str, expected: str) -> None:
    """The partial heard the first second ("展开"); the final alone hears the whole
    utterance, so a decode in context that stops where the partial did stopped early."""
    decoder = growing(in_context)
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40,
                                                         partial_interval_ms=1000))
    recognizer.insert(chunk(0, 3.0, 0.0))
    recognizer.finish(now_s=3.0)
    recognizer.insert(chunk(1, 1.0, 3.0))
    assert recognizer.process(now_s=4.5) is not None
    recognizer.insert(chunk(1, 1.0, 4.0))
    assert "".join(t.text for t in recognizer.finish(now_s=5.0)) == expected


@pytest.mark.parametrize(("in_context", "alone", "expected"), [
    ("汤姆叫玛丽买一份礼物给约", "汤姆叫马利买一份礼物给约翰。", "汤姆叫玛丽买一份礼物给约翰。"),
    ("他希望我们买什么呢", "他希望我们买什么呢？", "他希望我们买什么呢？"),
    ("展开搜索。", "占开搜索。", "展开搜索。"),
    ("我们在树林中", "我们在树林中展开搜索吧", "我们在树林中"),
    ("展开搜索", "完全不同", "展开搜索"),
    ("展", "展开", "展"),
], ids=["a syllable the decode in context left out", "the mark it left out",
        "the same end: nothing to add", "more than a few words: not a stop, left as heard",
        "no common end", "too short to place"])
def test_the_decode_alone_mends_where_the_decode_in_context_stopped(
        in_context: str, alone: str, expected: str) -> None:
    assert with_alone_tail(in_context, alone) == expected


def test_a_final_keeps_the_last_words_it_heard_alone() -> None:
    """The final is decoded alone, then in context; a decode in context that stopped a
    syllable early keeps the decode alone's last syllable."""
    said = "展开搜索并找到了他们"
    decoder = growing(said[:-1], said=said, alone_logprob=-0.3)
    recognizer = StreamingRecognizer(decoder, AsrOptions(max_chars_per_s=40))
    recognizer.insert(chunk(0, 3.0, 0.0))
    recognizer.finish(now_s=3.0)
    decoder.calls.clear()
    recognizer.insert(chunk(1, 2.0, 3.0))
    assert recognizer.process(now_s=5.0) is not None
    assert "".join(t.text for t in recognizer.finish(now_s=5.0)) == said
    assert [prefix for _, prefix in decoder.calls] == ["", "", FIRST]


@pytest.mark.parametrize(("decoded", "words"), [
    ("我们分散开来并在树林中，展开搜索", "展开搜索"),
    # English said in listen mode: the period after the forced text had opened the next
    # sentence (". Your gate has changed …") in the transcript, the terminal and the HUD
    ("Passengers for flight 1832 to Beijing. Your gate has changed.", "Your gate has changed."),
    ("Passengers for flight 1832 to Beijing... Your gate", "Your gate"),
])
def test_the_mark_after_the_forced_text_is_not_the_next_utterances(
        decoded: str, words: str) -> None:
    before = decoded.split("，")[0] if "，" in decoded else "Passengers for flight 1832 to Beijing"
    left = LeftContext(np.zeros(16_000, np.float32), before, 1.0)
    assert left.words_after(Decoded(decoded, 0.01, -0.3), "") == words
