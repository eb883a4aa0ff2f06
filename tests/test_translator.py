import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

from hudtranslate import stages
from hudtranslate.config import TranslateOptions
from hudtranslate.errors import RejectedAnswerError
from hudtranslate.events import SpeechChunk, Transcript, Translation
from hudtranslate.overload import ShedKind
from hudtranslate.stages import CoreShare, Worker, asr_stage, translate_stage
from hudtranslate.testing import FakeBackend, fake_english
from hudtranslate.translate.prompts import SPEECH, PromptSet
from hudtranslate.translate.router import FallbackBackend
from hudtranslate.translate.streaming_text import text_after
from hudtranslate.translate.translator import SessionTranslator


def transcript(uid: int, text: str, start: float, end: float, *, final: bool = True,
               committed: str | None = None) -> Transcript:
    if final:
        return Transcript(uid, text, "", start, end, True, end)
    done = text if committed is None else committed
    return Transcript(uid, done, text[len(done):], start, end, False, end)


def test_final_is_committed_and_joins_context() -> None:
    backend = FakeBackend()
    translator = SessionTranslator(backend, TranslateOptions(context_sentences=2))
    result = translator.translate(transcript(0, "我们走吧。", 0.0, 1.0))
    assert result is not None
    assert result.final and result.tentative == ""
    assert result.committed == fake_english("我们走吧。")
    assert result.model == "fake"
    assert translator.context == [("我们走吧。", fake_english("我们走吧。"))]


def test_an_utterance_of_hesitation_alone_is_not_translated() -> None:
    backend = FakeBackend()
    translator = SessionTranslator(backend, TranslateOptions())
    assert translator.translate(transcript(0, "呃", 0.0, 0.5)) is None
    partial = transcript(1, "呃。我们走", 0.6, 1.5, final=False, committed="呃。我们走")
    translator.translate(partial)
    result = translator.translate(transcript(1, "呃。我们走吧。", 0.6, 2.0))
    assert result is not None and result.committed == fake_english("我们走吧。")
    assert all("呃" not in call for call in backend.calls)


def test_context_is_trimmed_in_batches() -> None:
    translator = SessionTranslator(FakeBackend(), TranslateOptions(context_sentences=2))
    for i in range(7):
        translator.translate(transcript(i, f"句子{i}。", i * 5.0, i * 5.0 + 1))
    # grows to 2 + 4 = 6, then trimmed back to the last 2
    assert [zh for zh, _ in translator.context] == ["句子5。", "句子6。"]


def test_partials_translate_committed_text_only_when_it_grew_enough() -> None:
    backend = FakeBackend()
    translator = SessionTranslator(backend, TranslateOptions(partial_min_new_chars=4))
    early = transcript(0, "我们今天", 0, 1, final=False, committed="我们")
    assert translator.translate(early) is None
    first = translator.translate(
        transcript(0, "我们今天去北京", 0, 2, final=False, committed="我们今天去"))
    assert first is not None and first.committed == ""
    assert first.tentative == fake_english("我们今天去")
    assert translator.translate(
        transcript(0, "我们今天去北京玩", 0, 2.5, final=False, committed="我们今天去北")) is None
    assert backend.calls == ["我们今天去"]


def test_final_equal_to_last_partial_reuses_its_english() -> None:
    backend = FakeBackend()
    translator = SessionTranslator(backend, TranslateOptions(partial_min_new_chars=1))
    translator.translate(transcript(0, "我们走吧", 0, 1, final=False, committed="我们走吧"))
    final = translator.translate(transcript(0, "我们走吧", 0, 1.2))
    assert final is not None and final.committed == fake_english("我们走吧")
    assert backend.calls == ["我们走吧"]


