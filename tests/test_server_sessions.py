"""Wearer sessions over /ws/audio with fake models: isolation, limits, bad clients, auth.

Everything runs on loopback in-process (aiohttp's test server); every socket read has a
timeout and every test a time limit, so nothing can hang.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hudtranslate.audio import float32_to_pcm16le
from hudtranslate.captions import PacingOptions, get_profile
from hudtranslate.config import Settings
from hudtranslate.errors import ConfigError
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray
from hudtranslate.pipeline import Engines
from hudtranslate.server import CaptionBroadcaster, create_app, protocol
from hudtranslate.server.client import audio_url, percentile, stream_audio
from hudtranslate.server.limits import (
    SessionLimits,
    check_bind,
    check_can_listen,
    is_loopback,
    token_matches,
)
from hudtranslate.server.manager import SessionManager
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, fake_english, tone_and_silence
from hudtranslate.transcripts.sessions import SessionStore
from hudtranslate.translate.prompts import SPEECH, PromptSet

pytestmark = pytest.mark.timeout(60)

SCRIPT = ["我们走吧。", "今天下雨了吗？", "他很快便交上了朋友。", "这双鞋打完折很便宜。"]
FAST = SessionLimits(max_sessions=8, max_audio_rate=100.0, burst_audio_s=60.0,
                     max_frames_per_s=5000.0)
START = {"type": "start", "format": "pcm_s16le", "sample_rate_hz": 16000, "channels": 1}


def four_sentences() -> AudioArray:
    return tone_and_silence([(0.3, False), (2.0, True), (0.8, False), (2.0, True), (0.8, False),
                             (2.0, True), (0.8, False), (2.0, True), (0.8, False)])


def halves() -> tuple[AudioArray, AudioArray]:
    """Two wearers' audio: sentences 0-1 and sentences 2-3 of the script."""
    audio = four_sentences()
    cut = int(5.9 * SAMPLE_RATE_HZ)
    return audio[:cut], audio[cut:]


def engines(backend: Any = None) -> Engines:
    return Engines(asr=FakeDecoder(SCRIPT, chars_per_s=8.0),
                   translator=backend or FakeBackend(), vad_factory=FakeVad)


async def make_client(tmp_path: Path, *, limits: SessionLimits = FAST, token: str = "",
                      backend: Any = None, settings: Settings | None = None,
                      ) -> tuple[TestClient[Any, Any], SessionManager]:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    manager = SessionManager(engines(backend), settings or Settings.load(env={}),
                             limits=limits, store=SessionStore(tmp_path / "sessions"))
    client: TestClient[Any, Any] = TestClient(TestServer(
        create_app(broadcaster, sessions=manager, token=token)))
    await client.start_server()
    return client, manager


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], SessionManager]]:
    client, manager = await make_client(tmp_path)
    try:
        yield client, manager
    finally:
        await client.close()


def ws_url(client: TestClient[Any, Any], query: str = "") -> str:
    return str(client.make_url("/ws/audio")).replace("http", "ws", 1) + query


async def receive_json(socket: aiohttp.ClientWebSocketResponse,
                       timeout: float = 5.0) -> dict[str, Any]:
    message = await socket.receive(timeout=timeout)
    assert message.type is aiohttp.WSMsgType.TEXT, (message.type, message.data)
    data: dict[str, Any] = json.loads(message.data)
    return data


