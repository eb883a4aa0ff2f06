"""The HTTP + WebSocket app: the HUD page, its static files and the caption socket.

Thin by design: all caption logic lives in the broadcaster and the layout engine; the app
only moves JSON (protocol in ``protocol.py``). Routes::

    GET /                 the HUD page (static/hud.html; no build step, no CDN)
    GET /static/...       its script and style
    GET /healthz          {"ok": true, "protocol_version": 1, "viewers": N}
    GET /ws/captions      caption WebSocket, one per viewer

Further sockets (e.g. audio in from the glasses) are added as more routes on the same app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from hudtranslate.server import protocol
from hudtranslate.server.broadcast import CaptionBroadcaster, View, Viewer

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
BROADCASTER = web.AppKey("broadcaster", CaptionBroadcaster)


def create_app(broadcaster: CaptionBroadcaster) -> web.Application:
    """The web app around one broadcaster (one running session)."""
    app = web.Application()
    app[BROADCASTER] = broadcaster
    app.router.add_get("/", _index)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/ws/captions", _captions_socket)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    return app


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "hud.html",
                            headers={"Cache-Control": "no-cache"})


async def _health(request: web.Request) -> web.Response:
    broadcaster = request.app[BROADCASTER]
    return web.json_response({"ok": True, "protocol_version": protocol.PROTOCOL_VERSION,
                              "viewers": broadcaster.viewer_count})


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
    profile = request.query.get("profile") or broadcaster.default_view.profile
    if profile not in broadcaster.profiles:
        profile = broadcaster.default_view.profile
    bilingual = protocol.parse_bool(request.query.get("bilingual"),
                                    broadcaster.default_view.bilingual)
    socket = web.WebSocketResponse(heartbeat=20.0,
                                   max_msg_size=protocol.MAX_CLIENT_MESSAGE_BYTES * 2)
    await socket.prepare(request)
    viewer = broadcaster.add_viewer(View(profile, bilingual))
    sender = asyncio.create_task(_send_loop(socket, viewer))
    try:
        async for message in socket:
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
            await socket.send_str(text)
        except ConnectionResetError:
            log.debug("viewer went away")
            return


class HudServer:
    """Runs the app on ``host:port`` (``port=0`` picks a free one; see ``url``)."""

    def __init__(self, broadcaster: CaptionBroadcaster, host: str = "127.0.0.1",
                 port: int = 8765) -> None:
        self.broadcaster = broadcaster
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> str:
        self._runner = web.AppRunner(create_app(self.broadcaster), access_log=None)
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
