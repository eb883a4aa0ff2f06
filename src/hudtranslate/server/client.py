"""A wearer, simulated: plays audio into ``/ws/audio`` at the pace it is spoken.

``hudtranslate stream FILE --server ws://HOST:8765`` shows that session's captions in the
terminal (and prints the page that shows them on a HUD); ``scripts/loadtest.py`` runs many
of these at once. Latency is measured as the wearer feels it: from the moment the end of
speech was "recorded" (the chunk holding it is sent once its last sample would have been
captured) to the moment the final English arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import ssl
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from rich.console import Console
from rich.markup import escape

from hudtranslate.audio import float32_to_pcm16le, read_audio_file
from hudtranslate.config import Settings
from hudtranslate.errors import AudioError, ConfigError, DependencyError, HudTranslateError
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, Transcript, Translation
from hudtranslate.server import protocol
from hudtranslate.server.limits import check_token_sendable
from hudtranslate.termination import EXIT_TERMINATED, run_until_terminated
from hudtranslate.transcripts.client_copy import ClientTranscript

if TYPE_CHECKING:
    from hudtranslate.speech_out.player import ReceivedSpeech

log = logging.getLogger(__name__)

DEFAULT_SERVER = "ws://127.0.0.1:8765/ws/audio"
WARNINGS = frozenset({"speech_unavailable"})
"""Error codes that leave the session whole (the captions go on): shown, not failures."""


class StreamError(HudTranslateError):
    """The server could not be reached, refused the session, or broke it off."""


@dataclass(frozen=True)
class FinalCaption:
    """One final English sentence as the wearer received it."""

    utterance_id: int
    english: str
    source: str
    model: str
    end_s: float
    latency_s: float


@dataclass
class StreamReport:
    """What one simulated wearer saw."""

    session_id: str = ""
    finals: list[FinalCaption] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    audio_s: float = 0.0
    sent_s: float = 0.0
    """How much of the audio went out (less than ``audio_s`` when the server left early)."""
    ended: bool = False
    max_load: int = 0
    """The highest load level a caption carried (the server shed optional work)."""

    @property
    def latencies_s(self) -> list[float]:
        return [final.latency_s for final in self.finals]

    def percentile_s(self, fraction: float) -> float:
        return percentile(self.latencies_s, fraction)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values): honest for a handful of samples."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered) - 1e-9)))
    return ordered[rank - 1]


def audio_url(server: str) -> str:
    """``ws://host:port`` (or http://) → ``ws://host:port/ws/audio``; a bare ``host`` is
    ``hudtranslate serve``'s port on it (8765), not the web's 80. Raises ``ConfigError``
    for what is not a server address."""
    try:  # an unclosed IPv6 bracket ("ws://[::1") is a ValueError here
        parts = urlsplit(server.strip() if "://" in server else f"ws://{server.strip()}")
        port_ok = parts.port is None or 0 < parts.port < 65536
        if "://" not in server and parts.port is None and parts.hostname:
            parts = parts._replace(netloc=f"{parts.netloc}:{protocol.DEFAULT_PORT}")
    except ValueError:
        parts, port_ok = urlsplit(""), False
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname or not port_ok or any(
            character.isspace() for character in parts.netloc):
        raise ConfigError(f"--server {server!r} is not a server address: give host:port "
                          "or ws://host:port (http:// and wss:// work too)")
    path = parts.path if parts.path not in ("", "/") else "/ws/audio"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


async def stream_audio(url: str, samples: AudioArray, *, token: str = "", chunk_ms: int = 100,
                       client: str = "hudtranslate stream",
                       on_message: Callable[[dict[str, Any]], None] | None = None,
                       connect_timeout_s: float = 10.0, tail_timeout_s: float = 120.0,
                       speed: float = 1.0, speak: bool = False,
                       on_speech: Callable[[dict[str, Any], bytes], None] | None = None,
                       ) -> StreamReport:
    """Stream 16 kHz mono ``samples`` in real time as one wearer; returns what came back.

    Stops by itself: ``tail_timeout_s`` after the audio ends at the latest. ``speed`` > 1
    plays faster than spoken (tests); latencies are only meaningful at 1. ``speak`` asks
    the server to say the captions: ``on_speech`` then gets each ``speech`` header with
    the PCM frame that followed it (protocol "Speech").
    """
    report = StreamReport(audio_s=len(samples) / SAMPLE_RATE_HZ)
    shown = without_password(url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = aiohttp.ClientWSTimeout(ws_close=5.0)
    try:
        async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, connect=connect_timeout_s)) as http, \
                http.ws_connect(url, headers=headers, heartbeat=20.0, timeout=timeout,
                                max_msg_size=8 * 1024 * 1024) as socket:
            start: dict[str, Any] = {
                "type": "start", "format": protocol.AUDIO_FORMAT,
                "sample_rate_hz": protocol.AUDIO_SAMPLE_RATE_HZ, "channels": 1,
                "client": client, "protocol_version": protocol.PROTOCOL_VERSION}
            if speak:
                start["speak"] = True
            await socket.send_str(protocol.encode(start))
            hello = await _next_json(socket, connect_timeout_s)
            if hello.get("type") == "error":
                raise StreamError(f"server refused the session: {hello.get('code', '')}: "
                                  f"{hello.get('message', hello)}")
            if hello.get("type") != "session" or "session_id" not in hello:
                raise StreamError(_NOT_OURS)
            report.session_id = str(hello["session_id"])
            try:
                pad_s = float(hello.get("speech_pad_s", 0.0))
            except (TypeError, ValueError):
                raise StreamError(_NOT_OURS) from None
            if on_message is not None:
                on_message(hello)
            started = time.monotonic()
            sender = asyncio.create_task(_send_audio(socket, samples, chunk_ms, started,
                                                     speed, report))
            try:
                deadline = started + report.audio_s / speed + tail_timeout_s
                await _receive(socket, report, started, pad_s, deadline, on_message, speed,
                               on_speech)
            finally:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
    except aiohttp.WSServerHandshakeError as exc:
        raise StreamError(_refusal(shown, exc.status, token)) from None
    except aiohttp.ClientConnectorError as exc:  # its text names aiohttp's internals
        error = exc.os_error  # a name not found has a negative (getaddrinfo) errno
        if isinstance(error, ssl.SSLError):  # reached, but not over TLS
            raise StreamError(f"cannot connect to {shown}: {_tls_failure(error)}") from None
        reason = (os.strerror(error.errno) if error.errno and error.errno > 0
                  else error.strerror or str(error))
        raise StreamError(f"cannot reach {shown}: {reason} (is `hudtranslate serve` running "
                          "there?)") from None
    except aiohttp.ServerDisconnectedError:  # closed before any answer: a TLS server read
        # our plain hello as noise
        hint = " (if it speaks TLS, use wss:// or https://)" if url.startswith("ws:") else ""
        raise StreamError(f"cannot connect to {shown}: the server closed the connection "
                          f"before answering{hint}") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise StreamError(f"cannot reach {shown}: {str(exc).replace(url, shown)}") from None
    return report


def without_password(url: str) -> str:
    """``url`` with the password of ``user:password@`` replaced by ``***``: error lines end
    up in terminals, logs and bug reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


