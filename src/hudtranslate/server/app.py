"""The HTTP + WebSocket app: the HUD page, its static files and the caption socket.

Thin by design: all caption logic lives in the broadcaster and the layout engine; the app
only moves JSON (protocol in ``protocol.py``). Routes::

    GET /                 the HUD page (static/hud.html; no build step, no CDN)
    GET /partner          the partner page (static/partner.html; ``?session=ID``)
    GET /static/...       their scripts and style; /static/fonts/hud-cjk.ttf is the HUD
                          font for pages on machines without a Chinese font
    GET /healthz          {"ok": true, "protocol_version": 1, "viewers": N[, "sessions": M]}
    GET /ws/captions      caption WebSocket, one per viewer (``?session=ID``: a wearer's)
    GET /ws/audio         wearer WebSocket: audio in, captions out (with a SessionManager)
    GET /metrics          Prometheus metrics (with a SessionManager)
    POST /look            a photo in, its text in English out (with a PhotoReader;
                          ``?session=ID``: shown on that wearer's HUD, else on ``/``)

With a token, every route but ``/healthz`` and ``/static/`` needs it (see protocol.py).
Every error answer (401, 404, 405, 500, …; aiohttp's own included) is JSON
``{"error": …}``, but for the 400 of a request that is not valid HTTP: aiohttp's parser
answers it (text/plain) before any middleware, and offers no hook to shape it short of
replacing its ``RequestHandler.handle_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from hudtranslate.captions.fonts import web_font
from hudtranslate.server import metrics, protocol
from hudtranslate.server.broadcast import CaptionBroadcaster, View, Viewer
from hudtranslate.server.limits import token_matches
from hudtranslate.server.manager import SessionManager
from hudtranslate.server.photos import PhotoReader, ShowScene, json_error
from hudtranslate.vision.scene import SceneText

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC_DIR = Path(__file__).resolve().parent / "static"
BROADCASTER = web.AppKey("broadcaster", CaptionBroadcaster)
SESSIONS = web.AppKey("sessions", SessionManager)
PHOTOS = web.AppKey("photos", PhotoReader)
_OPEN_PATHS = ("/healthz", "/static/")
FONT_PATH = "/static/fonts/hud-cjk.ttf"


def create_app(broadcaster: CaptionBroadcaster, *, sessions: SessionManager | None = None,
               token: str = "", photos: PhotoReader | None = None) -> web.Application:
    """The web app around the server's own broadcaster and, with ``sessions``, wearers;
    with ``photos``, ``POST /look``."""
    middlewares = [_json_errors, *([_require_token(token)] if token else [])]
    app = web.Application(middlewares=middlewares)
    app[BROADCASTER] = broadcaster
    app.router.add_get("/", _index)
    app.router.add_get("/partner", _partner)
    app.router.add_get(FONT_PATH, _font)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/ws/captions", _captions_socket)
    if sessions is not None:
        app[SESSIONS] = sessions
        app.router.add_get("/ws/audio", _audio_socket)
        app.router.add_get("/metrics", _metrics)

        async def end_sessions(app: web.Application) -> None:
            await sessions.shutdown()

        app.on_shutdown.append(end_sessions)
    if photos is not None:
        app[PHOTOS] = photos
        app.router.add_post("/look", _look)

        async def stop_photos(app: web.Application) -> None:
            photos.close()

        app.on_shutdown.append(stop_photos)
    app.router.add_get("/static/{name:.+}", _static)
    return app


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An HTTP error raised anywhere (a route, the token check, aiohttp's router: 404,
    405) answered as ``{"error": message}``, its headers (``Allow``, ``WWW-Authenticate``)
    kept; any other exception a JSON 500 (aiohttp's is text, or HTML for a browser)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text or exc.reason
        if message == f"{exc.status}: {exc.reason}":  # aiohttp's default text: say more
            message = f"{exc.reason.lower()}: {request.method} {request.path}"
            if isinstance(exc, web.HTTPMethodNotAllowed):
                message += f" (allowed: {', '.join(sorted(exc.allowed_methods))})"
        headers = {name: value for name, value in exc.headers.items()
                   if name.lower() not in ("content-type", "content-length")}
        return json_error(exc.status, message, headers)
    except Exception:
        if request.writer.output_size > 0:  # a socket past its handshake: nothing to add
            raise
        log.exception("%s %s failed", request.method, request.path)
        # the client learns no detail of the bug: the log has it
        return json_error(500, f"internal server error: {request.method} {request.path}")


async def _static(request: web.Request) -> web.StreamResponse:
    """A file of ``STATIC_DIR``. Not aiohttp's static route: its missing file is a 404
    decided while sending, past the middlewares, so it could not be JSON."""
    try:
        path = (STATIC_DIR / request.match_info["name"]).resolve()
        found = path.is_relative_to(STATIC_DIR) and path.is_file()
    except (OSError, ValueError):  # a NUL, a name too long
        found = False
    if not found:
        raise web.HTTPNotFound()
    return web.FileResponse(path)


def _require_token(token: str) -> Any:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(_OPEN_PATHS) and not token_matches(
                token, request.headers.get("Authorization"), request.query.get("token")):
            sessions = request.app.get(SESSIONS)
            if sessions is not None:
                sessions.metrics.refused.labels(reason="unauthorized").inc()
            log.warning("refused %s from %s: no valid token", request.path, request.remote,
                        extra={"event": "unauthorized", "path": request.path})
            given = request.headers.get("Authorization") or request.query.get("token")
            raise web.HTTPUnauthorized(
                text="the token is wrong" if given else "a bearer token is required",
                headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return check


async def _audio_socket(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-origin audio sockets are not allowed")
    return await request.app[SESSIONS].handle(request)


async def _look(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        return json_error(403, "cross-origin photo uploads are not allowed")
    session_id = request.query.get("session")
    show: ShowScene = request.app[BROADCASTER].show_scene
    if session_id:
        sessions = request.app.get(SESSIONS)
        if sessions is None or sessions.broadcaster(session_id) is None:
            return json_error(404, f"no live session {session_id!r}")

        def show_to_wearer(scene: SceneText, photo_url: str) -> None:
            if not sessions.show_scene(session_id, scene, photo_url):
                log.info("session %s ended before its photo was read", session_id)

        show = show_to_wearer
    return await request.app[PHOTOS].handle(request, show)


async def _metrics(request: web.Request) -> web.Response:
    sessions = request.app[SESSIONS]
    return web.Response(body=sessions.metrics.render(),
                        headers={"Content-Type": metrics.CONTENT_TYPE})


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "hud.html",
                            headers={"Cache-Control": "no-cache"})


async def _partner(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "partner.html",
                            headers={"Cache-Control": "no-cache"})


async def _font(request: web.Request) -> web.StreamResponse:
    """The bundled HUD font (WenQuanYi Micro Hei, Apache-2.0) as a single TrueType face:
    a page loads it only when the device has no Chinese font of its own."""
    return web.Response(body=web_font("hud"), content_type="font/ttf",
                        headers={"Cache-Control": "public, max-age=86400"})


async def _health(request: web.Request) -> web.Response:
    broadcaster = request.app[BROADCASTER]
    body: dict[str, Any] = {"ok": True, "protocol_version": protocol.PROTOCOL_VERSION,
                            "viewers": broadcaster.viewer_count}
    sessions = request.app.get(SESSIONS)
    if sessions is not None:
        body["sessions"] = sessions.active
    return web.json_response(body)


def _same_origin(request: web.Request) -> bool:
    """Browsers send Origin: refuse other sites' pages (they could read the captions)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


