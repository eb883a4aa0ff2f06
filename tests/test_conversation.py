"""Converse mode with fakes: draft commands, routing by language, shared context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from hudtranslate.config import ConversationOptions, Settings, TranslateOptions
from hudtranslate.conversation import ConversationTranslator, ReplyTranslator, draft_request
from hudtranslate.conversation.drafts import DraftMarker
from hudtranslate.errors import ConfigError
from hudtranslate.events import Transcript
from hudtranslate.pipeline import Engines, run_pipeline
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, chunks_of, tone_and_silence
from hudtranslate.translate.glossary import Glossary
from hudtranslate.translate.prompts import DRAFT_MESSAGE, ENGLISH_SPEECH, SPEECH, PromptSet
from hudtranslate.translate.translator import SessionTranslator

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(("said", "request_text"), [
    ("Draft: tell her I'll be ten minutes late.", "tell her I'll be ten minutes late."),
    ("draft, ask him if the meeting room changed", "ask him if the meeting room changed"),
    ("Draft message. Thank Mr. Wang for dinner", "Thank Mr. Wang for dinner"),
    ("Draft a message tell David I'm at the exit", "tell David I'm at the exit"),
    ("DRAFT - call me back", "call me back"),
    ("The draft is ready.", None),
    ("Drafting takes time.", None),
    ("Draft.", None),
    ("Where is the station?", None),
])
def test_a_draft_is_asked_for_by_its_command_at_the_start(said: str,
                                                          request_text: str | None) -> None:
    assert draft_request(said) == request_text


def test_the_wearers_chinese_is_the_answers_first_line_without_quotes() -> None:
    backend = PromptRecorder(answers={"en-zh": "「请问最近的地铁站在哪里？」\n（注：礼貌用语）"})
    reply = ReplyTranslator(backend, TranslateOptions())
    said = reply.translate(transcript("Where is the subway?", "en", 0))
    assert said is not None and said.committed == "请问最近的地铁站在哪里？"


def test_the_users_glossary_terms_in_the_wearers_english_are_given_in_chinese() -> None:
    backend = PromptRecorder()
    glossary = Glossary(terms={"北辰动力": "Polaris Power", "推理": "inference"})
    assert glossary.find_english("polaris power pays for inference.") == [
        ("Polaris Power", "北辰动力"), ("inference", "推理")]
    assert glossary.find_english("We reinfer it.") == []
    reply = ReplyTranslator(backend, TranslateOptions(), glossary=glossary)
    reply.translate(transcript("Polaris Power will sign.", "en", 0))
    assert backend.calls[0][1] == "北辰动力 will sign.\n(Terms: Polaris Power = 北辰动力)"


def test_the_mode_is_checked() -> None:
    assert Settings.load(env={}, overrides={"conversation.mode": "converse"}).conversation.mode \
        == "converse"
    with pytest.raises(ConfigError, match="listen, converse"):
        ConversationOptions(mode="talk")


@dataclass
class PromptRecorder:
    """Answers with a fixed text per prompt family; records what each call was given."""

    name: str = "fake"
    calls: list[tuple[str, str, tuple[tuple[str, str], ...]]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=lambda: {
        "speech": "Where are you going?", "en-zh": "我去火车站。",
        "draft": "不好意思，我会晚到10分钟。"})

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.calls.append((prompts.name, source, tuple(context)))
        answer = self.answers[prompts.name]
        if on_text is not None:
            on_text(answer[:2])
        return forced_prefix + answer


def transcript(text: str, language: str, utterance_id: int, *, final: bool = True,
               draft: bool = False) -> Transcript:
    return Transcript(utterance_id, text, "", utterance_id * 2.0, utterance_id * 2.0 + 1.5,
                      final, utterance_id * 2.0 + 1.6, language=language, draft=draft)


def conversation(backend: PromptRecorder) -> ConversationTranslator:
    options = TranslateOptions()
    return ConversationTranslator(SessionTranslator(backend, options),
                                  ReplyTranslator(backend, options))


def test_each_utterance_goes_the_way_its_language_says_with_both_sides_as_context() -> None:
    backend = PromptRecorder()
    translator = conversation(backend)
    heard = translator.translate(transcript("你去哪儿？", "zh", 0))
    said = translator.translate(transcript("I'm going to the train station.", "en", 1))
    assert heard is not None and heard.target_language == "en"
    assert heard.committed == "Where are you going?"
    assert said is not None and said.final and said.source_language == "en"
    assert said.committed == "我去火车站。" and said.text == "我去火车站。" and not said.draft
    assert backend.calls[1] == ("en-zh", "I'm going to the train station.",
                                (("Where are you going?", "你去哪儿？"),))
    translator.translate(transcript("好的。", "zh", 2))
    assert ("我去火车站。", "I'm going to the train station.") in backend.calls[2][2]
    assert ENGLISH_SPEECH.name == "en-zh" and DRAFT_MESSAGE.name == "draft"


def test_english_partials_are_not_translated() -> None:
    backend = PromptRecorder()
    translator = conversation(backend)
    partial = transcript("I'm going to", "en", 0, final=False)
    assert not translator.wants_partial(partial)
    assert translator.translate(partial) is None
    assert backend.calls == []


def test_a_spoken_or_typed_draft_is_written_as_a_message_without_context() -> None:
    backend = PromptRecorder()
    translator = conversation(backend)
    translator.translate(transcript("I'm going to the train station.", "en", 0))
    streamed: list[str] = []
    spoken = translator.translate(
        transcript("Draft: tell her I'll be ten minutes late", "en", 1),
        emit=lambda update: streamed.append(update.tentative))
    typed = translator.translate(transcript("tell her I'll be late", "en", 2, draft=True))
    assert spoken is not None and spoken.draft and spoken.committed == "不好意思，我会晚到10分钟。"
    assert spoken.source == "tell her I'll be ten minutes late"
    assert typed is not None and typed.draft
    assert [call[0] for call in backend.calls] == ["en-zh", "draft", "draft"]
    assert backend.calls[1][2] == () and streamed == ["不好"]
    # drafts are messages to send later, not part of the spoken conversation
    assert len(translator.listen.context) == 1


def test_a_pause_after_the_draft_command_makes_the_next_english_the_message() -> None:
    """ "Draft." [a pause that ends the utterance] "Tell her I'll be ten minutes late." had
    shown the partner 草稿 ("draft") and then the instruction word for word, no message."""
    backend = PromptRecorder()
    translator, marker = conversation(backend), DraftMarker()
    said = marker.mark(transcript("Draft", "en", 0, final=False))
    command = marker.mark(transcript("Draft.", "en", 0))
    assert (said.text, command.text, command.final, command.draft) == ("", "", True, False)
    assert translator.translate(command) is None
    partial = marker.mark(transcript("Tell her", "en", 1, final=False))
    message = translator.translate(marker.mark(
        transcript("Tell her I'll be ten minutes late.", "en", 1)))
    assert partial.draft and message is not None and message.draft
    assert message.committed == "不好意思，我会晚到10分钟。"
    assert [call[0] for call in backend.calls] == ["draft"]
    translator.translate(marker.mark(transcript("Draft.", "en", 2)))  # then nothing for a while
    later = marker.mark(Transcript(3, "Thank you.", "", 20.0, 21.0, True, 21.1, language="en"))
    answer = translator.translate(later)
    assert not later.draft and answer is not None and not answer.draft


async def test_a_spoken_draft_is_marked_from_its_partials_for_the_displays() -> None:
    """A dictated message's transcripts had said ``draft: false`` (only its caption said
    true): the partner page showed the wearer's dictation as something said to the other
    person, with no Chinese under it, until the wearer spoke again."""
    audio = tone_and_silence([(0.5, False), (3.0, True), (1.0, False), (2.0, True),
                              (1.0, False)])
    decoder = FakeDecoder(["Draft, tell her I'll be ten minutes late.", "Thanks."],
                          line_languages=("en", "en"), chars_per_s=12.0)
    engines = Engines(asr=decoder, translator=FakeBackend(), vad_factory=FakeVad)
    settings = Settings.load(env={}, overrides={"conversation.mode": "converse"})
    seen: list[Transcript] = []

    class Recorder:
        def handle(self, event: object) -> None:
            if isinstance(event, Transcript):
                seen.append(event)

        def close(self) -> None:
            pass

    result = await run_pipeline(chunks_of(audio), engines, settings, [Recorder()])
    assert [(t.source, t.draft) for t in result.translations] == [
        ("tell her I'll be ten minutes late.", True), ("Thanks.", False)]
    dictated = [t for t in seen if t.utterance_id == result.translations[0].utterance_id]
    assert len(dictated) > 1 and all(t.draft for t in dictated)


async def test_converse_mode_runs_both_directions_in_order_through_the_pipeline() -> None:
    audio = tone_and_silence([(0.5, False), (2.0, True), (1.0, False), (2.0, True),
                              (1.0, False)])
    decoder = FakeDecoder(["你好吗？", "Fine."], line_languages=("zh", "en"))
    engines = Engines(asr=decoder, translator=FakeBackend(), vad_factory=FakeVad)
    settings = Settings.load(env={}, overrides={"conversation.mode": "converse"})
    result = await run_pipeline(chunks_of(audio), engines, settings)
    assert [(t.source_language, t.source) for t in result.translations] == [
        ("zh", "你好吗？"), ("en", "Fine.")]
    assert [t.language for t in result.transcripts] == ["zh", "en"]
    listen = await run_pipeline(chunks_of(audio), Engines(
        asr=FakeDecoder(["你好吗？", "Fine."], line_languages=("zh", "en")),
        translator=FakeBackend(), vad_factory=FakeVad), Settings.load(env={}))
    assert {t.source_language for t in listen.translations} == {"zh"}


class RecordingWarmUps:
    """A backend that notes which prompt families were warmed, in order."""

    def __init__(self) -> None:
        self.families: list[str] = []

    def warm_up(self, prompts: Any) -> None:
        self.families.append(prompts.name)


@pytest.mark.parametrize(("mode", "warmed"), [("converse", ["en-zh", "draft", "speech"]),
                                              ("listen", [])])
def test_converse_mode_evaluates_the_english_prompt_before_anyone_speaks(
        mode: str, warmed: list[str]) -> None:
    from hudtranslate.engines import warm_conversation_prompts

    backend = RecordingWarmUps()
    warm_conversation_prompts(backend,  # type: ignore[arg-type]
                              Settings.load(env={}, overrides={"conversation.mode": mode}))
    assert backend.families == warmed  # the speech prompt is current again at the end


def test_serve_evaluates_the_photo_prompt_at_start_and_ends_on_the_speech_one() -> None:
    from hudtranslate.engines import warm_beside_speech
    from hudtranslate.translate.prompts import PHOTO_TEXT

    backend = RecordingWarmUps()
    warm_beside_speech(backend, PHOTO_TEXT)  # type: ignore[arg-type]
    assert backend.families == ["photo", "speech"]