def test_cancelled_partial_returns_none_but_final_is_never_cancelled() -> None:
    backend = FakeBackend(delay_s=0.05)
    translator = SessionTranslator(backend, TranslateOptions(partial_min_new_chars=1))
    partial = transcript(0, "我们走", 0, 1, final=False, committed="我们走")
    assert translator.translate(partial, lambda: True) is None
    final = translator.translate(transcript(0, "我们走吧", 0, 1.5), lambda: True)
    assert final is not None and final.committed == fake_english("我们走吧")


@dataclass
class PrefixBackend:
    """Continues a forced prefix with a fixed English tail; empty when told to."""

    name: str = "prefix"
    tails: list[str] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.seen.append((source, forced_prefix))
        return forced_prefix + self.tails.pop(0)


def test_clause_continuation_forces_committed_english() -> None:
    backend = PrefixBackend(tails=["If you have questions,", " ask Tom."])
    translator = SessionTranslator(backend, TranslateOptions())
    first = translator.translate(transcript(0, "你如果有疑问，", 0.0, 1.9))
    second = translator.translate(transcript(1, "就问汤姆吧。", 2.2, 3.4))
    assert first is not None and second is not None
    assert backend.seen[1] == ("你如果有疑问，就问汤姆吧。", "If you have questions,")
    assert (first.committed, second.committed) == ("If you have questions,", "ask Tom.")
    assert second.source == "就问汤姆吧。"
    whole = ("你如果有疑问，就问汤姆吧。", "If you have questions, ask Tom.")
    assert translator.context[-1] == whole


def test_a_piece_the_speaker_goes_on_with_loses_its_full_stop() -> None:
    """The model ends every piece as a sentence; an open one is continued without it."""
    backend = PrefixBackend(tails=["I think running matters most.", " for my health."])
    translator = SessionTranslator(backend, TranslateOptions())
    first = translator.translate(transcript(0, "我认为跑步最重要的就是", 0.0, 2.6))
    second = translator.translate(transcript(1, "给我带来了身体健康", 2.6, 4.7))
    assert first is not None and second is not None
    assert first.committed == "I think running matters most"
    assert backend.seen[1] == ("我认为跑步最重要的就是给我带来了身体健康",
                               "I think running matters most")
    assert translator.context[-1][1] == "I think running matters most for my health."


def test_no_continuation_after_a_long_pause_or_a_whole_sentence() -> None:
    backend = PrefixBackend(tails=["A,", "B.", "C."])
    translator = SessionTranslator(backend, TranslateOptions())
    translator.translate(transcript(0, "甲，", 0.0, 1.0))
    translator.translate(transcript(1, "乙", 5.0, 6.0))  # long pause: a new sentence
    translator.translate(transcript(2, "丙", 6.2, 7.0))  # "乙" had no clause mark
    assert [prefix for _, prefix in backend.seen] == ["", "", ""]


def test_empty_continuation_falls_back_to_translating_the_part_alone() -> None:
    backend = PrefixBackend(tails=["Too much salt,", "", "Too salty."])
    translator = SessionTranslator(backend, TranslateOptions())
    translator.translate(transcript(0, "菜里盐放多了，", 0.0, 1.9))
    second = translator.translate(transcript(1, "太咸", 1.9, 2.7))
    assert second is not None and second.committed == "Too salty."
    assert backend.seen[-1] == ("太咸", "")


def test_a_part_translated_alone_reads_on_after_the_open_clause() -> None:
    # real-023: "If possible," committed, the continuation came back empty and the part
    # translated alone was shown as "If possible, To see it for yourself."
    backend = PrefixBackend(tails=["If possible,", "", "To see it for yourself."])
    translator = SessionTranslator(backend, TranslateOptions(clause_commit_chars=4))
    first = translator.translate(
        transcript(0, "如果有机会的话，亲", 0, 2.0, final=False, committed="如果有机会的话，亲"))
    assert first is not None and first.committed == "If possible,"
    final = translator.translate(transcript(0, "如果有机会的话，亲身去看看", 0, 3.0))
    assert final is not None and final.committed == "If possible, to see it for yourself."
    assert backend.seen[-1] == ("亲身去看看", "")