def hud_page(url: str, hud_path: str) -> str:
    """The web HUD's address on the server of audio ``url``: ``hud_path`` as the server's
    ``session`` message gives it, without any ``user:password@`` of ``url`` (the line is
    shown on screen and copied into chats)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit((scheme, netloc, "", "", "")) + hud_path


def _tls_failure(error: ssl.SSLError) -> str:
    """Why the TLS handshake of wss:// failed (its errno, 1, had read "Operation not
    permitted")."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its TLS certificate was not accepted ({error.verify_message})"
    if error.reason == "WRONG_VERSION_NUMBER":  # a plain server answered the TLS hello
        return "the server does not speak TLS: use ws:// (or http://) for it"
    return f"the TLS handshake failed ({error.reason or error})"


def _refusal(url: str, status: int, token: str) -> str:
    """One line saying why the server refused the audio socket, and what to change."""
    if status == 401:
        why = ("the server needs a token: pass --token or set HUDTRANSLATE_TOKEN"
               if not token else "the server did not accept the token (--token or "
               "HUDTRANSLATE_TOKEN): check it against the server's")
    elif status in (200, 404) and urlsplit(url).path == "/ws/audio":  # another program's
        # port (200: a web page, not a socket)
        why = (f"no audio socket at {url} (HTTP {status}): is that `hudtranslate serve`'s "
               "host and port?")
    elif status in (200, 404):
        why = f"no audio socket at {url}: the path is /ws/audio"
    elif status == 403:
        why = "the server refused this origin"
    else:
        why = f"HTTP {status}"
    return f"server refused the connection: {why}"