async def until(kind: str, socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    for _ in range(500):
        data = await receive_json(socket)
        if data["type"] == kind:
            return data
    raise AssertionError(f"no {kind} message")


async def started_socket(client: TestClient[Any, Any], **headers: str
                         ) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    socket = await client.ws_connect("/ws/audio", headers=headers)
    await socket.send_json(START)
    return socket, await receive_json(socket)


async def drain_until_closed(socket: aiohttp.ClientWebSocketResponse) -> list[str]:
    """Types of the messages left before the server closes the socket."""
    kinds = []
    for _ in range(500):
        message = await socket.receive(timeout=5)
        if message.type is not aiohttp.WSMsgType.TEXT:
            assert message.type is aiohttp.WSMsgType.CLOSE
            return kinds
        kinds.append(json.loads(message.data)["type"])
    raise AssertionError("the server did not close the socket")


def english_of(sources: Sequence[str]) -> list[str]:
    return [fake_english(source) for source in sources]


# --- sessions ----------------------------------------------------------------------------


async def test_two_wearers_get_their_own_captions_and_transcripts(
        served: tuple[TestClient[Any, Any], SessionManager], tmp_path: Path) -> None:
    client, manager = served
    first, second = halves()
    reports = await asyncio.gather(
        stream_audio(ws_url(client), first, speed=8.0, client="left", tail_timeout_s=20),
        stream_audio(ws_url(client), second, speed=8.0, client="right", tail_timeout_s=20))
    left, right = reports
    assert left.ended and right.ended and not left.errors and not right.errors
    assert [f.source for f in left.finals] == SCRIPT[:2]
    assert [f.source for f in right.finals] == SCRIPT[2:]
    assert [f.english for f in left.finals] == english_of(SCRIPT[:2])
    assert all(f.model == "fake" for f in left.finals + right.finals)
    assert left.session_id != right.session_id
    store = SessionStore(tmp_path / "sessions")
    infos = {info.session_id: info for info in store.sessions()}
    assert infos[left.session_id].outcome == "completed"
    assert infos[left.session_id].client == "left"
    assert [r.en for r in store.records(right.session_id)] == english_of(SCRIPT[2:])
    assert manager.active == 0
    response = await client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    metrics = await response.text()
    assert 'hudtranslate_sessions_total{outcome="completed"} 2.0' in metrics
    assert 'hudtranslate_translations_total{model="fake"} 4.0' in metrics
    assert 'hudtranslate_final_latency_seconds_count{model="fake"} 4.0' in metrics
    assert "hudtranslate_sessions_active 0.0" in metrics


async def test_session_message_and_hud_viewer_of_a_session(
        served: tuple[TestClient[Any, Any], SessionManager]) -> None:
    client, manager = served
    socket, hello = await started_socket(client)
    assert hello["type"] == "session" and hello["protocol_version"] == 1
    assert hello["sample_rate_hz"] == 16000 and hello["speech_pad_s"] == 0.3
    assert hello["limits"]["max_frame_bytes"] == FAST.max_frame_bytes
    session_id = hello["session_id"]
    assert hello["hud_path"] == f"/?session={session_id}"
    assert manager.session_ids() == [session_id]
    viewer = await client.ws_connect(f"/ws/captions?session={session_id}")
    assert (await receive_json(viewer))["type"] == "hello"
    assert (await receive_json(viewer))["type"] == "display"
    audio = four_sentences()[: int(3.2 * SAMPLE_RATE_HZ)]
    for start in range(0, len(audio), 1600):
        await socket.send_bytes(float32_to_pcm16le(audio[start : start + 1600]))
    await socket.send_json({"type": "end"})
    caption = await until("caption", viewer)
    assert caption["source"].startswith(SCRIPT[0][:2])
    assert (await until("end", socket))["type"] == "end"
    await socket.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/captions?session=20000101-000000-abcdef")
    assert refused.value.status == 404
    health = await (await client.get("/healthz")).json()
    assert health["ok"] and "sessions" in health
    await viewer.close()


# --- bad clients -------------------------------------------------------------------------


async def test_malformed_messages_are_answered_and_the_session_goes_on(
        served: tuple[TestClient[Any, Any], SessionManager]) -> None:
    client, _ = served
    socket = await client.ws_connect("/ws/audio")
    await socket.send_bytes(b"\x00\x01")
    assert (await receive_json(socket))["code"] == "bad_message"  # audio before start
    await socket.send_str("not json")
    assert (await receive_json(socket))["code"] == "bad_message"
    await socket.send_str("[" * 4000)  # nested past Python's stack: had closed the socket
    assert (await receive_json(socket))["code"] == "bad_message"
    await socket.send_json({"type": "dance"})
    assert (await receive_json(socket))["code"] == "bad_message"
    await socket.send_json(START)
    assert (await receive_json(socket))["type"] == "session"
    await socket.send_json(START)
    assert (await receive_json(socket))["code"] == "bad_message"  # start twice
    await socket.send_bytes(b"\x00\x01\x02")
    assert (await receive_json(socket))["code"] == "bad_audio"
    await socket.send_bytes(bytes(FAST.max_frame_bytes + 2))
    assert (await receive_json(socket))["code"] == "frame_too_large"
    speech = four_sentences()[: int(3.2 * SAMPLE_RATE_HZ)]
    for start in range(0, len(speech), 3200):
        await socket.send_bytes(float32_to_pcm16le(speech[start : start + 3200]))
    await socket.send_json({"type": "end"})
    caption = await until("caption", socket)
    while not caption["final"]:
        caption = await until("caption", socket)
    assert caption["committed"] == fake_english(SCRIPT[0])
    assert (await until("end", socket))["type"] == "end"
    assert (await socket.receive(timeout=5)).type is aiohttp.WSMsgType.CLOSE
    assert socket.close_code == 1000


@pytest.mark.parametrize(("start", "code"), [
    ({**START, "sample_rate_hz": 44100}, "bad_audio_format"),
    ({**START, "channels": 2}, "bad_audio_format"),
    ({**START, "format": "f32le"}, "bad_audio_format"), ({"type": "start"}, "bad_audio_format"),
    ({**START, "channels": True}, "bad_audio_format"),
    ({**START, "protocol_version": 2}, "unsupported_version"),
])
async def test_wrong_sample_format_or_version_is_refused(
        served: tuple[TestClient[Any, Any], SessionManager], start: dict[str, Any],
        code: str) -> None:
    client, _ = served
    socket = await client.ws_connect("/ws/audio")
    await socket.send_json(start)
    assert (await receive_json(socket))["code"] == code
    assert (await socket.receive(timeout=5)).type is aiohttp.WSMsgType.CLOSE
    assert socket.close_code == 1003


async def test_huge_frames_and_abrupt_disconnects_do_not_hurt_other_sessions(
        served: tuple[TestClient[Any, Any], SessionManager], tmp_path: Path) -> None:
    client, manager = served
    steady = asyncio.create_task(stream_audio(ws_url(client), four_sentences(), speed=6.0,
                                              tail_timeout_s=20))
    brute, hello = await started_socket(client)
    await brute.send_bytes(bytes(4 * FAST.max_frame_bytes + 2))  # over the hard limit
    assert (await brute.receive(timeout=5)).type is aiohttp.WSMsgType.CLOSE
    assert brute.close_code == 1009
    leaver, left_hello = await started_socket(client)
    speech = four_sentences()[: int(2.0 * SAMPLE_RATE_HZ)]
    for start in range(0, len(speech), 3200):  # mid-sentence, then the wearer vanishes
        await leaver.send_bytes(float32_to_pcm16le(speech[start : start + 3200]))
    await leaver.close()
    report = await steady
    assert report.ended and [f.source for f in report.finals] == SCRIPT
    for _ in range(100):
        if manager.active == 0:
            break
        await asyncio.sleep(0.05)
    store = SessionStore(tmp_path / "sessions")
    outcomes = {info.session_id: info.outcome for info in store.sessions()}
    assert outcomes[left_hello["session_id"]] == "disconnected"
    assert outcomes[hello["session_id"]] == "disconnected"
    # the sentence in progress when the wearer left was still translated and stored
    assert [r.zh for r in store.records(left_hello["session_id"])] == [SCRIPT[0][:7]]


async def test_rate_idle_and_error_limits_close_the_connection(tmp_path: Path) -> None:
    limits = SessionLimits(max_sessions=8, max_audio_rate=1.0, burst_audio_s=1.0,
                           idle_timeout_s=0.3,
                           max_errors=3)
    client, _ = await make_client(tmp_path, limits=limits)
    try:
        flood, _ = await started_socket(client)
        for _ in range(30):
            await flood.send_bytes(bytes(3200))  # 0.1 s each, as fast as possible
        assert (await until("error", flood))["code"] == "rate_limited"
        assert "error" not in await drain_until_closed(flood)
        assert flood.close_code == 1008
        idle, _ = await started_socket(client)
        assert (await receive_json(idle, timeout=5))["code"] == "idle_timeout"
        assert await drain_until_closed(idle) == []
        assert idle.close_code == 1001
        noisy, _ = await started_socket(client)
        for _ in range(3):
            await noisy.send_str("{")
        codes = [(await receive_json(noisy))["code"] for _ in range(4)]
        assert codes == ["bad_message"] * 3 + ["too_many_errors"]
        assert await drain_until_closed(noisy) == []
        metrics = await (await client.get("/metrics")).text()
        for code in ("rate_limited", "idle_timeout", "too_many_errors"):
            assert f'hudtranslate_protocol_errors_total{{code="{code}"}} 1.0' in metrics
    finally:
        await client.close()


async def test_beyond_max_sessions_is_a_clear_refusal(tmp_path: Path) -> None:
    client, manager = await make_client(tmp_path, limits=SessionLimits(max_sessions=1))
    try:
        first, _ = await started_socket(client)
        second = await client.ws_connect("/ws/audio")
        refusal = await receive_json(second)
        assert refusal["code"] == "server_full"
        assert "holds 1 session, its maximum" in refusal["message"]
        assert (await second.receive(timeout=5)).type is aiohttp.WSMsgType.CLOSE
        assert second.close_code == 1013
        await first.send_json({"type": "end"})
        await until("end", first)
        await first.close()
        for _ in range(100):
            if manager.active == 0:
                break
            await asyncio.sleep(0.05)
        third, hello = await started_socket(client)
        assert hello["type"] == "session"
        await third.close()
        metrics = await (await client.get("/metrics")).text()
        assert 'hudtranslate_connections_refused_total{reason="capacity"} 1.0' in metrics
    finally:
        await client.close()


class FailingBackend(FakeBackend):
    def translate(self, source: str, context: Sequence[tuple[str, str]], *, forced_prefix: str,
                  max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        if source.startswith(SCRIPT[2][:2]):
            raise RuntimeError("model crashed")
        return super().translate(source, context, forced_prefix=forced_prefix,
                                 max_new_tokens=max_new_tokens, cancelled=cancelled)


async def test_a_failing_session_fails_alone(tmp_path: Path) -> None:
    client, _ = await make_client(tmp_path, backend=FailingBackend())
    try:
        first, second = halves()
        healthy, broken = await asyncio.gather(
            stream_audio(ws_url(client), first, speed=8.0, tail_timeout_s=20),
            stream_audio(ws_url(client), second, speed=8.0, tail_timeout_s=20))
        assert healthy.ended and not healthy.errors and len(healthy.finals) == 2
        assert [e["code"] for e in broken.errors] == ["pipeline_failed"]
        assert "model crashed" in broken.errors[0]["message"]
        reply = await (await client.get("/healthz")).json()
        assert reply["ok"]
    finally:
        await client.close()


# --- access ------------------------------------------------------------------------------


async def test_token_is_required_when_set(tmp_path: Path) -> None:
    client, _ = await make_client(tmp_path, token="s3cret")
    try:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/static/hud.js")).status == 200
        assert (await client.get("/metrics")).status == 401
        assert (await client.get("/")).status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws/audio")
        assert refused.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await client.ws_connect("/ws/audio", headers={"Authorization": "Bearer nope"})
        socket, hello = await started_socket(client, Authorization="Bearer s3cret")
        assert hello["type"] == "session"
        await socket.close()
        page = await client.get("/?token=s3cret")
        assert page.status == 200
        metrics = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert 'reason="unauthorized"' in await metrics.text()
        assert await (await client.get("/")).json() == {"error": "a bearer token is required"}
        wrong = await client.get("/", headers={"Authorization": "Bearer nope"})
        assert await wrong.json() == {"error": "the token is wrong"}
    finally:
        await client.close()


async def test_the_streaming_client_says_which_token_to_fix(tmp_path: Path) -> None:
    from hudtranslate.server.client import StreamError

    client, _ = await make_client(tmp_path, token="s3cret")
    audio = tone_and_silence([(0.5, True)])
    try:
        with pytest.raises(StreamError, match="needs a token: pass --token or set "
                                              "HUDTRANSLATE_TOKEN"):
            await stream_audio(ws_url(client), audio)
        with pytest.raises(StreamError, match="did not accept the token"):
            await stream_audio(ws_url(client), audio, token="nope")
        with pytest.raises(StreamError, match=r"cannot reach .*: Connection refused \(is "):
            await stream_audio("ws://127.0.0.1:1/ws/audio", audio)
        with pytest.raises(StreamError, match="the path is /ws/audio"):
            await stream_audio(ws_url(client).replace("/ws/audio", "/ws/oops"), audio,
                               token="s3cret")
    finally:
        await client.close()


async def test_cross_origin_audio_sockets_are_refused(
        served: tuple[TestClient[Any, Any], SessionManager]) -> None:
    client, _ = served
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/audio", headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403


def test_parse_wearer_messages() -> None:
    assert protocol.parse_wearer_message(json.dumps({**START, "client": "g1"})).client == "g1"
    assert protocol.parse_wearer_message(json.dumps({**START, "protocol_version": 1}))
    assert protocol.parse_wearer_message('{"type": "end"}') is None
    draft = protocol.parse_wearer_message(json.dumps({"type": "draft",
                                                      "text": " tell her\n I'm late "}))
    assert draft == protocol.DraftRequest("tell her I'm late")
    longest = "x" * protocol.MAX_DRAFT_CHARS
    assert protocol.parse_wearer_message(json.dumps({"type": "draft", "text": longest})) \
        == protocol.DraftRequest(longest)
    for text, code in [("{", "bad_message"), ('{"type": "view"}', "bad_message"),
                       (json.dumps({**START, "client": 5}), "bad_message"),
                       ('{"type": "draft"}', "bad_message"),
                       ('{"type": "draft", "text": 3}', "bad_message"),
                       ('{"type": "draft", "text": " \\n "}', "bad_message"),
                       (json.dumps({"type": "draft", "text": longest + "x"}), "bad_message"),
                       (json.dumps({**START, "sample_rate_hz": 8000}), "bad_audio_format"),
                       (json.dumps({**START, "protocol_version": 2}), "unsupported_version"),
                       (json.dumps({**START, "protocol_version": True}), "unsupported_version")]:
        with pytest.raises(protocol.ProtocolError) as caught:
            protocol.parse_wearer_message(text)
        assert caught.value.code == code
    assert set(protocol.ERROR_CODES) <= set((protocol.__doc__ or "").replace("``", " ").split())


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False),
])
def test_binding_beyond_loopback_needs_a_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    check_bind(host, "token")
    if loopback:
        check_bind(host, "")
    else:
        with pytest.raises(ConfigError, match="token"):
            check_bind(host, "")


