"""Wearer sessions: 16 kHz PCM in over a WebSocket, that session's captions back on it.

Each connection gets its own per-stream state (``run_pipeline`` builds a
``SpeechSegmenter``, ``StreamingRecognizer`` and ``SessionTranslator`` per stream) around
the engines every session shares. The loaded models serialise their own calls (Whisper
and llama.cpp each hold a lock), which is what makes sharing them safe; sessions share
nothing mutable but those engines, the metrics and the transcript index.

A connection is held to ``SessionLimits``; whatever a client does (bad JSON, odd-sized or
oversized frames, flooding, idling, vanishing mid-sentence), it is answered with a
protocol error and, at worst, its own session ends: the sentences it committed are on
disk and other sessions go on. The pipeline starts with the first audio frame (or the
first typed draft) so the session's clock (latencies) counts from when input arrives.

A wearer may type a message for the other person (``draft``): it joins the speech as a
final English transcript marked ``draft`` (``run_pipeline(drafts=...)``) and comes back,
like the speech, on the socket, on the session's pages and in its transcript.

The manager (``manager.py``) holds every session of a server and the ``SharedLoad`` they
share the cores through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMsgType, web

from hudtranslate.audio.pcm import pcm16le_to_float32
from hudtranslate.captions.profiles import profile_from_options
from hudtranslate.errors import DataError
from hudtranslate.events import SAMPLE_RATE_HZ, AudioChunk, StreamEnd, Transcript, Translation
from hudtranslate.pipeline import PipelineResult, Sink, run_pipeline
from hudtranslate.server import protocol
from hudtranslate.server.broadcast import CaptionBroadcaster, View, Viewer
from hudtranslate.server.limits import TokenBucket
from hudtranslate.server.metrics import MetricsSink
from hudtranslate.server.speech import WearerSpeech, wearer_speech_sink
from hudtranslate.transcripts.sessions import SessionRecorder, SessionStore
from hudtranslate.vision.card import card_pages
from hudtranslate.vision.scene import SceneText

if TYPE_CHECKING:
    from hudtranslate.server.manager import SessionManager

log = logging.getLogger(__name__)

STOP_FINISH_S = 5.0
"""When the server stops, how long a session may take to translate what it has."""
SEND_LAST_S = 5.0
"""How long a session's last captions may take to reach the wearer before its socket
closes (after the translating, also when the server stops)."""
DRAFT_BURST = 3.0
"""Typed drafts a wearer may send at once (then ``drafts_per_minute``)."""


class _SocketSink:
    """Pipeline sink: this session's events, as protocol messages, to its own socket."""

    def __init__(self, outbox: Viewer) -> None:
        self._outbox = outbox

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        if isinstance(event, StreamEnd):
            self._outbox.send(protocol.end_message(event.duration_s))
        else:
            self._outbox.send(protocol.event_message(event))

    def close(self) -> None:
        """The socket is closed by the session, after the last message."""


