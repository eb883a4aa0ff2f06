"""HTTP errors of the serve app are JSON ``{"error": …}`` (README, app.py): the static
files' 404 and an unexpected failure's 500 too, not aiohttp's empty or HTML answers.

In-process on loopback (aiohttp's test server), no models.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hudtranslate.captions import PacingOptions, get_profile
from hudtranslate.server import CaptionBroadcaster, create_app

pytestmark = pytest.mark.timeout(60)


def broadcaster() -> CaptionBroadcaster:
    return CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())


async def boom(request: web.Request) -> web.StreamResponse:
    raise RuntimeError("the secret detail of a bug")


@pytest.mark.parametrize(("path", "words"), [
    ("/static/nope.js", "not found: GET /static/nope.js"),
    ("/static/fonts/other.ttf", "not found: GET /static/fonts/other.ttf"),
    ("/static/hud.js/x", "not found: GET /static/hud.js/x"),
    ("/static/..%2fapp.py", "not found"),
    ("/static/%00.js", "not found"),
])
async def test_a_missing_static_file_is_a_json_404(path: str, words: str) -> None:
    """aiohttp's static route decides 404 only while sending (an empty
    application/octet-stream body), after every middleware has returned; a path out of
    the folder stays refused."""
    app = create_app(broadcaster(), token="s3cret")  # /static/ needs no token
    async with TestClient(TestServer(app)) as client:
        for method in ("GET", "HEAD"):
            response = await client.request(method, path)
            assert response.status == 404, (method, path, await response.text())
            assert response.content_type == "application/json", (method, path)
            if method == "GET":
                assert words in (await response.json())["error"]


async def test_static_files_are_still_served_with_their_type_and_cache_headers() -> None:
    async with TestClient(TestServer(create_app(broadcaster(), token="s3cret"))) as client:
        script = await client.get("/static/hud.js")
        assert script.status == 200 and "PROTOCOL_VERSION = 1" in await script.text()
        assert script.content_type in ("application/javascript", "text/javascript")
        assert (await client.get("/static/hud.css")).content_type == "text/css"
        etag = script.headers["ETag"]
        again = await client.get("/static/hud.js", headers={"If-None-Match": etag})
        assert again.status == 304
        assert (await client.head("/static/partner.js")).status == 200
        font = await client.get("/static/fonts/hud-cjk.ttf")  # its own route, also open
        assert font.status == 200 and font.content_type == "font/ttf"


@pytest.mark.parametrize("accept", ["*/*", "text/html,application/xhtml+xml"])
async def test_an_unexpected_failure_is_a_json_500_and_logged_with_its_traceback(
        accept: str, caplog: pytest.LogCaptureFixture) -> None:
    """aiohttp's own 500 is text/plain, or an HTML page for a browser; the client learns
    no detail of the bug (the log has it)."""
    app = create_app(broadcaster())
    app.router.add_get("/boom", boom)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/boom", headers={"Accept": accept})
        assert response.status == 500, await response.text()
        assert response.content_type == "application/json"
        assert await response.json() == {"error": "internal server error: GET /boom"}
        assert (await client.get("/healthz")).status == 200  # the server goes on
    failed = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(failed) == 1 and failed[0].exc_info is not None, caplog.text
    assert "the secret detail of a bug" in caplog.text


async def test_a_socket_failing_after_its_handshake_is_closed_not_sent_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the 101 is sent, a JSON answer would be written into the WebSocket stream."""
    hub = broadcaster()

    def fail(*args: Any) -> None:
        raise RuntimeError("viewer table broken")

    monkeypatch.setattr(hub, "add_viewer", fail)
    async with TestClient(TestServer(create_app(hub))) as client:
        socket = await client.ws_connect("/ws/captions")
        message = await socket.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        assert (await client.get("/healthz")).status == 200