async def _captions_socket(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-origin caption sockets are not allowed")
    broadcaster = request.app[BROADCASTER]
    session_id = request.query.get("session")
    if session_id:
        sessions = request.app.get(SESSIONS)
        found = sessions.broadcaster(session_id) if sessions is not None else None
        if found is None:
            raise web.HTTPNotFound(text=f"no live session {session_id!r}")
        broadcaster = found
    asked = request.query.get("profile") or broadcaster.default_view.profile
    profile = asked if asked in broadcaster.profiles else broadcaster.default_view.profile
    bilingual = protocol.parse_bool(request.query.get("bilingual"),
                                    broadcaster.default_view.bilingual)
    display = protocol.parse_bool(request.query.get("display"), True)
    socket = web.WebSocketResponse(heartbeat=20.0,
                                   max_msg_size=protocol.MAX_CLIENT_MESSAGE_BYTES * 2)
    await socket.prepare(request)
    viewer = broadcaster.add_viewer(View(profile, bilingual, display))
    if asked != profile:  # said, as a `view` request with it would be, not silently replaced
        viewer.send(protocol.error_message(
            "unknown_profile", f"unknown profile {asked!r}, showing {profile}; known: "
            + ", ".join(broadcaster.profiles)))
    sender = asyncio.create_task(_send_loop(socket, viewer))
    try:
        async for message in socket:
            if message.type == WSMsgType.BINARY:  # audio sent to the wrong socket, say
                viewer.send(protocol.error_message(
                    "bad_message", "the captions socket takes JSON `view` messages; "
                    "audio goes to /ws/audio"))
                continue
            if message.type != WSMsgType.TEXT:
                continue
            try:
                broadcaster.set_view(viewer, protocol.parse_client_message(message.data))
            except protocol.ProtocolError as exc:
                viewer.send(protocol.error_message(exc.code, str(exc)))
    finally:
        broadcaster.remove_viewer(viewer)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return socket


async def _send_loop(socket: web.WebSocketResponse, viewer: Viewer) -> None:
    while True:
        text = await viewer.queue.get()
        if text is None or socket.closed:
            await socket.close()
            return
        try:
            if isinstance(text, bytes):
                await socket.send_bytes(text)
            else:
                await socket.send_str(text)
        except ConnectionResetError:
            log.debug("viewer went away")
            return


class _BadRequestsWarn(logging.Filter):
    """aiohttp answers a request it cannot parse (a URL over 8 KB: ``LineTooLong``, a bad
    header) 400 by itself, and logs it at ERROR with a traceback: one warning line instead
    (nothing failed here)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BadHttpMessage) and record.levelno >= logging.ERROR:
            where = f" from {record.args[0]}" if isinstance(record.args, tuple) and \
                record.args else ""
            why = (f"a line over {exc.args[1]} bytes" if isinstance(exc, LineTooLong)
                   else exc.message[:200])  # not the line itself: it may hold the token
            record.msg, record.args = f"bad request{where} (400, %s): %s", (
                type(exc).__name__, why)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


_BAD_REQUESTS_WARN = _BadRequestsWarn()


class HudServer:
    """Runs the app on ``host:port`` (``port=0`` picks a free one; see ``url``)."""

    def __init__(self, broadcaster: CaptionBroadcaster, host: str = "127.0.0.1",
                 port: int = 8765, *, sessions: SessionManager | None = None,
                 token: str = "", photos: PhotoReader | None = None) -> None:
        self.broadcaster = broadcaster
        self.host, self.port = host, port
        self.sessions, self.token, self.photos = sessions, token, photos
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> str:
        app = create_app(self.broadcaster, sessions=self.sessions, token=self.token,
                         photos=self.photos)
        logging.getLogger("aiohttp.server").addFilter(_BAD_REQUESTS_WARN)  # once: a set
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=10.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        self.broadcaster.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