def test_a_continuation_the_model_capitalised_reads_on_after_the_clause() -> None:
    # real-023, two utterances: "If possible," then the model continued it " To see…"
    backend = PrefixBackend(tails=["If possible,", " To see it for yourself.",
                                   "We met,", " Tom was there."])
    translator = SessionTranslator(backend, TranslateOptions())
    translator.translate(transcript(0, "如果有机会的话，", 0.0, 1.9))
    second = translator.translate(transcript(1, "亲身去看看。", 2.0, 3.0))
    assert backend.seen[1] == ("如果有机会的话，亲身去看看。", "If possible,")
    assert second is not None and second.committed == "to see it for yourself."
    translator.translate(transcript(2, "我们见了面，", 5.0, 6.0))
    fourth = translator.translate(transcript(3, "汤姆也在。", 6.1, 7.0))
    assert fourth is not None and fourth.committed == "Tom was there."  # a name keeps it


def test_a_part_translated_alone_after_a_bare_clause_gets_its_full_stop_back() -> None:
    backend = PrefixBackend(tails=["We went there", "", "The next day it rained."])
    translator = SessionTranslator(backend, TranslateOptions(clause_commit_chars=4))
    translator.translate(
        transcript(0, "我们去了那里，第", 0, 2.0, final=False, committed="我们去了那里，第"))
    final = translator.translate(transcript(0, "我们去了那里，第二天下雨了", 0, 3.0))
    assert final is not None
    assert final.committed == "We went there. The next day it rained."


def test_sentence_committed_mid_utterance_is_committed_at_once_and_never_changes() -> None:
    backend = PrefixBackend(tails=["I am ill.", " Am", "Say it."])
    translator = SessionTranslator(backend, TranslateOptions(partial_min_new_chars=2))
    first = translator.translate(
        transcript(0, "我生病了。心里", 0, 2.0, final=False, committed="我生病了。心里"))
    assert first is not None and (first.committed, first.tentative) == ("I am ill.", "")
    assert translator.context[-1] == ("我生病了。", "I am ill.")
    second = translator.translate(
        transcript(0, "我生病了。心里有话", 0, 3.0, final=False, committed="我生病了。心里有"))
    assert second is not None and second.committed == "I am ill." and second.tentative == "Am"
    final = translator.translate(transcript(0, "我生病了。心里有话就说出来", 0, 4.0))
    assert final is not None and final.committed == "I am ill. Say it."
    assert backend.seen[-1] == ("心里有话就说出来", "")
    assert translator.context[-1] == ("心里有话就说出来", "Say it.")


@dataclass
class StreamingBackend:
    """Writes ``answers`` (one per call) token by token through ``on_text``; returns
    ``finals`` instead when given (a backend whose whole answer differs from its stream)."""

    name: str = "streaming"
    answers: list[str] = field(default_factory=list)
    finals: list[str] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        answer = self.answers.pop(0)
        if on_text is not None:
            for end in range(1, len(answer) + 1, 3):  # pieces cut mid-word
                on_text(answer[:end])
        return forced_prefix + (self.finals.pop(0) if self.finals else answer)


def test_final_english_is_committed_word_by_word_as_it_is_written() -> None:
    backend = StreamingBackend(answers=["We will leave at nine tomorrow."])
    translator = SessionTranslator(backend, TranslateOptions())
    updates: list[Translation] = []
    final = translator.translate(transcript(0, "我们明天九点走。", 0, 2), emit=updates.append)
    assert final is not None and final.final
    assert final.committed == "We will leave at nine tomorrow."
    shown = [update.committed for update in updates]
    assert shown == ["We", "We will", "We will leave", "We will leave at", "We will leave at nine"]
    assert not any(update.final for update in updates)


