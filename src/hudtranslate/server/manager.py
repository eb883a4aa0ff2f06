"""All wearer sessions of one server: capacity, the registry of started sessions, the
engines and the load they share.

The sessions share the cores through the manager's ``SharedLoad`` (``sharing.py``): they
take turns at the models, finals first, and when the server falls behind every session
sheds the same optional work (``overload.py``; ``[overload]`` settings). One connection's
protocol is ``sessions.WearerSession``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from aiohttp import WSCloseCode, web

from hudtranslate.config import Settings
from hudtranslate.pipeline import Engines
from hudtranslate.server import protocol
from hudtranslate.server.broadcast import CaptionBroadcaster
from hudtranslate.server.limits import SessionLimits
from hudtranslate.server.metrics import ServerMetrics
from hudtranslate.server.sessions import SEND_LAST_S, STOP_FINISH_S, WearerSession
from hudtranslate.sharing import SharedLoad
from hudtranslate.speech_out.voice import Voice
from hudtranslate.transcripts.sessions import SessionStore
from hudtranslate.translate.overflow import OverflowBackend, local_engine, main_backend
from hudtranslate.translate.router import FallbackBackend
from hudtranslate.translate.translator import TranslationBackend
from hudtranslate.vision.scene import SceneText

log = logging.getLogger(__name__)


class SessionManager:
    """All wearer sessions of one server: capacity, the registry, shared engines."""

    def __init__(self, engines: Engines, settings: Settings, *,
                 limits: SessionLimits | None = None, store: SessionStore | None = None,
                 metrics: ServerMetrics | None = None, max_queue: int = 2048,
                 voices: Mapping[str, Voice] | None = None) -> None:
        self.engines, self.settings = engines, settings
        self.voices = dict(voices or {})
        """Voices by target language, for wearers that ask for speech (``serve --speak``)."""
        self.limits = limits or SessionLimits()
        self.store = store
        translator = engines.translator
        self.metrics = metrics or ServerMetrics(main_backend(translator))
        local = local_engine(translator)
        self.load = SharedLoad(settings.overload,
                               translates_locally=translates_locally(main_backend(translator)),
                               on_shed=self.metrics.count_shed,
                               on_sessions=self._sessions_changed,
                               on_behind=None if local is None else local.write_together)
        if isinstance(translator, OverflowBackend):
            translator.behind = self.load.behind
            self.load.main_share = translator.main_share
            # only once it is in use: still loading, or failed to, the main model writes
            # every sentence, and neither /metrics nor the log may say otherwise
            self.load.has_overflow = translator.small is not None
            translator.on_small_loaded = self._small_loaded
        self.metrics.follow_load(self.load)
        self.max_queue = max_queue
        self._sessions: dict[str, WearerSession] = {}
        self._connections: set[WearerSession] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def _small_loaded(self) -> None:
        """The overflow model is in use (on its loading thread)."""
        self.load.has_overflow = True
        self._sessions_changed(self.load.sessions)

    def _sessions_changed(self, sessions: int) -> None:
        """Several sessions share the local models: each decodes with all its threads. A
        second wearer loads the overflow model, if it waits to be loaded."""
        translator = self.engines.translator
        small = translator.small if isinstance(translator, OverflowBackend) else None
        engines = [engine for engine in (local_engine(translator),
                                         None if small is None else local_engine(small))
                   if engine is not None]
        for engine in engines:
            engine.use_all_threads(sessions > 1)
        if sessions > 1 and isinstance(translator, OverflowBackend):
            translator.load_small_soon()

    @property
    def active(self) -> int:
        """Connections holding a session slot (started or not)."""
        return len(self._connections)

    def broadcaster(self, session_id: str) -> CaptionBroadcaster | None:
        """The live display feed of a started session, for ``/ws/captions?session=ID``."""
        session = self._sessions.get(session_id)
        return session.broadcaster if session is not None else None

    def show_scene(self, session_id: str, scene: SceneText, photo_url: str = "") -> bool:
        """Show a photo read for session ``session_id`` on its HUD and page, and send the
        scene on the wearer's socket; False if the session is no longer live."""
        session = self._sessions.get(session_id)
        if session is None:
            return False
        session.show_scene(scene, photo_url)
        return True

    def session_ids(self) -> list[str]:
        return sorted(self._sessions)

    def register(self, session: WearerSession) -> None:
        """Make a started session watchable by its id."""
        self._sessions[session.session_id] = session

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The ``/ws/audio`` route."""
        socket = web.WebSocketResponse(heartbeat=20.0,
                                       max_msg_size=4 * self.limits.max_frame_bytes)
        await socket.prepare(request)
        if len(self._connections) >= self.limits.max_sessions:
            self.metrics.refused.labels(reason="capacity").inc()
            self.metrics.protocol_errors.labels(code="server_full").inc()
            held = _sessions_phrase(self.limits.max_sessions)
            log.warning("refused a wearer from %s: %s is the maximum", request.remote, held,
                        extra={"event": "session_refused"})
            await socket.send_str(protocol.encode(protocol.error_message(
                "server_full", f"the server already holds {held}, its maximum; "
                "try again later")))
            await socket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"server full")
            return socket
        session = WearerSession(self, socket, request.remote or "")
        self._connections.add(session)
        self.metrics.sessions_active.inc()
        # A task of its own: when the wearer vanishes, aiohttp may cancel the handler, but
        # the session still finishes its last sentence and records how it ended.
        task = asyncio.create_task(self._serve(session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.shield(task)
        return socket

    async def _serve(self, session: WearerSession) -> None:
        """Run one connection; a session that started is counted by how it ended, one that
        never did (bad ``start``, gone or silent before it) as a refusal, like capacity."""
        try:
            outcome = await session.run()
        finally:
            self._connections.discard(session)
            self._sessions.pop(session.session_id, None)
            self.metrics.sessions_active.dec()
        if session.session_id:
            self.metrics.sessions.labels(outcome=outcome).inc()
        else:
            self.metrics.refused.labels(reason=outcome).inc()

    async def shutdown(self) -> None:
        """Server stopping: end every session (each keeps what it committed)."""
        await asyncio.gather(*(session.stop() for session in list(self._connections)))
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=STOP_FINISH_S + SEND_LAST_S)


def translates_locally(backend: TranslationBackend) -> Callable[[], bool]:
    """Whether ``backend`` translates on this machine's cores now: a router does while its
    remote model is down (sessions then take turns at the local model)."""
    if isinstance(backend, FallbackBackend):
        return lambda: not backend.healthy
    return lambda: True


def _sessions_phrase(count: int) -> str:
    """"1 session", "3 sessions"."""
    return f"{count} session" if count == 1 else f"{count} sessions"
