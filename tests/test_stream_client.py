"""``hudtranslate stream`` against a server that goes away mid-stream (shut down, killed)
or cannot be found: one line saying so, exit 1, never a silent success."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest
import soundfile as sf
from aiohttp import WSCloseCode, web

from hudtranslate.cli import main
from hudtranslate.events import Translation
from hudtranslate.server import protocol
from hudtranslate.transcripts import read_transcript

pytestmark = pytest.mark.timeout(60)

Ending = Callable[[web.WebSocketResponse, web.Request], Awaitable[None]]


async def _shut_down(ws: web.WebSocketResponse, request: web.Request) -> None:
    """What ``serve`` does on SIGTERM: the end of what it heard, then 'going away'."""
    await ws.send_str(protocol.encode(protocol.end_message(0.3)))
    await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")


async def _killed(ws: web.WebSocketResponse, request: web.Request) -> None:
    """A server killed with SIGKILL: the TCP connection just drops."""
    assert request.transport is not None
    request.transport.abort()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fake server in its own thread: it opens a session, takes 0.3 s of audio, then
    ends as ``request.param`` does (None: no audio socket at all); yields its address."""
    ending: Ending | None = request.param
    yield from _serve(_session_app(ending) if ending is not None else web.Application())


def _session_app(ending: Ending, **session: str) -> web.Application:
    """A server that opens a session (its message with ``session``'s fields too), takes
    0.3 s of audio, then ends as ``ending`` does."""
    async def audio(req: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(req)
        await ws.receive()  # start
        await ws.send_str(protocol.encode({"type": "session", "session_id": "s1",
                                           "hud_path": "/?session=s1", **session}))
        for _ in range(3):
            await ws.receive()
        await ending(ws, req)
        return ws

    app = web.Application()
    app.router.add_get("/ws/audio", audio)
    return app


@pytest.fixture
def odd_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A WebSocket service that is not ours (or another version): after the ``start``
    message it sends the text frames ``request.param`` lists, then reads until closed."""
    frames: list[str] = request.param

    async def audio(req: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(req)
        await ws.receive()  # start
        for frame in frames:
            await ws.send_str(frame)
        async for _ in ws:  # until the client closes
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws/audio", audio)
    yield from _serve(app)


def _serve(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on a free port in its own thread; yields its address."""
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    address: list[str] = []

    async def start() -> web.AppRunner:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        address.append(f"127.0.0.1:{port}")
        return runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    yield address[0]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.wav"
    tone = 0.1 * np.sin(np.arange(16_000 * 2) * 2 * np.pi * 220 / 16_000)
    sf.write(path, tone.astype(np.float32), 16_000)
    return path


@pytest.mark.parametrize("server", [_shut_down], indirect=True)
def test_a_server_shutting_down_mid_stream_is_an_error(
        server: str, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream", str(clip), "--server", server]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "the server stopped after 0.3 of 2.0 s of audio (server stopping)" in out
    assert "0.3 of 2.0 s audio sent" in out


@pytest.mark.parametrize("server", [_killed], indirect=True)
def test_a_server_killed_mid_stream_is_an_error(
        server: str, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream", str(clip), "--server", server]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "the server closed the connection after 0.3 of 2.0 s of audio" in out


def _signalled(number: signal.Signals) -> Ending:
    """The wearer presses Ctrl-C (or ``kill``/``timeout`` sends SIGTERM) mid-stream: the
    fake server shares the test's process, so it sends the signal itself."""
    async def ending(ws: web.WebSocketResponse, request: web.Request) -> None:
        os.kill(os.getpid(), number)
        async for _ in ws:  # until the client goes
            pass
    return ending


def _not_handled(number: int, frame: object) -> None:
    raise AssertionError("SIGTERM reached Python's default: the process would just end")


@pytest.mark.usefixtures("ctrl_c_interrupts")
@pytest.mark.parametrize(("server", "status", "word"), [
    (_signalled(signal.SIGINT), 130, "interrupted"),
    (_signalled(signal.SIGTERM), 143, "terminated")], indirect=["server"])
def test_a_stopped_stream_names_the_transcript_kept(
        server: str, status: int, word: str, clip: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C had printed only "interrupted" (SIGTERM: nothing, the process ended): not
    that the server keeps what was said so far, nor the session to export it from."""
    previous = signal.signal(signal.SIGTERM, _not_handled)
    try:
        assert main(["stream", str(clip), "--server", server]) == status
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = " ".join(capsys.readouterr().err.split())
    assert f"{word}; the server keeps the transcript so far" in err
    assert "hudtranslate transcripts export s1" in err


def test_an_unknown_host_is_named_as_such(
        clip: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_found(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(aiohttp.resolver.ThreadedResolver, "resolve", not_found)
    assert main(["stream", str(clip), "--server", "nosuchhost.invalid:8765"]) == 1
    err = capsys.readouterr().err
    assert "Name or service not known" in err and "Unknown error" not in err


def test_a_password_in_the_address_is_not_shown(
        clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["stream", str(clip), "--server", f"ws://wearer:s3cret@127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert "s3cret" not in err and f"wearer:***@127.0.0.1:{port}" in err


@pytest.mark.parametrize("server", [None], indirect=True)
def test_another_program_on_the_port_is_not_blamed_on_the_path(
        server: str, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A web server that is not ours answers 404 at /ws/audio: "the path is /ws/audio"
    told the user to change what was already right."""
    assert main(["stream", str(clip), "--server", server]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "(HTTP 404): is that `hudtranslate serve`'s host and port?" in err
    assert "the path is" not in err


SESSION = protocol.encode({"type": "session", "session_id": "s1"})


@pytest.mark.parametrize("odd_server", [["hello"], ["[1, 2]"], ['{"type": "session"}'],
                                        [SESSION, "garbage"], ["[" * 5000]], indirect=True)
def test_a_service_that_is_not_ours_is_one_line(
        odd_server: str, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Text that is not a protocol message (or a session without its id) had ended the
    command with a JSONDecodeError, KeyError or AttributeError traceback."""
    assert main(["stream", str(clip), "--server", odd_server]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "not a hudtranslate protocol message: is that `hudtranslate serve`'s host" in err


@pytest.mark.parametrize("odd_server", [[SESSION, '{"type": "caption", "final": true}']],
                         indirect=True)
def test_a_caption_without_its_fields_is_one_line(
        odd_server: str, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream", str(clip), "--server", odd_server]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "a 'caption' message this client cannot read" in err


@pytest.mark.parametrize("odd_server", [[]], indirect=True)
def test_a_server_that_never_answers_the_start_says_so(
        odd_server: str, clip: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The wait for the session had ended in "cannot reach ...: " with no reason (a
    TimeoutError is an OSError, and its text is empty)."""
    from hudtranslate.server import client

    monkeypatch.setattr(client, "stream_audio",
                        functools.partial(client.stream_audio, connect_timeout_s=0.5))
    assert main(["stream", str(clip), "--server", odd_server]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no answer to the start of the session in 0.5 s" in err
    assert "cannot reach" not in err


def test_a_web_page_at_the_address_is_not_called_a_refusal(
        clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plain web server answering 200 had been reported as 'HTTP 200' only."""
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html></html>")

    app = web.Application()
    app.router.add_get("/ws/audio", page)
    address = next(serving := _serve(app))
    try:
        assert main(["stream", str(clip), "--server", address]) == 1
    finally:
        serving.close()
    err = " ".join(capsys.readouterr().err.split())
    assert "(HTTP 200): is that `hudtranslate serve`'s host and port?" in err


@pytest.mark.parametrize("server", ["ws://[::1", "[::1:8765"])
def test_an_unclosed_ipv6_bracket_is_not_a_server_address(
        server: str, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream", str(clip), "--server", server]) == 1
    assert "is not a server address" in capsys.readouterr().err


@pytest.mark.parametrize("given", ["--token", "HUDTRANSLATE_TOKEN"])
def test_a_token_with_a_line_end_is_one_line(
        given: str, clip: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A token read from a file with its line end had been aiohttp's "Forbidden control
    character detected in headers" traceback."""
    argv = ["stream", str(clip), "--server", "127.0.0.1:9"]
    if given == "--token":
        argv += ["--token", "secret\r\n"]
    else:
        monkeypatch.setenv("HUDTRANSLATE_TOKEN", "secret\n")
    assert main(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"error: {given} holds a line break or another control character" in err


@pytest.mark.parametrize("server", [_shut_down], indirect=True)
def test_wss_to_a_plain_server_says_so(
        server: str, clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The TLS error's errno (1) had been shown as "Operation not permitted"."""
    assert main(["stream", str(clip), "--server", f"wss://{server}"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "the server does not speak TLS: use ws:// (or http://) for it" in err
    assert "Operation not permitted" not in err


def test_ws_to_a_server_that_hangs_up_suggests_wss(
        clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A TLS server closes a plain hello unanswered: that had read "Server disconnected"."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    done = threading.Event()

    def hang_up() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.recv(4096)
            connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        assert main(["stream", str(clip), "--server", f"ws://127.0.0.1:{port}"]) == 1
    finally:
        done.set()
        thread.join()
        listener.close()
    err = " ".join(capsys.readouterr().err.split())
    assert "closed the connection before answering (if it speaks TLS, use wss://" in err


async def _warn_then_shut_down(ws: web.WebSocketResponse, request: web.Request) -> None:
    """A server whose words look like rich markup: a closing tag with nothing to close."""
    await ws.send_str(protocol.encode({"type": "error", "code": "busy",
                                       "message": "queue [/] full [bold]"}))
    await _shut_down(ws, request)


@pytest.mark.parametrize("server", [_warn_then_shut_down], indirect=True)
def test_the_hud_link_drops_the_password_and_server_words_are_shown_as_sent(
        server: str, clip: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The session line printed ``http://wearer:s3cret@host/…`` (only error lines masked
    it), and a server message with ``[/]`` ended ``stream`` with rich's MarkupError."""
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["stream", str(clip), "--server", f"ws://wearer:s3cret@{server}"]) == 1
    out = capsys.readouterr().out
    assert f"HUD: http://{server}/?session=s1" in out
    assert "s3cret" not in out and "wearer" not in out
    assert "server: busy: queue [/] full [bold]" in out


@pytest.mark.parametrize(("url", "page"), [
    ("wss://a:b@glasses.example:9000/ws/audio", "https://glasses.example:9000/?session=x"),
    ("ws://[::1]:8765/ws/audio", "http://[::1]:8765/?session=x"),
    ("ws://host/ws/audio", "http://host/?session=x"),
])
def test_the_hud_page_is_the_audio_server_without_user_info(url: str, page: str) -> None:
    from hudtranslate.server.client import hud_page

    assert hud_page(url, "/?session=x") == page


async def _one_sentence_then_stopped(ws: web.WebSocketResponse, request: web.Request) -> None:
    """The server translates one sentence, then stops (SIGTERM) before the audio ends."""
    caption = Translation(1, "你好。", "Hello.", "", 0.0, 0.3, True, 0.5, model="qwen2.5-1.5b")
    await ws.send_str(protocol.encode(protocol.event_message(caption)))
    await _shut_down(ws, request)


@pytest.mark.parametrize("server", [_one_sentence_then_stopped], indirect=True)
def test_stream_out_keeps_the_wearers_own_copy(
        server: str, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A server on another machine that stops (or dies, or is wiped) took the only copy of
    the transcript with it; ``--out`` keeps one where the wearer streams from."""
    out = tmp_path / "kept"
    assert main(["stream", str(clip), "--server", server, "--out", str(out)]) == 1
    (record,) = read_transcript(out / "s1.jsonl")
    assert (record.zh, record.en, record.model) == ("你好。", "Hello.", "qwen2.5-1.5b")
    assert "Hello." in (out / "s1.srt").read_text() and "Hello." in (out / "s1.vtt").read_text()
    assert f"kept here: {out / 's1.jsonl'}" in " ".join(capsys.readouterr().out.split())


def test_stream_out_that_cannot_be_written_is_refused_before_streaming(
        clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["stream", str(clip), "--server", "127.0.0.1:9", "--out",
                 str(blocker / "kept")]) == 1
    err = capsys.readouterr().err
    assert "--out" in err and "Traceback" not in err


def test_a_session_id_that_is_no_file_name_gets_one(tmp_path: Path) -> None:
    from hudtranslate.transcripts.client_copy import ClientTranscript

    copy = ClientTranscript(tmp_path / "kept")
    copy.start("../../etc/x")
    copy.add(Translation(1, "谢谢。", "Thanks.", "", 0.0, 0.3, True, 0.5))
    written = copy.close()
    assert written is not None
    assert all(path.parent == tmp_path / "kept" for path in written)
    assert written[0].name.startswith("hudtranslate-stream-")
    empty = ClientTranscript(tmp_path / "none")
    empty.start("s2")
    assert empty.close() is None  # nothing came back: no empty subtitles
    assert list((tmp_path / "none").iterdir()) == []  # nor an empty s2.jsonl left behind


async def _two_sentences_then_stopped(ws: web.WebSocketResponse, request: web.Request) -> None:
    for utterance in (1, 2):
        caption = Translation(utterance, "你好。", "Hello.", "", 0.0, 0.3, True, 0.5, model="q")
        await ws.send_str(protocol.encode(protocol.event_message(caption)))
    await _shut_down(ws, request)


@pytest.mark.parametrize("server", [_two_sentences_then_stopped], indirect=True)
def test_a_full_disk_under_stream_out_is_the_error_and_names_the_servers_copy(
        server: str, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The disk filled under the wearer's copy: the SRT/VTT export after it failed too and
    its error replaced the copy's, and nothing said the server still has the session."""
    from hudtranslate.errors import DataError
    from hudtranslate.transcripts import TranscriptWriter

    append = TranscriptWriter.append

    def second_fails(self: TranscriptWriter, event: Translation) -> object:
        if event.utterance_id == 2:
            raise DataError("cannot write transcript s1.jsonl: No space left on device")
        return append(self, event)

    def exports_fail(*args: object, **kwargs: object) -> None:
        raise DataError("cannot write s1.vtt: No space left on device")

    monkeypatch.setattr(TranscriptWriter, "append", second_fails)
    monkeypatch.setattr("hudtranslate.transcripts.store.write_exports", exports_fail)
    assert main(["stream", str(clip), "--server", server, "--out", str(tmp_path / "k")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert ("error: cannot write transcript s1.jsonl: No space left on device (the server "
            "keeps the session: on its machine, hudtranslate transcripts export s1)") in err


@pytest.mark.parametrize("server", [_shut_down], indirect=True)
def test_stream_out_with_no_sentence_says_so_and_leaves_no_empty_file(
        server: str, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stream with no speech had left an empty s1.jsonl in --out and said nothing."""
    out = tmp_path / "kept"
    assert main(["stream", str(clip), "--server", server, "--out", str(out)]) == 1
    assert list(out.iterdir()) == []
    assert f"no sentence came back: nothing kept in {out}" in " ".join(
        capsys.readouterr().out.split())


def test_stream_to_a_converse_server_labels_directions_from_the_first_sentence(
        clip: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The session message did not say the mode, so ``stream`` labelled the directions
    only from the wearer's first English sentence: the other person's first sentences
    came unlabelled in a conversation."""
    async def one_sentence(ws: web.WebSocketResponse, request: web.Request) -> None:
        caption = Translation(0, "你好。", "Hello.", "", 0.0, 0.3, True, 0.5, model="q")
        await ws.send_str(protocol.encode(protocol.event_message(caption)))
        await _shut_down(ws, request)

    monkeypatch.setenv("COLUMNS", "300")
    for address in _serve(_session_app(one_sentence, mode="converse")):
        assert main(["stream", str(clip), "--server", address]) == 1
    assert "ZH→EN  Hello." in capsys.readouterr().out
