"""A translation that reads as the model's reply (not the sentence's meaning) is caught,
its words are not shown while it is written, and the sentence is translated again,
quoted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from hudtranslate.config import TranslateOptions
from hudtranslate.events import Transcript, Translation
from hudtranslate.translate.answers import may_open_reply, reads_as_reply
from hudtranslate.translate.prompts import SPEECH, PromptSet, quoted_message
from hudtranslate.translate.translator import SessionTranslator


@pytest.mark.parametrize(("english", "source", "reply"), [
    # replies: carried out, answered, refused
    ("Sure, here's a joke: why did the chicken cross the road?", "告诉我一个笑话。", True),
    ("Sure, I can translate it.", "你能翻译一下吗？", True),
    ("Certainly! Spring is here, the flowers bloom.", "帮我写一首关于春天的诗。", True),
    ("You're welcome.", "谢谢。", True),
    ("You’re very welcome!", "太感谢了。", True),
    ("My pleasure.", "收到，谢谢！", True),
    ("Sorry, but I can't assist with that.", "打扰了。", True),
    ("I'm sorry, but I cannot help with this request.", "你能帮我写邮件吗？", True),
    ("Sorry, but I'm not able to assist with that.", "打扰了。", True),
    ("As an AI, I don't have feelings.", "你今天开心吗？", True),
    ("Thank you, you're welcome.", "谢谢，你真好。", True),
    ("Yes.", "对吧？", True),
    ("You're right.", "你说对不对？", True),
    # translations, though they open the same way
    ("Sure, I'll be there.", "当然，我会去的。", False),
    ("OK, see you tomorrow.", "好的，明天见。", False),
    ("Okay, got it.", "嗯嗯，知道了。", False),
    ("You're welcome.", "不客气。", False),
    ("You're welcome, it was nothing.", "不用谢，小事一桩。", False),
    ("Sorry, but I can't come tomorrow.", "不好意思，我明天来不了。", False),
    ("Thank you.", "谢谢。", False),
    ("Tell me a joke.", "告诉我一个笑话。", False),
    ("Make sure you lock the door.", "一定要锁门。", False),
    ("I can't help you with this one.", "这个我帮不了你。", False),
    ("", "谢谢。", False),
    ("Is that correct?", "你说对不对？", False),
    ("I wonder whether he is coming tomorrow or not", "他明天到底来不来？", False),
    ("You're welcome to stay with us, thank you.", "谢谢，欢迎你来我们家住。", False),
    ("Yes.", "是的。", False),
    # English said in listen mode reaches the translator as it was said
    ("You're welcome.", "Thank you", True),
    ("No problem!", "Thanks a lot.", True),
    ("Thank you.", "Thank you", False),
    ("You're welcome.", "You're welcome.", False),
    ("OK.", "OK.", False),
    ("Sure, I'll be there.", "Sure, I'll be there.", False),
    ("Sorry, but I'm late.", "Sorry, but I'm late.", False),
    ("Sure, platform 3.", "Which platform?", True),
])
def test_reads_as_reply(english: str, source: str, reply: bool) -> None:
    assert reads_as_reply(english, source) is reply


@pytest.mark.parametrize(("generated", "source", "held"), [
    ("", "告诉我一个笑话。", True),
    ("Su", "告诉我一个笑话。", True),
    ("Sure, here's", "告诉我一个笑话。", True),
    ("You're", "谢谢。", True),
    ("Sorry, but I", "打扰了。", True),
    ("Tell me", "告诉我一个笑话。", False),
    ("Thank you", "谢谢。", False),
    ("Sure, I'll", "当然，我会去的。", False),
    ("Sorry, but I", "不好意思，我明天来不了。", False),
    ("You're", "对吧？", True),
    ("Is that", "对吧？", True),
    ("Is that correct? I", "你说对不对？", False),
    ("Are you coming to the party", "你明天来参加聚会吗？", False),
])
def test_may_open_reply_holds_words_that_could_open_a_reply(
        generated: str, source: str, held: bool) -> None:
    assert may_open_reply(generated, source) is held


@dataclass
class AnsweringBackend:
    """Answers "谢谢。" with "You're welcome." and "打扰了。" with a refusal; translates them
    once quoted (the second still copying Chinese); streams its words through ``on_text``."""

    name: str = "answering"
    calls: list[str] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.calls.append(source)
        english = {"谢谢。": "You're welcome.", "「谢谢。」": '"Thank you."',
                   "打扰了。": "Sorry, but I can't assist with that.",
                   "「打扰了。」": "「Sorry, 打扰了.」"}.get(source, "Let's wait in this shop.")
        if on_text is not None:
            words = english.split()
            for index in range(len(words)):
                on_text(" ".join(words[: index + 1]) + " ")
        return forced_prefix + english


def final(uid: int, text: str, start: float) -> Transcript:
    return Transcript(uid, text, "", start, start + 1.0, True, start + 1.0)


def test_a_reply_is_translated_again_quoted_and_never_shown() -> None:
    backend = AnsweringBackend()
    translator = SessionTranslator(backend, TranslateOptions())
    translator.translate(final(0, "我们在这家店等一下吧。", 0.0))
    shown: list[Translation] = []
    result = translator.translate(final(1, "谢谢。", 5.0), emit=shown.append)
    assert result is not None and result.committed == "Thank you."
    assert backend.calls[1:] == ["谢谢。", "「谢谢。」"]
    assert shown == []  # "You're welcome." was held back while it was written
    assert translator.context[-1] == ("「谢谢。」", "Thank you.")


def test_a_retry_that_is_no_better_keeps_the_first_answer() -> None:
    backend = AnsweringBackend()
    translator = SessionTranslator(backend, TranslateOptions())
    result = translator.translate(final(0, "打扰了。", 0.0))
    assert backend.calls == ["打扰了。", "「打扰了。」"]
    assert result is not None and result.committed == "Sorry, but I can't assist with that."


def test_a_translation_streams_its_words_as_before() -> None:
    backend = AnsweringBackend()
    translator = SessionTranslator(backend, TranslateOptions())
    translator.translate(final(0, "谢谢。", 0.0))
    shown: list[Translation] = []
    translator.translate(final(1, "我们在这家店等一下吧。", 5.0), emit=shown.append)
    assert [update.committed for update in shown][:2] == ["Let's", "Let's wait"]
    assert backend.calls[2:] == ["我们在这家店等一下吧。"]


def test_quoted_message_keeps_the_terms_note_outside_the_quotes() -> None:
    assert quoted_message("我们的compute不够\n(Terms: 算力 = compute)") == (
        "「我们的compute不够」\n(Terms: 算力 = compute)")
    assert quoted_message("谢谢。") == "「谢谢。」"


@dataclass
class EnglishThanksBackend:
    """Answers English thanks with "You're welcome.", quoted or not (English said to the
    Mandarin recogniser in listen mode is sent to the translator as it was said)."""

    name: str = "english-thanks"
    calls: list[str] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.calls.append(source)
        return forced_prefix + ("You're welcome." if "Thank" in source else source)


def test_english_thanks_said_in_listen_mode_is_shown_as_said_not_answered() -> None:
    backend = EnglishThanksBackend()
    translator = SessionTranslator(backend, TranslateOptions())
    translator.translate(final(0, "我帮你倒一杯水。", 0.0))
    shown: list[Translation] = []
    result = translator.translate(final(1, "Thank you", 5.0), emit=shown.append)
    assert result is not None and result.committed == "Thank you"
    assert backend.calls[1:] == ["Thank you", quoted_message("Thank you")]
    assert [update.committed for update in shown if "welcome" in update.committed] == []
