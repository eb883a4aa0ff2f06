"""The OpenAI-compatible backend and the fallback router, against a fake server on loopback.

The fake speaks the chat-completions API (streamed or plain), and can be told to fail in
each way a real one does: HTTP errors, hanging, garbage, going away, and to answer badly:
a stream closed before ``[DONE]``, cut at the token limit, empty, chatty, with notes,
far too long. Bounded: every request has a timeout and the server threads are daemons
shut down after each test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hudtranslate.config import Settings
from hudtranslate.errors import BackendError, ConfigError, RejectedAnswerError
from hudtranslate.events import Translation
from hudtranslate.pipeline import Engines, run_pipeline
from hudtranslate.testing import (
    FakeBackend,
    FakeDecoder,
    FakeVad,
    chunks_of,
    fake_english,
    tone_and_silence,
)
from hudtranslate.translate.prompts import chat_messages
from hudtranslate.translate.remote import (
    PREAMBLE_TOKENS,
    OpenAIChatBackend,
    RemoteOptions,
    api_key_from_env,
    reconcile,
)
from hudtranslate.translate.router import REJECTIONS_BEFORE_DOWN, FallbackBackend

pytestmark = pytest.mark.timeout(60)


def never() -> bool:
    return False


Reply = tuple[str, str]
"""What the fake streams: the answer's text, and how the stream ends: "done" (finish
reason "stop", then ``data: [DONE]``), "length" (finish reason "length", then
``[DONE]``) or "close" (the connection closes, no ``[DONE]``)."""


@dataclass
class Behaviour:
    """How the fake answers: ``mode`` is ok, plain, http500, hang, garbage, nested; ``reply``,
    when set, makes the (streamed or plain) answer to a request body."""

    mode: str = "ok"
    hang_s: float = 5.0
    reply: Callable[[dict[str, Any]], Reply] | None = None
    word_delay_s: float = 0.01
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    finished_s: list[float] = field(default_factory=list)
    """When each streamed answer was completely written (or the client went away)."""


def source_of(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"]).split("\n")[0]


def answer_for(body: dict[str, Any]) -> str:
    return "REMOTE " + source_of(body)


def make_handler(behaviour: Behaviour) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if behaviour.mode == "http500":
                self._send(500, b'{"error": "down"}', "application/json")
            else:
                self._send(200, b'{"data": [{"id": "big"}]}', "application/json")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            behaviour.requests.append(body)
            behaviour.headers.append(dict(self.headers))
            if behaviour.mode == "http500":
                self._send(500, b'{"error": "overloaded"}', "application/json")
            elif behaviour.mode == "hang":
                time.sleep(behaviour.hang_s)
                self._send(200, b"{}", "application/json")
            elif behaviour.mode == "garbage":
                self._send(200, b"<html>proxy error</html>", "text/html")
            elif behaviour.mode == "nested":  # JSON nested past Python's stack
                self._send(200, b"[" * 5000, "application/json")
            else:
                text, end = (behaviour.reply or (lambda b: (answer_for(b), "done")))(body)
                if behaviour.mode == "plain":
                    choice = {"message": {"content": text},
                              "finish_reason": "length" if end == "length" else "stop"}
                    self._send(200, json.dumps({"choices": [choice]}).encode(),
                               "application/json")
                else:
                    self._stream(text, end)

        def _send(self, status: int, data: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, text: str, end: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for word in text.split(" ") if text else []:
                    self._event({"choices": [{"delta": {"content": word + " "}}]})
                    time.sleep(behaviour.word_delay_s)
                if end != "close":
                    self._event({"choices": [{"delta": {}, "finish_reason":
                                              "length" if end == "length" else "stop"}]})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
            except OSError:
                pass  # the client closed the request
            behaviour.finished_s.append(time.monotonic())

        def _event(self, chunk: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

    return Handler


class FakeServer:
    def __init__(self, behaviour: Behaviour, port: int = 0) -> None:
        self.behaviour = behaviour
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(behaviour))
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer(Behaviour())
    try:
        yield fake
    finally:
        fake.stop()


def backend_for(server: FakeServer, **kwargs: Any) -> OpenAIChatBackend:
    options = {"model": "big", "timeout_ms": 1000, "connect_timeout_ms": 300, **kwargs}
    return OpenAIChatBackend(RemoteOptions(server.url, **options))


def closed_port() -> int:
    fake = FakeServer(Behaviour())
    port = fake.port
    fake.stop()
    return port


# --- the backend -------------------------------------------------------------------------


def test_streamed_translation_uses_the_shared_prompt(server: FakeServer) -> None:
    backend = backend_for(server, api_key="k-123")
    context = [("你好。", "Hello.")]
    text = backend.translate("我们走吧。", context, forced_prefix="", max_new_tokens=40,
                             cancelled=never)
    assert text == "REMOTE 我们走吧。"
    [body] = server.behaviour.requests
    assert body["model"] == "big" and body["stream"] is True
    assert body["max_tokens"] == 40 + PREAMBLE_TOKENS and "stop" not in body
    assert body["messages"] == chat_messages("我们走吧。", context)
    assert body["temperature"] == 0.0
    assert server.behaviour.headers[0]["Authorization"] == "Bearer k-123"
    assert backend.name == "big" and backend.probe()


def test_plain_json_answers_are_accepted(server: FakeServer) -> None:
    server.behaviour.mode = "plain"
    assert backend_for(server).translate("你好", [], forced_prefix="", max_new_tokens=8,
                                         cancelled=never) == "REMOTE 你好"


def test_forced_prefix_is_asked_for_and_reconciled(server: FakeServer) -> None:
    text = backend_for(server).translate("你如果有疑问，就问汤姆吧。", [],
                                         forced_prefix="If you have", max_new_tokens=40,
                                         cancelled=never)
    content = server.behaviour.requests[0]["messages"][-1]["content"]
    assert content.startswith("你如果有疑问，就问汤姆吧。") and '"If you have"' in content
    assert text is not None and text.startswith("If you have")


@pytest.mark.parametrize(("prefix", "answer", "expected"), [
    ("", "Hello there.", "Hello there."),
    ("If you have", "If you have questions, ask Tom.", "If you have questions, ask Tom."),
    ("If you have", "if you have questions, ask Tom.", "If you have questions, ask Tom."),
    ("If you have", "Should you have questions, ask Tom.", "If you have questions, ask Tom."),
    ("If you have", "If you have", "If you have"),
    ("Hello ", "Hello", "Hello "),
])
def test_reconcile(prefix: str, answer: str, expected: str) -> None:
    assert reconcile(prefix, answer) == expected


@pytest.mark.parametrize("mode", ["http500", "garbage", "nested"])
def test_server_errors_are_backend_errors(server: FakeServer, mode: str) -> None:
    server.behaviour.mode = mode
    with pytest.raises(BackendError):
        backend_for(server).translate("你好", [], forced_prefix="", max_new_tokens=8,
                                      cancelled=never)


def test_a_hanging_server_costs_at_most_the_timeout(server: FakeServer) -> None:
    server.behaviour.mode = "hang"
    started = time.monotonic()
    with pytest.raises(BackendError, match="timed out"):
        backend_for(server, timeout_ms=400).translate("你好", [], forced_prefix="",
                                                      max_new_tokens=8, cancelled=never)
    assert time.monotonic() - started < 1.0


def test_nobody_listening_is_a_quick_backend_error() -> None:
    backend = OpenAIChatBackend(RemoteOptions(f"http://127.0.0.1:{closed_port()}",
                                              timeout_ms=1000))
    started = time.monotonic()
    with pytest.raises(BackendError, match="cannot reach"):
        backend.translate("你好", [], forced_prefix="", max_new_tokens=8, cancelled=never)
    assert time.monotonic() - started < 0.5
    assert not backend.probe()


def test_cancellation_stops_the_stream(server: FakeServer) -> None:
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    assert backend_for(server).translate("一 二 三 四 五 六", [], forced_prefix="",
                                         max_new_tokens=8, cancelled=cancelled) is None


def test_options() -> None:
    assert RemoteOptions("http://h:1").base_path == "/v1"
    assert RemoteOptions("http://h:1/v1/").base_path == "/v1"
    assert RemoteOptions("https://h/api/v1/chat/completions").base_path == "/api/v1"
    assert RemoteOptions("http://h/openai").base_path == "/openai/v1"
    for bad in ("ftp://h", "h:8000", "http://"):
        with pytest.raises(ConfigError):
            RemoteOptions(bad)
    with pytest.raises(ConfigError):
        RemoteOptions("http://h", timeout_ms=10)
    assert api_key_from_env({"OPENAI_API_KEY": "b"}) == "b"
    assert api_key_from_env({"OPENAI_API_KEY": "b", "HUDTRANSLATE_REMOTE_API_KEY": "a"}) == "a"
    assert api_key_from_env({}) == ""


# --- unusable answers -------------------------------------------------------------------

ZH = "人们普遍认为这个办法行不通。"
EN = "It is generally believed that this method won't work."
BAD_REPLIES = [  # what the remote sends, and why it cannot be shown
    pytest.param(("It is generally", "close"), "unfinished", id="closed-before-DONE"),
    pytest.param(("It is generally", "length"), "cut", id="cut-at-token-limit"),
    pytest.param(("", "done"), "empty", id="empty"),
    pytest.param(("Sure! Here's the translation:", "done"), "chatter", id="only-chatter"),
    pytest.param((" ".join([EN] * 6), "done"), "too_long", id="far-too-long"),
]


@pytest.mark.parametrize(("reply", "reason"), BAD_REPLIES)
@pytest.mark.parametrize("mode", ["ok", "plain"])
def test_unusable_answers_are_rejected(server: FakeServer, mode: str, reply: Reply,
                                       reason: str) -> None:
    if mode == "plain" and reply[1] == "close":
        pytest.skip("a plain answer has a length: a short one is a lost connection")
    server.behaviour.mode = mode
    server.behaviour.reply = lambda body: reply
    shown: list[str] = []
    with pytest.raises(RejectedAnswerError) as caught:
        backend_for(server).translate(ZH, [], forced_prefix="", max_new_tokens=48,
                                      cancelled=never, on_text=shown.append)
    assert caught.value.reason == reason
    assert shown == []  # nothing is shown before the answer is checked


@pytest.mark.parametrize("answer", [
    f"Sure! Here is the translation: {EN}",
    f"Sure! Here's the translation:\n\n{EN}\n\nNote: 行不通 means it will not work.",
    f'Translation: "{EN}" (Note: a common saying.)',
    f"{EN} (Note: 普遍 literally means universal.)",
])
@pytest.mark.parametrize("mode", ["ok", "plain"])
def test_chatty_answers_are_cleaned(server: FakeServer, mode: str, answer: str) -> None:
    server.behaviour.mode = mode
    server.behaviour.reply = lambda body: (answer, "done")
    assert backend_for(server).translate(ZH, [], forced_prefix="", max_new_tokens=48,
                                         cancelled=never) == EN


def test_notes_after_the_translation_line_are_not_waited_for(server: FakeServer) -> None:
    """The notes would take 2 s (over the 1 s timeout): the request ends with the line."""
    notes = " ".join(["blah"] * 40)
    server.behaviour.reply = lambda body: (f"{EN}\nNote: {notes}", "done")
    server.behaviour.word_delay_s = 0.05
    started = time.monotonic()
    assert backend_for(server).translate(ZH, [], forced_prefix="", max_new_tokens=48,
                                         cancelled=never) == EN
    assert time.monotonic() - started < 0.9
    assert wait_for(lambda: bool(server.behaviour.finished_s))
    assert server.behaviour.finished_s[0] - started < 1.5  # the server saw the close


def test_a_cleaned_answer_is_reconciled_with_the_forced_prefix(server: FakeServer) -> None:
    server.behaviour.reply = lambda body: (
        'Sure! Here is the translation: "If you have questions, ask Tom."', "done")
    text = backend_for(server).translate("你如果有疑问，就问汤姆吧。", [],
                                         forced_prefix="If you have", max_new_tokens=40,
                                         cancelled=never)
    assert text == "If you have questions, ask Tom."


# --- the router --------------------------------------------------------------------------


def translate(router: FallbackBackend, source: str) -> str | None:
    return router.translate(source, [], forced_prefix="", max_new_tokens=16, cancelled=never)


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_router_falls_back_and_returns_when_the_remote_recovers(server: FakeServer) -> None:
    local = FakeBackend(name="local")
    router = FallbackBackend(backend_for(server), local, probe_interval_s=0.1)
    try:
        assert translate(router, "一") == "REMOTE 一" and router.name == "big"
        server.behaviour.mode = "http500"
        assert translate(router, "二") is not None
        assert router.name == "local" and local.calls == ["二"]
        sent = len(server.behaviour.requests)
        assert translate(router, "三") is not None and local.calls == ["二", "三"]
        assert len(server.behaviour.requests) == sent  # no waiting on a known-bad remote
        stats = router.stats()
        assert stats.fallbacks == 1 and not stats.healthy and stats.primary_ok == 1
        server.behaviour.mode = "ok"
        assert wait_for(lambda: router.healthy)
        assert translate(router, "四") == "REMOTE 四" and router.name == "big"
        assert router.stats().recoveries == 1
    finally:
        router.close()


def test_router_name_is_per_thread(server: FakeServer) -> None:
    """Two sessions' worker threads, one served by each model, each see their own."""
    local = FakeBackend(name="local")
    router = FallbackBackend(backend_for(server), local, probe_interval_s=60)
    seen: dict[str, str] = {}
    remote_done, marked_down = threading.Event(), threading.Event()

    def remote_session() -> None:
        translate(router, "一")
        remote_done.set()
        marked_down.wait(5)
        seen["remote"] = router.name  # the other thread's fallback must not leak here

    def local_session() -> None:
        remote_done.wait(5)
        server.behaviour.mode = "http500"
        translate(router, "二")
        seen["local"] = router.name
        marked_down.set()

    threads = [threading.Thread(target=remote_session), threading.Thread(target=local_session)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    router.close()
    assert seen == {"remote": "big", "local": "local"}


@pytest.mark.parametrize(("reply", "reason"), BAD_REPLIES)
def test_router_translates_a_sentence_with_an_unusable_answer_locally(
        server: FakeServer, reply: Reply, reason: str) -> None:
    """That sentence alone goes local, named so; the remote stays in use."""
    server.behaviour.reply = lambda body: reply
    local = FakeBackend(name="local")
    router = FallbackBackend(backend_for(server), local, probe_interval_s=60)
    try:
        assert translate(router, ZH) == fake_english(ZH)
        assert router.name == "local" and local.calls == [ZH]
        stats = router.stats()
        assert stats.healthy and stats.rejected == 1 and stats.fallbacks == 1
        assert stats.primary_errors == 0
        server.behaviour.reply = None
        assert translate(router, "一") == "REMOTE 一" and router.name == "big"
    finally:
        router.close()


def test_router_marks_a_remote_that_keeps_answering_badly_down(server: FakeServer) -> None:
    server.behaviour.reply = lambda body: ("", "done")
    local = FakeBackend(name="local")
    router = FallbackBackend(backend_for(server), local, probe_interval_s=60)
    try:
        for number in range(REJECTIONS_BEFORE_DOWN):
            assert router.healthy
            assert translate(router, f"第{number}句") == fake_english(f"第{number}句")
        assert not router.healthy and len(server.behaviour.requests) == REJECTIONS_BEFORE_DOWN
        translate(router, "下一句")
        assert len(server.behaviour.requests) == REJECTIONS_BEFORE_DOWN  # no more waiting
        stats = router.stats()
        assert stats.rejected == REJECTIONS_BEFORE_DOWN == stats.fallbacks
    finally:
        router.close()


def test_a_good_answer_between_bad_ones_keeps_the_remote_up(server: FakeServer) -> None:
    replies = iter([("", "done"), ("", "done"), (EN, "done"), ("", "done"), ("", "done")])
    server.behaviour.reply = lambda body: next(replies)
    router = FallbackBackend(backend_for(server), FakeBackend(name="local"),
                             probe_interval_s=60)
    try:
        models = []
        for _ in range(5):
            translate(router, ZH)
            models.append(router.name)
        assert models == ["local", "local", "big", "local", "local"] and router.healthy
    finally:
        router.close()


def test_router_start_up_check(server: FakeServer) -> None:
    router = FallbackBackend(backend_for(server), FakeBackend(name="local"),
                             probe_interval_s=60)
    assert router.check() and router.healthy
    server.behaviour.mode = "http500"
    assert not router.check() and not router.healthy and router.name == "local"
    assert router.stats().fallbacks == 0
    router.close()


def test_a_start_up_check_says_why_the_remote_is_down(
        caplog: pytest.LogCaptureFixture) -> None:
    """A wrong port had read "remote did not answer the probe": nothing to tell it from
    a slow server, or to point at the port."""
    backend = OpenAIChatBackend(RemoteOptions(f"http://127.0.0.1:{closed_port()}",
                                              timeout_ms=1000))
    router = FallbackBackend(backend, FakeBackend(name="local"), probe_interval_s=60)
    try:
        assert not router.check()
    finally:
        router.close()
    assert "(cannot reach remote: " in caplog.text and "refused" in caplog.text


async def test_killing_the_remote_mid_talk_keeps_every_sentence() -> None:
    """Fake models end to end: the remote goes away after the second sentence; every
    sentence still gets English, the first from the remote and the rest locally."""
    fake = FakeServer(Behaviour())
    script = ["我们走吧。", "今天下雨了吗？", "他很快便交上了朋友。", "这双鞋很便宜。"]
    router = FallbackBackend(backend_for(fake, timeout_ms=800), FakeBackend(name="local"),
                             probe_interval_s=60)
    audio = tone_and_silence([(0.3, False), (2.0, True), (0.8, False), (2.0, True),
                              (0.8, False), (2.0, True), (0.8, False), (2.0, True), (0.8, False)])

    class KillAfterTwo:
        def __init__(self) -> None:
            self.finals: list[Translation] = []

        def handle(self, event: object) -> None:
            if isinstance(event, Translation) and event.final:
                self.finals.append(event)
                if len(self.finals) == 2:
                    fake.stop()

        def close(self) -> None:
            pass

    sink = KillAfterTwo()
    engines = Engines(asr=FakeDecoder(script, chars_per_s=8.0), translator=router,
                      vad_factory=FakeVad)
    try:
        result = await run_pipeline(chunks_of(audio), engines, Settings.load(env={}), [sink])
    finally:
        router.close()
    assert [t.source for t in result.translations] == script
    assert all(t.committed for t in result.translations)
    models = [t.model for t in result.translations]
    assert models[:2] == ["big", "big"] and models[2:] == ["local", "local"]
    assert all(t.committed.startswith("REMOTE ") for t in result.translations[:2])
    assert all(t.committed.startswith("EN<") for t in result.translations[2:])


SENTENCES = {  # what the fake remote answers for each sentence of the talk
    "我们走吧。": ("Let's go.", "done"),
    "今天下雨了吗？": ("Is it", "close"),
    "他很快便交上了朋友。": ("Sure! Here is the translation: He soon made friends. "
                       "(Note: 交朋友 means to make friends.)", "done"),
    "这双鞋很便宜。": ("", "done"),
    "鱼要做熟了再吃。": (" ".join(["Fish must be cooked through before eating."] * 4), "done"),
    "请把窗户关上。": ("Please close the window.", "done"),
}


async def test_every_sentence_gets_checked_english_named_after_its_model() -> None:
    """End to end with a remote that answers some sentences badly: nothing broken is ever
    shown, not even as tentative; those sentences are translated locally and say so."""
    fake = FakeServer(Behaviour())

    def reply(body: dict[str, Any]) -> Reply:
        source = source_of(body)
        return SENTENCES.get(source, ("So far.", "done"))  # partials: some English

    fake.behaviour.reply = reply
    script = list(SENTENCES)
    router = FallbackBackend(backend_for(fake, timeout_ms=800), FakeBackend(name="local"),
                             probe_interval_s=60)
    pattern = [(0.3, False)]
    for _ in script:
        pattern += [(2.0, True), (0.8, False)]
    events: list[Translation] = []

    class Everything:
        def handle(self, event: object) -> None:
            if isinstance(event, Translation):
                events.append(event)

        def close(self) -> None:
            pass

    engines = Engines(asr=FakeDecoder(script, chars_per_s=8.0), translator=router,
                      vad_factory=FakeVad)
    try:
        result = await run_pipeline(chunks_of(tone_and_silence(pattern)), engines,
                                    Settings.load(env={}), [Everything()])
    finally:
        router.close()
        fake.stop()
    assert [t.source for t in result.translations] == script
    assert [t.committed for t in result.translations] == [
        "Let's go.", fake_english("今天下雨了吗？"), "He soon made friends.",
        fake_english("这双鞋很便宜。"), fake_english("鱼要做熟了再吃。"),
        "Please close the window."]
    assert [t.model for t in result.translations] == [
        "big", "local", "big", "local", "local", "big"]
    shown = " ".join(event.text for event in events)
    for broken in ("Is it", "Sure", "Note", "translation", "Fish"):
        assert broken not in shown
    assert router.healthy and router.stats().rejected == 3  # the chatty one was cleaned