class WearerSession:
    """One wearer connection, from handshake to close (see the module doc)."""

    def __init__(self, manager: SessionManager, socket: web.WebSocketResponse,
                 peer: str) -> None:
        self.manager, self.socket, self.peer = manager, socket, peer
        self.limits = manager.limits
        self.session_id = ""
        self.broadcaster: CaptionBroadcaster | None = None
        self.outbox = Viewer(View("wearer", False), manager.max_queue)
        self._recorder: SessionRecorder | None = None
        self._audio: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        self._drafts: asyncio.Queue[Transcript | None] = asyncio.Queue()
        self._samples = 0
        self._backlog_s = 0.0
        self._errors = 0
        self._audio_bucket = TokenBucket(self.limits.max_audio_rate, self.limits.burst_audio_s)
        self._frame_bucket = TokenBucket(self.limits.max_frames_per_s,
                                         self.limits.max_frames_per_s)
        self._draft_bucket = TokenBucket(self.limits.drafts_per_minute / 60.0, DRAFT_BURST)
        self._pipeline: asyncio.Task[PipelineResult] | None = None
        self._failed = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False
        self._started_at = time.monotonic()
        self._speak = False
        self._speech: WearerSpeech | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def run(self) -> str:
        """Serve the connection to its end; returns how it ended (a metrics label)."""
        sender = asyncio.create_task(self._send_loop())
        reader = asyncio.create_task(self._read())
        failure = asyncio.create_task(self._failed.wait())
        stopped = asyncio.create_task(self._stop.wait())
        outcome: str = "failed"
        code: int = WSCloseCode.INTERNAL_ERROR
        try:
            done, _ = await asyncio.wait({reader, failure, stopped},
                                         return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                outcome, code = reader.result()
            elif stopped in done:
                outcome, code = "server_stopped", WSCloseCode.GOING_AWAY
            self._audio.put_nowait(None)
            self._drafts.put_nowait(None)
            outcome, code = await self._finish(outcome, code)
        finally:
            for task in (reader, failure, stopped):
                task.cancel()
            await asyncio.gather(reader, failure, stopped, return_exceptions=True)
            if self._pipeline is not None and not self._pipeline.done():
                self._pipeline.cancel()
                await asyncio.gather(self._pipeline, return_exceptions=True)
            if self._speech is not None:
                self._speech.stop()
            self.outbox.queue.put_nowait(None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sender, SEND_LAST_S)
            self._close(outcome)  # on disk before the wearer sees the socket close
            await self.socket.close(code=code,
                                    message=b"server stopping" if self._stopping else b"")
        return outcome

    async def stop(self) -> None:
        """End this session from outside (server shutdown). The socket stays open until
        the sentence in progress is translated (``STOP_FINISH_S``) and its captions are
        sent (``SEND_LAST_S``): closing it first left the wearer without the last caption
        that the transcript has."""
        self._stopping = True
        self._stop.set()

    async def _finish(self, outcome: str, code: int) -> tuple[str, int]:
        """Let the pipeline translate the audio it has (bounded), so the sentence in
        progress reaches the transcript even when the wearer has gone."""
        if self._pipeline is None:
            if outcome == "completed":  # no audio at all: still answer the wearer's end
                self.outbox.send(protocol.end_message(0.0))
            return outcome, code
        limit = STOP_FINISH_S if self._stopping else self.limits.finish_timeout_s
        try:
            await asyncio.wait_for(asyncio.shield(self._pipeline), limit)
        except TimeoutError:
            log.warning("session %s: still translating after %.0f s: stopping it",
                        self.session_id, limit, extra={"session_id": self.session_id})
            return outcome, code
        except Exception as exc:  # the session's pipeline failed: end this session only
            log.exception("session %s failed", self.session_id,
                          extra={"session_id": self.session_id})
            self._error("pipeline_failed", str(exc) or type(exc).__name__)
            return "failed", WSCloseCode.INTERNAL_ERROR
        if self._speech is not None and not self._stopping and outcome == "completed":
            await self._speech.finish()  # the last sentence is made after the end
        return ("server_stopped" if self._stopping else outcome), code

    def _close(self, outcome: str) -> None:
        if self.broadcaster is not None:
            self.broadcaster.shutdown()
        sentences = 0
        if self._recorder is not None:
            sentences = self._recorder.sentences
            try:
                self._recorder.finish(outcome)
            except DataError as exc:
                log.error("session %s: %s", self.session_id, exc)
        if self.session_id:
            log.info("session %s ended (%s): %d sentences, %.1f s of audio", self.session_id,
                     outcome, sentences, self._samples / SAMPLE_RATE_HZ,
                     extra={"event": "session_end", "session_id": self.session_id,
                            "outcome": outcome, "sentences": sentences,
                            "audio_s": round(self._samples / SAMPLE_RATE_HZ, 3),
                            "wall_s": round(time.monotonic() - self._started_at, 3)})

    def show_scene(self, scene: SceneText, photo_url: str) -> None:
        """A photo read for this wearer: the scene with its card (for the server's display
        profile, without the frames and the photo it sent) on the socket; the card and the
        photo on its HUD and page."""
        settings = self.manager.settings
        scene_id = 0
        if self.broadcaster is not None:
            scene_id = self.broadcaster.show_scene(scene, photo_url)
        card = card_pages(scene.blocks, profile_from_options(settings.display),
                          show_chinese=settings.captions.show_source)
        self.outbox.send(protocol.scene_message(
            scene, scene_id=scene_id, profile=settings.display.profile,
            card=[{"hud": frame.to_dict()} for frame in card]))

    # --- the socket -----------------------------------------------------------------------

    async def _send_loop(self) -> None:
        while True:
            text = await self.outbox.queue.get()
            if text is None or self.socket.closed:
                if self.outbox.closed:  # the wearer stopped reading its captions
                    await self.socket.close(code=WSCloseCode.POLICY_VIOLATION)
                return
            try:
                if isinstance(text, bytes):
                    await self.socket.send_bytes(text)
                else:
                    await self.socket.send_str(text)
            except ConnectionResetError:
                return

    def _error(self, code: str, message: str) -> None:
        self._errors += 1
        self.manager.metrics.protocol_errors.labels(code=code).inc()
        log.info("session %s: %s: %s", self.session_id or "(not started)", code, message,
                 extra={"event": "protocol_error", "code": code,
                        "session_id": self.session_id})
        self.outbox.send(protocol.error_message(code, message))

    async def _read(self) -> tuple[str, int]:
        """Take frames until the wearer ends, leaves, idles, or breaks a limit."""
        while True:
            try:
                message = await self.socket.receive(timeout=self.limits.idle_timeout_s)
            except TimeoutError:
                self._error("idle_timeout",
                            f"nothing received for {self.limits.idle_timeout_s:g} s")
                return "idle_timeout", WSCloseCode.GOING_AWAY
            if message.type is WSMsgType.BINARY:
                verdict = self._on_audio(message.data)
            elif message.type is WSMsgType.TEXT:
                verdict = self._on_text(message.data)
            else:  # CLOSE, CLOSING, CLOSED or ERROR (e.g. a frame over the hard size limit)
                return "disconnected", WSCloseCode.OK
            if verdict is not None:
                return verdict
            if self._errors >= self.limits.max_errors:
                self._error("too_many_errors", f"{self._errors} errors: closing")
                return "too_many_errors", WSCloseCode.POLICY_VIOLATION

    def _on_text(self, text: str) -> tuple[str, int] | None:
        try:
            request = protocol.parse_wearer_message(text)
        except protocol.ProtocolError as exc:
            self._error(exc.code, str(exc))
            if exc.code in ("bad_audio_format", "unsupported_version"):
                return exc.code, WSCloseCode.UNSUPPORTED_DATA
            return None
        if request is None:
            return "completed", WSCloseCode.OK
        if isinstance(request, protocol.DraftRequest):
            return self._on_draft(request.text)
        if self.session_id:
            self._error("bad_message", "the session has already started")
            return None
        return self._start(request)

    def _start(self, request: protocol.StartRequest) -> tuple[str, int] | None:
        store = self.manager.store
        try:
            if store is not None:
                self._recorder = store.open(client=request.client, peer=self.peer)
                self.session_id = self._recorder.session_id
            else:
                self.session_id = SessionStore.new_id()
        except DataError as exc:
            log.error("cannot start a session: %s", exc)
            self._error("pipeline_failed", f"cannot store the transcript: {exc}")
            return "failed", WSCloseCode.INTERNAL_ERROR
        self.broadcaster = CaptionBroadcaster.from_settings(self.manager.settings)
        self.manager.register(self)
        limits = asdict(self.limits)
        shown = ("max_frame_bytes", "max_audio_rate", "burst_audio_s", "max_frames_per_s",
                 "idle_timeout_s")
        self._speak = request.speak and bool(self.manager.voices)
        self.outbox.send(protocol.session_message(
            self.session_id, speech_pad_s=self.manager.settings.vad.speech_pad_ms / 1000,
            limits={key: limits[key] for key in shown}, speak=self._speak,
            mode=self.manager.settings.conversation.mode))
        if request.speak and not self._speak:
            self._error("speech_unavailable", "this server has no voice: start it with "
                        "hudtranslate serve --speak (English voice: pip install "
                        "'hudtranslate[voice]'); captions only")
        log.info("session %s started from %s (%s)", self.session_id, self.peer,
                 request.client or "no client label",
                 extra={"event": "session_start", "session_id": self.session_id,
                        "peer": self.peer, "client": request.client})
        return None

    def _on_draft(self, text: str) -> tuple[str, int] | None:
        """A typed message for the other person: a final English transcript marked
        ``draft``, at the audio position reached (its id is given in the pipeline)."""
        if not self.session_id:
            self._error("bad_message", "send a start message before a draft")
            return None
        if self.manager.settings.conversation.mode != "converse":
            self._error("bad_message", "drafts are for conversations: this server listens "
                        "only (start it with --mode converse)")
            return None
        if not self._frame_bucket.take(1.0):
            self._error("rate_limited", "messages are arriving too fast")
            return "rate_limited", WSCloseCode.POLICY_VIOLATION
        if not self._draft_bucket.take(1.0):
            self._error("too_many_drafts", f"at most {self.limits.drafts_per_minute:g} drafts "
                        "a minute: this one was not written, send it again in a few seconds")
            return None
        at_s = self._samples / SAMPLE_RATE_HZ
        if self._pipeline is None:
            self._start_pipeline()
        self._drafts.put_nowait(Transcript(0, text, "", at_s, at_s, True, at_s,
                                           language="en", draft=True))
        log.info("session %s: a draft of %d characters", self.session_id, len(text),
                 extra={"event": "draft", "session_id": self.session_id})
        return None

    def _on_audio(self, data: bytes) -> tuple[str, int] | None:
        if not self.session_id:
            self._error("bad_message", "send a start message before audio")
            return None
        if len(data) > self.limits.max_frame_bytes:
            self._error("frame_too_large", f"a frame holds at most "
                        f"{self.limits.max_frame_bytes} bytes, got {len(data)}")
            return None
        if len(data) % 2:
            self._error("bad_audio", f"16-bit PCM needs an even number of bytes, got {len(data)}")
            return None
        if not data:
            return None
        seconds = len(data) / 2 / SAMPLE_RATE_HZ
        if not self._frame_bucket.take(1.0) or not self._audio_bucket.take(seconds):
            self._error("rate_limited", "audio is arriving faster than it can be spoken")
            return "rate_limited", WSCloseCode.POLICY_VIOLATION
        if self._backlog_s + seconds > self.limits.max_backlog_s:
            self._error("overloaded", "the server has fallen behind this session")
            return "overloaded", WSCloseCode.TRY_AGAIN_LATER
        chunk = AudioChunk(pcm16le_to_float32(data), self._samples / SAMPLE_RATE_HZ)
        self._samples += len(chunk.samples)
        self._backlog_s += seconds
        self.manager.metrics.audio_s.inc(seconds)
        if self._pipeline is None:
            self._start_pipeline()
        self._audio.put_nowait(chunk)
        return None

    # --- the pipeline ---------------------------------------------------------------------

    def _start_pipeline(self) -> None:
        settings = self.manager.settings
        sinks: list[Sink] = []
        if self._recorder is not None:
            sinks.append(self._recorder)  # first: on disk before the wearer sees it
        sinks.append(_SocketSink(self.outbox))
        if self.broadcaster is not None:
            sinks.append(self.broadcaster)
        sinks.append(MetricsSink(self.manager.metrics, settings.vad.speech_pad_ms / 1000))
        if self._speak:
            self._speech = wearer_speech_sink(self.manager.voices, self.outbox,
                                              settings.voice)
            sinks.append(self._speech)
        self._pipeline = asyncio.create_task(run_pipeline(
            self._chunks(), self.manager.engines, settings, sinks, realtime=True,
            load=self.manager.load,
            drafts=self._typed() if settings.conversation.mode == "converse" else None))
        self._pipeline.add_done_callback(self._pipeline_done)

    def _pipeline_done(self, task: asyncio.Task[PipelineResult]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failed.set()

    async def _typed(self) -> AsyncIterator[Transcript]:
        while (draft := await self._drafts.get()) is not None:
            yield draft

    async def _chunks(self) -> AsyncIterator[AudioChunk]:
        while True:
            chunk = await self._audio.get()
            if chunk is None:
                return
            self._backlog_s -= len(chunk.samples) / SAMPLE_RATE_HZ
            yield chunk