def test_streamed_words_stay_even_if_the_whole_answer_differs() -> None:
    backend = StreamingBackend(answers=["Tom said yes to it."], finals=['"Tom says yes."'])
    translator = SessionTranslator(backend, TranslateOptions())
    updates: list[Translation] = []
    final = translator.translate(transcript(0, "汤姆同意了。", 0, 2), emit=updates.append)
    assert final is not None
    assert updates[-1].committed == "Tom said yes to"
    assert final.committed.startswith("Tom said yes to")


def test_tentative_english_stays_after_streamed_words_while_it_agrees() -> None:
    backend = StreamingBackend(answers=["I went to the shop", "I went to the shop yesterday."])
    translator = SessionTranslator(backend, TranslateOptions(partial_min_new_chars=1))
    tentative = translator.translate(
        transcript(0, "我昨天去了商店", 0, 1, final=False, committed="我昨天去了商店"))
    assert tentative is not None and tentative.tentative == "I went to the shop"
    updates: list[Translation] = []
    translator.translate(transcript(0, "我昨天去了商店。", 0, 2), emit=updates.append)
    assert (updates[0].committed, updates[0].tentative) == ("I", "went to the shop")
    assert (updates[3].committed, updates[3].tentative) == ("I went to the", "shop")
    assert updates[-1].committed == "I went to the shop"


def test_partials_are_never_streamed_as_committed() -> None:
    backend = StreamingBackend(answers=["We are going to"])
    translator = SessionTranslator(backend, TranslateOptions(partial_min_new_chars=1))
    updates: list[Translation] = []
    result = translator.translate(
        transcript(0, "我们要去", 0, 1, final=False, committed="我们要去"), emit=updates.append)
    assert result is not None and result.committed == "" and updates == []


async def run_stage(transcripts: AsyncIterator[Transcript], translator: SessionTranslator,
                    *, partials: bool = True) -> list[Translation]:
    """Everything the translation stage yields, on a worker of its own."""
    worker = Worker("mt")
    try:
        return [event async for event in translate_stage(transcripts, translator, worker,
                                                         partials=partials)]
    finally:
        worker.close()


async def test_stage_yields_word_updates_before_the_final_and_never_erases() -> None:
    backend = StreamingBackend(answers=["Let us go now.", "It is raining today."])

    async def finals() -> AsyncIterator[Transcript]:
        yield transcript(0, "我们走吧。", 0, 1)
        yield transcript(1, "今天下雨。", 2, 3)

    events = await run_stage(finals(), SessionTranslator(backend, TranslateOptions()))
    assert [(e.utterance_id, e.final) for e in events if e.final] == [(0, True), (1, True)]
    for uid in (0, 1):
        mine = [e for e in events if e.utterance_id == uid]
        assert mine[-1].final and len(mine) > 1
        for before, after in itertools.pairwise(mine):
            assert after.committed.startswith(before.committed)
    sentence_mode = await run_stage(
        finals(), SessionTranslator(StreamingBackend(answers=["A b c.", "D e f."]),
                                    TranslateOptions()), partials=False)
    assert all(event.final for event in sentence_mode) and len(sentence_mode) == 2


async def test_the_heap_is_offered_back_after_finals_with_nothing_waiting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    offered: list[bool] = []
    monkeypatch.setattr(stages, "release_free_heap", lambda: offered.append(True) or True)

    async def finals() -> AsyncIterator[Transcript]:
        yield transcript(0, "我们走吧。", 0, 1)
        await asyncio.sleep(0.05)  # the first final's batch ends before the second comes
        yield transcript(1, "今天下雨。", 2, 3)

    await run_stage(finals(), SessionTranslator(FakeBackend(), TranslateOptions()),
                    partials=False)
    assert len(offered) == 2


@dataclass
class CountingRecognizer:
    """Counts partial decodes; every chunk is a partial until a final chunk."""

    partial_calls: int = 0
    partial_due: bool = True
    final_ahead_due: bool = False

    def insert(self, chunk: SpeechChunk) -> None:
        pass

    def process(self, now_s: float) -> Transcript | None:
        self.partial_calls += 1
        return None

    def skip_partial(self) -> None:
        pass

    def finish(self, now_s: float) -> Transcript | None:
        return None