_NOT_OURS = ("server sent something that is not a hudtranslate protocol message: is that "
             "`hudtranslate serve`'s host and port?")


async def _next_json(socket: aiohttp.ClientWebSocketResponse, timeout_s: float
                     ) -> dict[str, Any]:
    try:
        message = await socket.receive(timeout=timeout_s)
    except TimeoutError:  # an OSError: it would read as "cannot reach" with no reason
        raise StreamError(f"no answer to the start of the session in {timeout_s:g} s: is "
                          "that `hudtranslate serve`'s host and port?") from None
    if message.type is aiohttp.WSMsgType.BINARY:
        raise StreamError(_NOT_OURS)
    if message.type is not aiohttp.WSMsgType.TEXT:
        raise StreamError(f"server closed the connection ({socket.close_code})")
    return _message(message.data)


def _message(text: str) -> dict[str, Any]:
    """A server's text frame as a protocol message; StreamError for what is not one (a
    WebSocket service that is not ours), rather than a traceback."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's stack
        data = None
    if not isinstance(data, dict):
        raise StreamError(_NOT_OURS)
    return data


async def _send_audio(socket: aiohttp.ClientWebSocketResponse, samples: AudioArray,
                      chunk_ms: int, started: float, speed: float,
                      report: StreamReport) -> None:
    """Each chunk goes out once its last sample would have been recorded (no drift)."""
    step = max(1, SAMPLE_RATE_HZ * chunk_ms // 1000)
    for begin in range(0, len(samples), step):
        end = min(begin + step, len(samples))
        due = started + end / SAMPLE_RATE_HZ / speed
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await socket.send_bytes(float32_to_pcm16le(samples[begin:end]))
        report.sent_s = end / SAMPLE_RATE_HZ
    await socket.send_str(protocol.encode({"type": "end"}))


async def _receive(socket: aiohttp.ClientWebSocketResponse, report: StreamReport,
                   started: float, pad_s: float, deadline: float,
                   on_message: Callable[[dict[str, Any]], None] | None,
                   speed: float = 1.0,
                   on_speech: Callable[[dict[str, Any], bytes], None] | None = None) -> None:
    speech: dict[str, Any] | None = None  # the header whose PCM frame comes next
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            report.errors.append({"type": "error", "code": "client_timeout",
                                  "message": "no end from the server in time"})
            return
        try:
            message = await socket.receive(timeout=left)
        except TimeoutError:
            continue
        if message.type is aiohttp.WSMsgType.BINARY:
            if speech is not None and on_speech is not None:
                on_speech(speech, bytes(message.data))
            speech = None
            continue
        if message.type is not aiohttp.WSMsgType.TEXT:
            _note_early_close(report, message)
            return
        data = _message(message.data)
        kind = data.get("type")
        if kind == "speech":
            speech = data
        try:  # the fields read here and by on_message (a caption's text and times)
            event_from_message(data)
            if kind == "caption":
                report.max_load = max(report.max_load, int(data.get("load", 0)))
        except (KeyError, TypeError, ValueError):
            raise StreamError(f"server sent a {str(kind)[:20]!r} message this client cannot "
                              "read (a field missing or of the wrong type): are client and "
                              "server the same hudtranslate version?") from None
        if kind == "caption" and data.get("final"):
            latency = time.monotonic() - started - (float(data["end_s"]) - pad_s) / speed
            report.finals.append(FinalCaption(
                int(data["utterance_id"]), str(data["committed"]), str(data["source"]),
                str(data.get("model", "")), float(data["end_s"]), latency))
        elif kind == "error" and data.get("code") not in WARNINGS:
            report.errors.append(data)
        elif kind == "end":
            report.ended = True
        if on_message is not None:
            on_message(data)


def _note_early_close(report: StreamReport, message: aiohttp.WSMessage) -> None:
    """A server that went away before the whole file was heard is an error of the
    session (``stream`` exits 1 and says so), unless the server already said why."""
    if report.errors or (report.ended and report.sent_s >= report.audio_s):
        return
    reason = message.extra if message.type is aiohttp.WSMsgType.CLOSE else ""
    heard = f"after {report.sent_s:.1f} of {report.audio_s:.1f} s of audio"
    if report.ended:  # it finished what it had: a server shutting down
        text = (f"the server stopped {heard}{f' ({reason})' if reason else ''}; its "
                "transcript keeps what it heard")
        report.errors.append({"type": "error", "code": "server_stopped", "message": text})
    else:
        text = f"the server closed the connection {heard}, without an end"
        report.errors.append({"type": "error", "code": "connection_lost", "message": text})


CLIENT_ERRORS = frozenset({"client_timeout", "server_stopped", "connection_lost"})
"""Error codes the client records itself (the server's own arrive as messages, shown
as they come)."""


def event_from_message(data: dict[str, Any]) -> Transcript | Translation | None:
    """The pipeline event a ``transcript``/``caption`` message describes (else None).
    Messages of servers that predate conversation mode read as Mandarin → English."""
    kind = data.get("type")
    if kind not in ("transcript", "caption"):
        return None
    common = (int(data["utterance_id"]),)
    times = (float(data["start_s"]), float(data["end_s"]))
    draft = bool(data.get("draft", False))
    if kind == "transcript":
        return Transcript(*common, str(data["committed"]), str(data["tentative"]), *times,
                          bool(data["final"]), float(data["emitted_s"]),
                          language=str(data.get("language", "zh")), draft=draft)
    return Translation(*common, str(data["source"]), str(data["committed"]),
                       str(data["tentative"]), *times, bool(data["final"]),
                       float(data["emitted_s"]), model=str(data.get("model", "")),
                       load_level=int(data.get("load", 0)),
                       source_language=str(data.get("source_language", "zh")), draft=draft)


# --- hudtranslate stream ------------------------------------------------------------------


def add_stream_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``hudtranslate stream`` on the CLI's subcommands (called from cli.py)."""
    parser = commands.add_parser(
        "stream", parents=[common], help="play an audio file into a server as a live wearer",
        description="Stream a file to `hudtranslate serve` at real-time pace, as glasses "
                    "would, and show the captions that come back.")
    parser.add_argument("path", type=Path, help="audio file (WAV, FLAC, MP3, M4A…) or video")
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help=f"server address (default {DEFAULT_SERVER})")
    parser.add_argument("--token", default=None,
                        help="bearer token (default: $HUDTRANSLATE_TOKEN)")
    parser.add_argument("--client", default="hudtranslate stream",
                        help="label stored with the session")
    parser.add_argument("--speak", action="store_true",
                        help="ask the server to say the captions (it must run serve --speak) "
                             "and play them on this machine's audio output")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="also keep the transcript here: <session>.jsonl written as "
                             "captions arrive, .srt and .vtt at the end")
    parser.set_defaults(handler=_run_stream)


