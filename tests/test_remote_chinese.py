"""The remote backend and the router with the en→zh prompt sets, against the loopback fake
server of ``test_remote_backend``: Chinese answers are checked as Chinese, the forced
prefix is asked for and reconciled in Chinese, and a rejected answer is translated
locally with the same prompt set."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.test_remote_backend import Behaviour, FakeServer, backend_for, never

from hudtranslate.errors import RejectedAnswerError
from hudtranslate.translate.prompts import DRAFT_MESSAGE, ENGLISH_SPEECH, SPEECH, PromptSet
from hudtranslate.translate.remote import PREAMBLE_TOKENS, reconcile_chinese
from hudtranslate.translate.router import FallbackBackend
from hudtranslate.translate.to_chinese import translate_to_chinese

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer(Behaviour())
    try:
        yield fake
    finally:
        fake.stop()


@dataclass
class LocalFake:
    """The local model: answers 本地 + the source, recording the prompt set it was given."""

    name: str = "local"
    prompts: list[PromptSet] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.prompts.append(prompts)
        return forced_prefix + "本地：" + source


def replying(text: str) -> Callable[[dict[str, Any]], tuple[str, str]]:
    return lambda body: (text, "done")


@pytest.mark.parametrize("prompts", [ENGLISH_SPEECH, DRAFT_MESSAGE])
def test_chinese_answer_with_chatter_is_cleaned(server: FakeServer,
                                                prompts: PromptSet) -> None:
    server.behaviour.reply = replying("好的，以下是翻译：\n不好意思，我会晚到10分钟。\n注：口语")
    text = backend_for(server).translate("I'll be 10 minutes late.", [], forced_prefix="",
                                         max_new_tokens=40, cancelled=never, prompts=prompts)
    assert text == "不好意思，我会晚到10分钟。"
    [body] = server.behaviour.requests
    assert body["messages"][0]["content"] == prompts.system


def test_an_english_answer_to_an_english_sentence_is_rejected(server: FakeServer) -> None:
    """The model answered the question instead of translating it."""
    server.behaviour.reply = replying("The station is two blocks north.")
    with pytest.raises(RejectedAnswerError) as caught:
        backend_for(server).translate("Where is the station?", [], forced_prefix="",
                                      max_new_tokens=40, cancelled=never,
                                      prompts=ENGLISH_SPEECH)
    assert caught.value.reason == "not_chinese"


def test_the_same_answer_to_a_chinese_source_is_english(server: FakeServer) -> None:
    """The zh→en checks are untouched: English is what the speech prompt set wants."""
    server.behaviour.reply = replying("The station is two blocks north.")
    text = backend_for(server).translate("车站往北两个街区。", [], forced_prefix="",
                                         max_new_tokens=40, cancelled=never)
    assert text == "The station is two blocks north."


def test_forced_prefix_is_asked_for_in_chinese_and_reconciled(server: FakeServer) -> None:
    server.behaviour.reply = replying("如果你有问题，就问Tom吧。")
    text = backend_for(server).translate("If you have questions, ask Tom.", [],
                                         forced_prefix="如果你有问题，", max_new_tokens=40,
                                         cancelled=never, prompts=ENGLISH_SPEECH)
    assert text == "如果你有问题，就问Tom吧。"
    [body] = server.behaviour.requests
    assert 'The Chinese so far is: "如果你有问题，"' in body["messages"][-1]["content"]
    assert body["max_tokens"] == 40 + len("如果你有问题，") + PREAMBLE_TOKENS


@pytest.mark.parametrize(("prefix", "answer", "expected"), [
    ("", "我们走吧。", "我们走吧。"),
    ("如果你有问题，", "如果你有问题，就问Tom吧。", "如果你有问题，就问Tom吧。"),
    ("如果你有问题，", "要是你有问题，就问Tom吧。", "如果你有问题，就问Tom吧。"),
    ("如果你 有问题，", "如果你有 问题，就问Tom吧。", "如果你 有问题，就问Tom吧。"),
    ("如果你有问题，", "如果你有问题，", "如果你有问题，"),
])
def test_reconcile_chinese_by_characters(prefix: str, answer: str, expected: str) -> None:
    assert reconcile_chinese(prefix, answer) == expected


@pytest.mark.parametrize("prompts", [ENGLISH_SPEECH, DRAFT_MESSAGE])
def test_router_translates_a_rejected_chinese_answer_locally_with_the_same_prompts(
        server: FakeServer, prompts: PromptSet) -> None:
    server.behaviour.reply = replying("Sure! I can help with that.")
    local = LocalFake()
    router = FallbackBackend(backend_for(server), local, probe_interval_s=60)
    try:
        chinese = translate_to_chinese(router, "Can you help me?", prompts=prompts)
        assert chinese == "本地：Can you help me?"
        assert local.prompts == [prompts] and router.name == "local"
        stats = router.stats()
        assert stats.rejected == 1 and stats.healthy  # the remote stays in use
        server.behaviour.reply = replying("你能帮我吗？")
        assert translate_to_chinese(router, "Can you help me?", prompts=prompts) == "你能帮我吗？"
        assert router.name == "big" and local.prompts == [prompts]
    finally:
        router.close()


def test_router_sends_chinese_to_local_with_the_same_prompts_when_the_remote_fails(
        server: FakeServer) -> None:
    server.behaviour.mode = "http500"
    local = LocalFake()
    router = FallbackBackend(backend_for(server), local, probe_interval_s=60)
    try:
        assert translate_to_chinese(router, "Thanks.") == "本地：Thanks."
        assert local.prompts == [ENGLISH_SPEECH] and not router.healthy
    finally:
        router.close()