async def test_recognition_postpones_partials_while_a_final_is_translated() -> None:
    chunks = [SpeechChunk(0, np.zeros(1600, dtype=np.float32), 0.1 * i, False)
              for i in range(3)]

    async def speech() -> AsyncIterator[SpeechChunk]:
        for chunk in chunks:
            yield chunk
            await asyncio.sleep(0.01)

    for busy, expected in ((False, 3), (True, 0)):
        recognizer = CountingRecognizer()
        worker = Worker("asr")
        try:
            async for _ in asr_stage(speech(), recognizer,  # type: ignore[arg-type]
                                     worker, lambda: 0.0, CoreShare(translating_final=busy)):
                pass
        finally:
            worker.close()
        assert recognizer.partial_calls == expected


class SheddingLoad:
    """A session's load at a level that sheds every optional piece of work."""

    def __init__(self) -> None:
        self.asked: list[ShedKind] = []
        self.shared = SimpleNamespace(sessions=2)

    def watch(self, stage: str, pending_since: Callable[[], float | None]) -> None:
        pass

    def admit(self, kind: ShedKind) -> bool:
        self.asked.append(kind)
        return False


async def test_a_partial_decode_shed_while_a_final_is_translated_is_counted() -> None:
    async def speech() -> AsyncIterator[SpeechChunk]:
        for index in range(3):
            yield SpeechChunk(0, np.zeros(1600, dtype=np.float32), 0.1 * index, False)
            await asyncio.sleep(0.01)

    recognizer, load, worker = CountingRecognizer(), SheddingLoad(), Worker("asr")
    try:
        async for _ in asr_stage(speech(), recognizer, worker,  # type: ignore[arg-type]
                                 lambda: 0.0, CoreShare(translating_final=True),
                                 load):  # type: ignore[arg-type]
            pass
    finally:
        worker.close()
    assert recognizer.partial_calls == 0
    assert load.asked == [ShedKind.PARTIAL_DECODE] * 3


@dataclass
class PreparingBackend(FakeBackend):
    prepared: list[list[tuple[str, str]]] = field(default_factory=list)

    def prepare(self, context: Sequence[tuple[str, str]]) -> None:
        self.prepared.append(list(context))


async def two_finals() -> AsyncIterator[Transcript]:
    """Two sentences' finals, 50 ms apart (time for a prefill between them)."""
    yield transcript(0, "我们走吧。", 0, 1)
    await asyncio.sleep(0.05)
    yield transcript(1, "今天下雨。", 2, 3)


async def test_next_prompt_is_prepared_after_a_final_with_the_new_context() -> None:
    backend = PreparingBackend()

    events = await run_stage(two_finals(), SessionTranslator(backend, TranslateOptions()))
    assert len(events) == 2
    assert [[zh for zh, _ in context] for context in backend.prepared] == [
        ["我们走吧。"], ["我们走吧。", "今天下雨。"]]
    SessionTranslator(FakeBackend(), TranslateOptions()).prepare_next()  # no cache: no-op


@dataclass
class UnpaidPreparingBackend(PreparingBackend):
    prefill_pays: bool = False


async def test_next_prompt_is_not_prepared_where_the_backend_says_it_does_not_pay() -> None:
    backend = UnpaidPreparingBackend()

    translator = SessionTranslator(backend, TranslateOptions())
    assert not translator.can_prepare
    assert len(await run_stage(two_finals(), translator)) == 2
    assert backend.prepared == []