def _run_stream(args: argparse.Namespace, settings: Settings) -> int:
    from hudtranslate.captions import TerminalCaptions

    samples = read_audio_file(args.path)
    url = audio_url(args.server)
    token = args.token if args.token is not None else os.environ.get("HUDTRANSLATE_TOKEN", "")
    # aiohttp refuses such a token in a header, with a traceback
    check_token_sendable(token, "--token" if args.token is not None else "HUDTRANSLATE_TOKEN")
    copy = ClientTranscript(args.out) if args.out is not None else None
    if copy is not None:
        copy.check()
    console = Console(highlight=False)
    captions = TerminalCaptions(settings.captions, console)
    model = session = ""

    def show(data: dict[str, Any]) -> None:
        nonlocal model, session
        if data.get("type") == "session":
            session = str(data["session_id"])
            if copy is not None:
                copy.start(session)
            page = f" — HUD: {hud_page(url, str(data['hud_path']))}" if "hud_path" in data else ""
            console.print(escape(f"session {data['session_id']}{page}"))
            if data.get("mode") == "converse":  # both directions come: labelled at once
                captions.label_directions()
        elif data.get("type") == "error":  # the server's words: not rich markup
            said = f"server: {data.get('code')}: {data.get('message')}"
            console.print(f"[red]{escape(said)}[/]")
        if data.get("type") == "caption" and data.get("final") and data.get("model") != model:
            model = str(data.get("model"))
            console.print(f"[dim]translated by {escape(model)}[/]")
        event = event_from_message(data)
        if event is not None:
            captions.update(event)
        if copy is not None:
            copy.add(event)

    player = _speech_player(settings) if args.speak else None
    try:  # None: SIGTERM (kill, timeout) stopped it, as cleanly as Ctrl-C
        report = asyncio.run(run_until_terminated(stream_audio(
            url, samples, token=token, client=args.client, on_message=show,
            speak=player is not None, on_speech=player.add if player is not None else None)))
        stopped = "terminated"
    except KeyboardInterrupt:
        report, stopped = None, "interrupted"
    finally:
        captions.close()
        if player is not None:
            player.close()
        written = copy.close() if copy is not None else None
        if written is not None:
            console.print(escape("kept here: " + ", ".join(str(path) for path in written)))
        elif copy is not None:
            console.print(escape(f"no sentence came back: nothing kept in {args.out}"))
    if report is None:
        Console(stderr=True, highlight=False).print(escape(_stopped_line(stopped, session)))
        return 130 if stopped == "interrupted" else EXIT_TERMINATED
    for error in report.errors:
        if error.get("code") in CLIENT_ERRORS:
            console.print(f"[red]{escape(str(error.get('message')))}[/]")
    latencies = report.latencies_s
    count = len(report.finals)
    audio = (f"{report.audio_s:.1f} s audio" if report.sent_s >= report.audio_s
             else f"{report.sent_s:.1f} of {report.audio_s:.1f} s audio sent")
    summary = [f"{count} sentence{'' if count == 1 else 's'}", audio]
    if latencies:
        summary.append(f"end of speech → English: median {statistics.median(latencies):.2f} s, "
                       f"p95 {report.percentile_s(0.95):.2f} s")
    console.print(" · ".join(summary))
    console.print(f"transcript (on the server's machine, with its --data-dir if it has "
                  f"one): hudtranslate transcripts export {report.session_id}")
    return 1 if report.errors or not report.ended else 0


def _stopped_line(stopped: str, session: str) -> str:
    """What Ctrl-C (or SIGTERM) left behind: the server has kept every sentence it
    finished, and the wearer needs the session's id to get them."""
    if not session:
        return f"{stopped} before the server opened a session"
    return (f"{stopped}; the server keeps the transcript so far (on its machine, with its "
            f"--data-dir if it has one): hudtranslate transcripts export {session}")


def _speech_player(settings: Settings) -> ReceivedSpeech | None:
    """A player on the configured audio output; None (one warning, captions only) when
    there is no output to play to."""
    from hudtranslate.speech_out.player import ReceivedSpeech
    from hudtranslate.speech_out.sinks import DeviceOutput

    try:
        return ReceivedSpeech(DeviceOutput(settings.voice.output_device))
    except (AudioError, DependencyError) as exc:
        log.warning("%s; the captions are shown without speech", exc)
        return None
