"""The OpenAI-compatible backend and the fallback router, against a fake server on loopback.

The fake speaks the chat-completions API (streamed or plain), and can be told to fail in
each way a real one does: HTTP errors, hanging, garbage, going away. Bounded: every
request has a timeout and the server threads are daemons shut down after each test.
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
from hudtranslate.errors import BackendError, ConfigError
from hudtranslate.events import Translation
from hudtranslate.pipeline import Engines, run_pipeline
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, chunks_of, tone_and_silence
from hudtranslate.translate.prompts import chat_messages
from hudtranslate.translate.remote import (
    OpenAIChatBackend,
    RemoteOptions,
    api_key_from_env,
    reconcile,
)
from hudtranslate.translate.router import FallbackBackend

pytestmark = pytest.mark.timeout(60)


def never() -> bool:
    return False


@dataclass
class Behaviour:
    """How the fake answers: ``mode`` is ok, plain, http500, hang, garbage."""

    mode: str = "ok"
    hang_s: float = 5.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def answer_for(body: dict[str, Any]) -> str:
    return "REMOTE " + str(body["messages"][-1]["content"]).split("\n")[0]


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
            elif behaviour.mode == "plain":
                answer = {"choices": [{"message": {"content": answer_for(body)}}]}
                self._send(200, json.dumps(answer).encode(), "application/json")
            else:
                self._stream(answer_for(body))

        def _send(self, status: int, data: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, text: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for word in text.split(" "):
                chunk = {"choices": [{"delta": {"content": word + " "}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


class FakeServer:
    def __init__(self, behaviour: Behaviour, port: int = 0) -> None:
        self.behaviour = behaviour
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(behaviour))
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
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
    assert body["model"] == "big" and body["stream"] is True and body["max_tokens"] == 40
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


@pytest.mark.parametrize("mode", ["http500", "garbage"])
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


def test_router_start_up_check(server: FakeServer) -> None:
    router = FallbackBackend(backend_for(server), FakeBackend(name="local"),
                             probe_interval_s=60)
    assert router.check() and router.healthy
    server.behaviour.mode = "http500"
    assert not router.check() and not router.healthy and router.name == "local"
    assert router.stats().fallbacks == 0
    router.close()


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
