"""The overflow model: which model writes a sentence, what context each sees, and when the
server counts as behind (fakes only; the real models are measured by scripts/loadtest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import pytest

from hudtranslate.config import ConfigError, OverloadOptions, Settings
from hudtranslate.sharing import SharedLoad
from hudtranslate.translate.overflow import OverflowBackend, local_engine, main_backend
from hudtranslate.translate.prompts import SPEECH, PromptSet

pytestmark = pytest.mark.timeout(30)


@dataclass
class Recorder:
    """A backend that answers with its name and keeps what it was given."""

    name: str
    contexts: list[list[tuple[str, str]]] = field(default_factory=list)
    prepared: int = 0
    forgotten: list[Hashable] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *, forced_prefix: str,
                  max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.contexts.append(list(context))
        return f"{self.name}: {source}"

    def prepare(self, context: Sequence[tuple[str, str]], prompts: PromptSet = SPEECH) -> None:
        self.prepared += 1

    def forget_owner(self, owner: Hashable) -> None:
        self.forgotten.append(owner)


def ask(backend: OverflowBackend, source: str, context: Sequence[tuple[str, str]] = ()) -> str:
    answer = backend.translate(source, context, forced_prefix="", max_new_tokens=16,
                               cancelled=lambda: False)
    assert answer is not None
    return answer


def test_the_small_model_writes_only_while_behind_and_each_caption_names_its_model() -> None:
    main, small = Recorder("qwen2.5-1.5b"), Recorder("qwen2.5-0.5b-q4_0")
    backend = OverflowBackend(main, small)
    assert backend.name == "qwen2.5-1.5b"  # before any translation: the main model
    assert ask(backend, "你好。") == "qwen2.5-1.5b: 你好。"  # never behind until wired
    behind = [True]
    backend.behind = lambda: behind[0]
    assert ask(backend, "我们走吧。") == "qwen2.5-0.5b-q4_0: 我们走吧。"
    assert backend.name == "qwen2.5-0.5b-q4_0"
    names: list[str] = []
    other = threading.Thread(target=lambda: names.append(backend.name))
    other.start()
    other.join()
    assert names == ["qwen2.5-1.5b"]  # the name is this thread's, not another's
    behind[0] = False
    ask(backend, "谢谢。")
    assert backend.name == "qwen2.5-1.5b"


def test_each_model_sees_only_the_context_turns_the_other_did_not_write() -> None:
    main, small = Recorder("main"), Recorder("small")
    backend = OverflowBackend(main, small)
    behind = [False]
    backend.behind = lambda: behind[0]
    earlier = ("他来了。", "He came.")  # written before this server knew: both see it
    ask(backend, "第一句。", [earlier])
    behind[0] = True
    ask(backend, "第二句。", [earlier, ("第一句。", "main: 第一句。")])
    behind[0] = False
    context = [earlier, ("第一句。", "main: 第一句。"), ("第二句。", "small: 第二句。")]
    ask(backend, "第三句。", context)
    assert small.contexts[-1] == [earlier]
    assert main.contexts[-1] == [earlier, ("第一句。", "main: 第一句。")]


def test_prefills_are_for_the_main_model_and_not_while_behind() -> None:
    main, small = Recorder("main"), Recorder("small")
    backend = OverflowBackend(main, small)
    backend.prepare([])
    behind = [True]
    backend.behind = lambda: behind[0]
    backend.prepare([])
    assert (main.prepared, small.prepared) == (1, 0)
    backend.forget_owner("wearer 1")
    assert main.forgotten == small.forgotten == ["wearer 1"]
    assert main_backend(backend) is main and main_backend(main) is main
    assert local_engine(backend) is None  # fakes have no llama.cpp engine


async def test_behind_from_the_overflow_lag_until_the_backlog_stays_low() -> None:
    now = [100.0]
    local = [True]
    load = SharedLoad(OverloadOptions(overflow_lag_s=1.5, recover_share=0.5,
                                      recover_hold_s=5.0, raise_hold_s=1.0),
                      translates_locally=lambda: local[0], clock=lambda: now[0])
    session = load.join()
    waiting_since: list[float | None] = [None]
    session.watch("mt", lambda: waiting_since[0])
    steps = [  # (time, oldest input's arrival, behind after the check)
        (100.0, None, False),
        (101.0, 99.6, False),   # 1.4 s behind
        (101.5, 100.0, True),   # 1.5 s: at once (no hold: every sentence counts)
        (102.0, 101.0, True),   # 1.0 s: not low enough to recover
        (103.0, 102.5, True),   # 0.5 s: calm from here...
        (107.9, 107.5, True),
        (108.0, 107.6, False),  # ...for 5 s: back to the main model
        (109.0, 107.0, True),
    ]
    for time_s, since, expected in steps:
        now[0], waiting_since[0] = time_s, since
        load.check()
        assert load.behind() is expected, time_s
    local[0] = False  # a healthy remote translates: no local model is behind
    assert not load.behind()
    session.close()
    local[0] = True
    assert not load.behind()  # nobody left: not behind


def test_the_overflow_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"overload\.overflow_lag_s"):
        OverloadOptions(overflow_lag_s=0.0)
    settings = Settings.load(env={"HUDTRANSLATE_OVERLOAD_OVERFLOW_MODEL": "qwen2.5-0.5b-q4_0"})
    assert settings.overload.overflow_model == "qwen2.5-0.5b-q4_0"
    assert Settings.load(env={}).overload.overflow_model == "auto"  # serve chooses


async def test_a_server_with_an_overflow_model_asks_its_shared_load_whether_it_is_behind(
        ) -> None:
    from hudtranslate.pipeline import Engines
    from hudtranslate.server.manager import SessionManager
    from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad

    translator = OverflowBackend(FakeBackend(), Recorder("small"))
    manager = SessionManager(Engines(asr=FakeDecoder(["你好。"]), translator=translator,
                                     vad_factory=FakeVad), Settings.load(env={}))
    assert translator.behind == manager.load.behind
    assert manager.load.main_share == translator.main_share
    assert manager.metrics.value("hudtranslate_overflow_active") == 0.0
    manager.load.overflow.on = True
    assert translator.behind()
    assert manager.metrics.value("hudtranslate_overflow_active") == 1.0  # seen in /metrics


def test_each_translation_is_timed_for_whether_the_main_model_would_keep_up() -> None:
    main, small = Recorder("main"), Recorder("small")
    backend = OverflowBackend(main, small)
    behind = [False]
    backend.behind = lambda: behind[0]
    assert backend.main_share(time.monotonic()) is None  # nothing timed yet
    ask(backend, "第一句。")
    alone = backend.main_share(time.monotonic())  # the main model's own share
    assert alone is not None and alone > 0.0
    behind[0] = True
    ask(backend, "第二句。")
    share = backend.main_share(time.monotonic())
    assert share is not None and share >= 0.0


async def test_the_main_model_takes_over_only_if_it_would_keep_up() -> None:
    now = [0.0]
    load = SharedLoad(OverloadOptions(overflow_lag_s=1.5, recover_share=0.5,
                                      recover_hold_s=5.0), clock=lambda: now[0])
    share = [1.3]
    load.main_share = lambda now_s, window_s: share[0]
    session = load.join()
    waiting_since: list[float | None] = [None]
    session.watch("mt", lambda: waiting_since[0])
    now[0], waiting_since[0] = 1.5, 0.0  # 1.5 s behind
    load.check()
    waiting_since[0] = None
    for second in range(2, 30):  # caught up, but only thanks to the small model
        now[0] = float(second)
        load.check()
        assert load.behind(), second
    share[0] = 0.8
    for second in range(30, 36):
        now[0] = float(second)
        load.check()
    assert not load.behind()  # the hold of 5 s from 30 s
    session.close()


def test_who_wrote_a_turn_is_remembered_per_stream() -> None:
    from hudtranslate.translate.llama_cache import kv_owner

    main, small = Recorder("main"), Recorder("small")
    backend = OverflowBackend(main, small)
    behind = [False]
    backend.behind = lambda: behind[0]
    with kv_owner("wearer A"):
        ask(backend, "谢谢。")
    behind[0] = True
    with kv_owner("wearer B"):
        ask(backend, "谢谢。")  # the same words from another wearer, by the other model
    behind[0] = False
    with kv_owner("wearer A"):
        ask(backend, "不客气。", [("谢谢。", "main: 谢谢。")])
    assert main.contexts[-1] == [("谢谢。", "main: 谢谢。")]  # wearer A's own turn stays


def test_a_small_model_still_to_load_leaves_every_sentence_to_the_main_one() -> None:
    main, small = Recorder("main"), Recorder("small")
    loaded = threading.Event()

    def load() -> Recorder:
        loaded.wait(10)
        return small

    backend = OverflowBackend(main, None, load_small=load)
    backend.behind = lambda: True
    backend.forget_owner("wearer 1")  # nothing to forget in a model not loaded
    assert ask(backend, "你好。") == "main: 你好。"  # behind, but nothing else to ask
    told: list[str] = []
    backend.on_small_loaded = lambda: told.append("loaded")
    backend.load_small_soon()
    backend.load_small_soon()  # once: a third wearer does not load it again
    assert ask(backend, "谢谢。") == "main: 谢谢。"
    loaded.set()
    assert backend.wait_loaded(10)
    assert told == ["loaded"]
    assert ask(backend, "再见。") == "small: 再见。"
    assert main.contexts[-1] == [] and small.contexts[-1] == []


def test_a_small_model_that_fails_to_load_is_logged_and_left_out(
        caplog: pytest.LogCaptureFixture) -> None:
    from hudtranslate.errors import ModelError

    def broken() -> Recorder:
        raise ModelError("model 'qwen2.5-0.5b-q4_0' is corrupt; run: hudtranslate models "
                         "fetch qwen2.5-0.5b-q4_0")

    backend = OverflowBackend(Recorder("main"), None, load_small=broken)
    backend.behind = lambda: True
    backend.load_small_soon()
    assert not backend.wait_loaded(10)
    assert ask(backend, "你好。") == "main: 你好。"
    assert "overflow model not loaded" in caplog.text and "is corrupt" in caplog.text


def test_a_small_model_that_failed_to_load_is_tried_again_later(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hudtranslate.errors import ModelError
    from hudtranslate.translate import overflow

    attempts: list[str] = []
    small = Recorder("small")

    def flaky() -> Recorder:
        attempts.append("load")
        if len(attempts) == 1:
            raise ModelError("cannot load model 'qwen2.5-0.5b-q4_0': out of memory")
        return small

    backend = OverflowBackend(Recorder("main"), None, load_small=flaky)
    backend.behind = lambda: True
    backend.load_small_soon()
    assert not backend.wait_loaded(10)
    backend.load_small_soon()  # a wearer who joins at once: too soon to try again
    assert not backend.wait_loaded(10) and attempts == ["load"]
    monkeypatch.setattr(overflow, "RETRY_LOAD_AFTER_S", 0.0)
    backend.load_small_soon()  # one who joins later
    assert backend.wait_loaded(10) and attempts == ["load", "load"]
    assert ask(backend, "你好。") == "small: 你好。"
    backend.load_small_soon()  # loaded: never again
    assert attempts == ["load", "load"]


async def test_a_second_wearer_loads_the_small_model() -> None:
    from hudtranslate.pipeline import Engines
    from hudtranslate.server.manager import SessionManager
    from hudtranslate.testing import FakeDecoder, FakeVad

    small = Recorder("small")
    translator = OverflowBackend(Recorder("main"), None, load_small=lambda: small)
    manager = SessionManager(Engines(asr=FakeDecoder(["你好。"]), translator=translator,
                                     vad_factory=FakeVad), Settings.load(env={}))
    first = manager.load.join()
    assert not translator.wait_loaded(0.0)  # one wearer never needs it
    second = manager.load.join()
    assert translator.wait_loaded(10) and translator.small is small
    assert translator.on_small_loaded is not None  # the server sets the threads it uses
    second.close()
    first.close()


async def test_a_small_model_not_in_use_is_never_reported_as_writing(
        caplog: pytest.LogCaptureFixture) -> None:
    """Still loading, or failed to load: the main model writes every sentence, so neither
    /metrics nor the log may say the overflow model does."""
    from hudtranslate.errors import ModelError
    from hudtranslate.pipeline import Engines
    from hudtranslate.server.manager import SessionManager
    from hudtranslate.testing import FakeDecoder, FakeVad

    loaded, small = threading.Event(), Recorder("small")

    def load() -> Recorder:
        loaded.wait(10)
        if not small.name:
            raise ModelError("model 'qwen2.5-0.5b-q4_0' is corrupt")
        return small

    for fails in (False, True):
        loaded.clear()
        small.name = "" if fails else "small"
        translator = OverflowBackend(Recorder("main"), None, load_small=load)
        manager = SessionManager(Engines(asr=FakeDecoder(["你好。"]), translator=translator,
                                         vad_factory=FakeVad), Settings.load(env={}))
        caplog.clear()
        translator.load_small_soon()
        manager.load._follow_overflow(0.0, 60.0)  # far behind while it loads
        assert manager.load.overflow.on
        assert manager.metrics.value("hudtranslate_overflow_active") == 0.0
        assert "the overflow model translates" not in caplog.text
        loaded.set()
        assert translator.wait_loaded(10) is not fails
        assert manager.metrics.value("hudtranslate_overflow_active") == (0.0 if fails else 1.0)


# overflow_model, max_sessions, the main model, the 0.5B's state: whether "auto" loads it
AUTO_CHOICES = [
    ("auto", 2, "qwen2.5-1.5b", "verified", True),
    ("auto", 3, "qwen2.5-1.5b", "unverified", True),  # verified as it loads
    ("auto", 1, "qwen2.5-1.5b", "verified", False),  # one wearer never needs it
    ("auto", 2, None, "verified", False),  # no local model (a fake, in tests)
    ("auto", 2, "qwen2.5-0.5b-q4_0", "verified", False),  # the main model is the small one
    ("", 2, "qwen2.5-1.5b", "verified", False),
    ("off", 2, "qwen2.5-1.5b", "verified", False),
    ("auto", 2, "qwen2.5-1.5b", "missing", False),
    ("auto", 2, "qwen2.5-1.5b", "corrupt", False),
]


@pytest.mark.parametrize(("setting", "max_sessions", "main", "state", "expected"),
                         AUTO_CHOICES)
def test_auto_loads_the_small_model_for_several_wearers_if_it_is_installed(
        monkeypatch: pytest.MonkeyPatch, setting: str, max_sessions: int, main: str | None,
        state: str, expected: bool) -> None:
    import io

    from rich.console import Console

    import hudtranslate.models
    from hudtranslate.models import ModelState
    from hudtranslate.server.serve import auto_overflow_model, named_overflow_model

    monkeypatch.setattr(hudtranslate.models, "model_state",
                        lambda spec, cache_dir: ModelState(state))
    settings = Settings.load(env={"HUDTRANSLATE_OVERLOAD_OVERFLOW_MODEL": setting})
    console = Console(file=io.StringIO(), width=200)
    assert auto_overflow_model(settings, max_sessions, main, console) is expected
    assert named_overflow_model(settings) == ""
    said = console.file.getvalue()  # type: ignore[attr-defined]
    if state in ("missing", "corrupt") and setting == "auto":
        assert f"qwen2.5-0.5b-q4_0 is {state}" in said
        assert "hudtranslate models fetch qwen2.5-0.5b-q4_0" in said
    else:
        assert said == ""


def test_serve_can_be_told_to_load_no_overflow_model() -> None:
    from hudtranslate.cli import build_parser

    args = build_parser().parse_args(["serve", "--no-overflow-model"])
    assert vars(args)["overload.overflow_model"] == ""
    from hudtranslate.cli import settings_from_args

    assert settings_from_args(args).overload.overflow_model == ""


def test_serve_help_and_a_wrong_name_tell_every_overflow_choice() -> None:
    """The help says when "auto" loads (at start from 3 wearers), and a wrong name lists
    "auto" and "off" beside the models, not only the catalogue."""
    import asyncio

    from hudtranslate.cli import build_parser
    from hudtranslate.errors import ModelError
    from hudtranslate.server.serve import serve

    serve_parser = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    text = " ".join(serve_parser.format_help().split())
    assert "--max-sessions 2 or more: loaded when the second wearer joins, from 3 at start" in text
    assert '"off"' in text
    settings = Settings.load(env={"HUDTRANSLATE_OVERLOAD_OVERFLOW_MODEL": "bogus"})
    with pytest.raises(ModelError) as caught:
        asyncio.run(serve(settings, None, port=0))
    assert "unknown translate model 'bogus'" in str(caught.value)
    assert "auto" in str(caught.value) and "off" in str(caught.value)