@pytest.mark.parametrize("token", ["abc\n", "a\tb", "abc\r\n"])
def test_a_token_no_client_can_send_is_refused(token: str) -> None:
    with pytest.raises(ConfigError, match="line break or another control character"):
        check_bind("127.0.0.1", token)


def test_labels_and_drafts_keep_only_printable_characters() -> None:
    """A label is printed in the operator's terminal (`transcripts list`); a draft reaches
    the subtitles and the other person's screen: escapes, NULs and direction overrides
    never do."""
    label = "\x1b[2J\x1b[31mFAKE-ROW\r\n\x00g1\u202e"
    start = protocol.parse_wearer_message(json.dumps({**START, "client": label}))
    assert isinstance(start, protocol.StartRequest) and start.client == "[2J[31mFAKE-ROWg1"
    draft = protocol.parse_wearer_message(json.dumps(
        {"type": "draft", "text": "Tell\x00 her\u202e I'm\tlate\x1b"}))
    assert isinstance(draft, protocol.DraftRequest) and draft.text == "Tell her I'm late"


def test_listed_labels_cannot_drive_the_terminal(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A label stored before labels were cleaned (or written by hand) is shown escaped."""
    from hudtranslate.cli import main

    store = SessionStore(tmp_path)
    store.open(client="\x1b[2Jrokid\r").finish("completed")
    store.close()
    assert main(["transcripts", "list", "--data-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert "\x1b" not in listed and "\r" not in listed and "\ufffd[2Jrokid\ufffd" in listed


def test_a_port_in_use_or_an_unknown_host_is_one_line_before_the_models_load() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="another hudtranslate serve"):
            check_can_listen("127.0.0.1", port)
    check_can_listen("127.0.0.1", port)  # free again
    with pytest.raises(ConfigError, match=r"--host 999\.1\.1\.1: no such address"):
        check_can_listen("999.1.1.1", 8765)


def test_token_matching() -> None:
    assert token_matches("abc", "Bearer abc", None)
    assert token_matches("abc", "bearer abc", None)
    assert token_matches("abc", None, "abc")
    assert not token_matches("abc", "Bearer abd", None)
    assert not token_matches("abc", None, None)
    assert not token_matches("abc", "Basic abc", None)


def test_client_helpers() -> None:
    assert audio_url("ws://127.0.0.1:8765") == "ws://127.0.0.1:8765/ws/audio"
    assert audio_url("http://h:1/") == "ws://h:1/ws/audio"
    assert audio_url("127.0.0.1:9") == "ws://127.0.0.1:9/ws/audio"
    assert audio_url("127.0.0.1") == "ws://127.0.0.1:8765/ws/audio"  # serve's port, not 80
    assert audio_url("[::1]") == "ws://[::1]:8765/ws/audio"
    assert audio_url("ws://glasses.example") == "ws://glasses.example/ws/audio"  # a proxy's
    assert audio_url("wss://h/custom") == "wss://h/custom"
    for bad in ("not a url", "ftp://h:1", "ws://", "h:99999", "ws://h:port"):
        with pytest.raises(ConfigError, match="is not a server address"):
            audio_url(bad)
    assert percentile([], 0.95) == 0.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(v) for v in range(1, 21)], 0.95) == 19.0
    assert percentile([1.0, 5.0], 0.95) == 5.0
    assert np.isclose(percentile([0.5], 0.95), 0.5)