def test_committed_clause_is_committed_and_the_sentence_continues_it() -> None:
    backend = PrefixBackend(tails=["He can't drink much,", " but his friends love to drink."])
    translator = SessionTranslator(backend, TranslateOptions(clause_commit_chars=4))
    clause = translator.translate(
        transcript(0, "他不太能喝酒，但是朋友", 0, 2, final=False, committed="他不太能喝酒，但是"))
    assert clause is not None and clause.committed == "He can't drink much,"
    assert clause.tentative == ""
    final = translator.translate(transcript(0, "他不太能喝酒，但是朋友都喜欢喝。", 0, 3))
    assert final is not None
    assert final.committed == "He can't drink much, but his friends love to drink."
    assert backend.seen == [("他不太能喝酒，", ""),
                            ("他不太能喝酒，但是朋友都喜欢喝。", "He can't drink much,")]


def test_short_clauses_and_list_commas_wait_for_more() -> None:
    backend = FakeBackend()
    translator = SessionTranslator(backend, TranslateOptions(clause_commit_chars=4,
                                                             partial_min_new_chars=50))
    assert translator.translate(
        transcript(0, "好的，我们", 0, 1, final=False, committed="好的，我们")) is None
    fruit = "苹果香蕉橘子、西瓜"
    assert translator.translate(transcript(0, fruit, 0, 2, final=False, committed=fruit)) is None
    assert backend.calls == []
    off = SessionTranslator(backend, TranslateOptions(clause_commit_chars=0,
                                                      partial_min_new_chars=50))
    clause = "他不太能喝酒，但是"
    assert off.translate(transcript(0, clause, 0, 1, final=False, committed=clause)) is None


@pytest.mark.parametrize(("final", "translated", "rest"), [
    ("他不太能喝酒，但是朋友都喜欢喝。", "他不太能喝酒，", "但是朋友都喜欢喝。"),
    ("他不太能喝酒，但是朋友都喜欢喝。", "", "他不太能喝酒，但是朋友都喜欢喝。"),
    ("他不太会喝酒，但是朋友都喜欢喝。", "他不太能喝酒，", "但是朋友都喜欢喝。"),
    ("他不太能喝酒但是朋友都喜欢喝。", "他不太能喝酒，", "但是朋友都喜欢喝。"),
    ("他不太能喝久，但是朋友都喜欢喝。", "他不太能喝酒，", "但是朋友都喜欢喝。"),
    ("我们走吧。", "我们走吧。", ""),
])
def test_final_text_is_aligned_to_what_was_translated(final: str, translated: str,
                                                     rest: str) -> None:
    assert text_after(final, translated) == rest


@dataclass
class FlakyRemote(FakeBackend):
    """A remote (it can be probed) whose answers are refused while ``reject`` is set."""

    reject: bool = False

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        if self.reject:
            raise RejectedAnswerError("chatter")
        return super().translate(source, context, forced_prefix=forced_prefix,
                                 max_new_tokens=max_new_tokens, cancelled=cancelled)

    def probe(self) -> bool:
        return True


def test_each_event_names_the_models_whose_english_it_shows() -> None:
    """A clause from the remote, the rest of its sentence from the local model (the
    remote's answer was refused): "big+local"; the next sentence, all local, "local"."""
    remote = FlakyRemote(name="big")
    local = StreamingBackend(name="local", answers=[
        "but his friends", "but his friends all love to drink.", "Let's go."])
    router = FallbackBackend(remote, local, probe_interval_s=60)
    translator = SessionTranslator(router, TranslateOptions(clause_commit_chars=4,
                                                            partial_min_new_chars=1))
    try:
        clause = translator.translate(transcript(0, "他不太能喝酒，但是朋友", 0, 2, final=False,
                                                 committed="他不太能喝酒，但是"))
        assert clause is not None and clause.model == "big" and clause.committed
        remote.reject = True
        tentative = translator.translate(
            transcript(0, "他不太能喝酒，但是朋友都", 0, 2.5, final=False,
                       committed="他不太能喝酒，但是朋友都"))
        assert tentative is not None and tentative.tentative and tentative.model == "big+local"
        updates: list[Translation] = []
        final = translator.translate(transcript(0, "他不太能喝酒，但是朋友都喜欢喝。", 0, 3),
                                     emit=updates.append)
        assert final is not None and final.model == "big+local"
        assert final.committed.startswith(clause.committed)
        assert final.committed.endswith("but his friends all love to drink.")
        assert len(updates) > 2 and all(update.model == "big+local" for update in updates)
        alone = translator.translate(transcript(1, "我们走吧。", 10, 11))
        assert alone is not None and alone.model == "local" and alone.committed == "Let's go."
    finally:
        router.close()


@pytest.mark.parametrize(("steps", "expected"), [
    # (committed Chinese of successive partials of one utterance, whether each reaches the model)
    (["我们", "我们今天去", "我们今天去北", "我们今天去北京玩了"], [False, True, False, True]),
    (["我们走吧。", "我们走吧。今", "我们走吧。今天下雨"], [True, False, True]),
    (["如果明天下雨的话，", "如果明天下雨的话，我们"], [True, False]),
])
def test_wants_partial_says_exactly_when_a_partial_reaches_the_model(
        steps: list[str], expected: list[bool]) -> None:
    backend = FakeBackend()
    translator = SessionTranslator(backend, TranslateOptions(partial_min_new_chars=4,
                                                             clause_commit_chars=8))
    wanted, called = [], []
    for index, committed in enumerate(steps):
        partial = transcript(0, committed + "的", 0, 1 + index, final=False, committed=committed)
        wanted.append(translator.wants_partial(partial))
        before = len(backend.calls)
        translator.translate(partial)
        called.append(len(backend.calls) > before)
    assert wanted == called == expected
    final = translator.translate(transcript(0, steps[-1] + "的。", 0, 9))
    assert final is not None and final.final
    # a new utterance starts from nothing done
    assert translator.wants_partial(transcript(1, "明天见", 10, 11, final=False)) is False
    assert translator.wants_partial(transcript(1, "明天见朋友们", 10, 11, final=False))


@dataclass
class AnswerBackend:
    """Answers every message with a fixed text; records the messages."""

    answer: str
    name: str = "answers"
    messages: list[str] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.messages.append(source)
        return forced_prefix + self.answer


@pytest.mark.parametrize(("answer", "context"), [
    # the English is the model's answer: the turn as sent and written (already evaluated)
    (" Let's go.", ("我们走吧。", " Let's go.")),
    # cleaning changed the answer: the plain Chinese and the English shown
    ('Translation: "Let\'s go."', ("嗯，我们走吧。", "Let's go.")),
])
def test_a_finished_sentence_joins_the_context_as_the_model_saw_it_when_it_can(
        answer: str, context: tuple[str, str]) -> None:
    backend = AnswerBackend(answer)
    translator = SessionTranslator(backend, TranslateOptions(context_sentences=2))
    translator.translate(transcript(0, "嗯，我们走吧。", 0.0, 1.0))
    assert backend.messages == ["我们走吧。"]  # the hesitation is not sent
    assert translator.context == [context]


def test_an_ordinary_chinese_word_copied_into_the_english_is_glossed_not_romanised() -> None:
    """The model copied 直播间 "live-streaming studio" into its English: no streamed update
    shows it romanised as a name ("Zhibojian"); the final has CC-CEDICT's gloss. A given
    name copied through (小雨, also "light rain") is still written in pinyin."""
    backend = StreamingBackend(answers=["Come to the 直播间 on Monday.", "小雨, come here."])
    translator = SessionTranslator(backend, TranslateOptions())
    updates: list[Translation] = []
    final = translator.translate(transcript(0, "星期一来直播间。", 0, 2), emit=updates.append)
    assert final is not None and final.committed == "Come to the studio on Monday."
    assert updates and not any("Zhibo" in update.committed for update in updates)
    named = translator.translate(transcript(1, "小雨，你过来。", 2, 4))
    assert named is not None and named.committed == "Xiaoyu, come here."
