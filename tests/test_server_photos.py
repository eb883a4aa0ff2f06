"""``POST /look`` and photo cards on the HUD, with a fake OCR and a fake translator
(plumbing), and once with the real RapidOCR on a rendered sign.

Everything runs in-process on loopback (aiohttp's test server); every socket read has a
timeout and every test a time limit.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image, ImageDraw

from hudtranslate.captions import PacingOptions, get_profile, preview_image, render_frame
from hudtranslate.config import Settings, VisionOptions
from hudtranslate.errors import DependencyError
from hudtranslate.events import Translation
from hudtranslate.pipeline import Engines
from hudtranslate.server import CaptionBroadcaster, HudServer, View, create_app, protocol
from hudtranslate.server.broadcast import CARD_MIN_S, CARD_PAGE_MIN_S, card_page_s
from hudtranslate.server.limits import SessionLimits
from hudtranslate.server.manager import SessionManager
from hudtranslate.server.photos import PhotoReader
from hudtranslate.testing import FakeDecoder, FakeVad, fake_english
from hudtranslate.translate.prompts import PHOTO_TEXT, SPEECH, PromptSet
from hudtranslate.vision.card import card_pages
from hudtranslate.vision.ocr import TextLine
from hudtranslate.vision.scene import Box, SceneBlock, SceneText

pytestmark = pytest.mark.timeout(60)

START = {"type": "start", "format": "pcm_s16le", "sample_rate_hz": 16000, "channels": 1}
LINES = [("出口", (100, 100, 300, 160)), ("WiFi", (600, 100, 700, 140)),
         ("牛肉面 25元", (100, 300, 500, 360))]


def text_line(text: str, box: tuple[float, float, float, float], scale: float = 1.0) -> TextLine:
    left, top, right, bottom = (value * scale for value in box)
    return TextLine(((left, top), (right, top), (right, bottom), (left, bottom)), text, 0.95)


def photo(size: tuple[int, int] = (800, 600), kind: str = "PNG") -> bytes:
    """A white photo with a dark bar where each fake line of text is."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for _, (left, top, right, bottom) in LINES:
        draw.rectangle((left + 5, top + 10, right - 5, bottom - 10), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


class FakeOcr:
    """An OCR engine that finds ``LINES``; it records the thread it ran on and can be
    held (``gate``) to keep a photo in progress."""

    def __init__(self, threads: int, lines: Sequence[tuple[str, Any]] = LINES) -> None:
        self.threads, self.lines = threads, list(lines)
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()
        self.ran_on: list[str] = []

    def read(self, image: Image.Image, scale: float = 1.0) -> list[TextLine]:
        self.ran_on.append(threading.current_thread().name)
        assert self.gate.wait(20), "the test never opened the gate"
        return [text_line(text, box) for text, box in self.lines]

    def read_regions(self, image: Image.Image,
                     scale: float = 1.0) -> tuple[list[TextLine], int]:
        """``read``, its detector finding the lines' regions however the photo lies."""
        return self.read(image, scale), len(self.lines)


@dataclass
class PhotoBackend:
    """A translator that answers ``fake_english`` and records the prompts it was asked
    with and its warm-ups."""

    name: str = "fake"
    prompts: list[PromptSet] = field(default_factory=list)
    warm_ups: list[PromptSet] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.prompts.append(prompts)
        return forced_prefix + fake_english(source)

    def warm_up(self, prompts: PromptSet = SPEECH) -> None:
        self.warm_ups.append(prompts)


@dataclass
class Served:
    client: TestClient[Any, Any]
    broadcaster: CaptionBroadcaster
    manager: SessionManager
    reader: PhotoReader
    backend: PhotoBackend
    engines: dict[int, FakeOcr]


async def serve_photos(*, limits: SessionLimits | None = None, token: str = "",
                       ocr_factory: Callable[[int], Any] | None = None) -> Served:
    limits = limits or SessionLimits(max_sessions=4)
    backend = PhotoBackend()
    settings = Settings.load(env={})
    manager = SessionManager(Engines(asr=FakeDecoder(["你好。"], chars_per_s=8.0),
                                     translator=backend, vad_factory=FakeVad),
                             settings, limits=limits)
    engines: dict[int, FakeOcr] = {}

    def make_ocr(threads: int) -> FakeOcr:
        engines[threads] = FakeOcr(threads)
        return engines[threads]

    reader = PhotoReader(backend, None, settings.vision, limits,
                         speech_active=lambda: manager.active > 0,
                         ocr_factory=ocr_factory or make_ocr)
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(
        broadcaster, sessions=manager, token=token, photos=reader)))
    await client.start_server()
    return Served(client, broadcaster, manager, reader, backend, engines)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    served = await serve_photos()
    try:
        yield served
    finally:
        await served.client.close()


async def receive_json(socket: aiohttp.ClientWebSocketResponse,
                       timeout: float = 5.0) -> dict[str, Any]:
    message = await socket.receive(timeout=timeout)
    assert message.type is aiohttp.WSMsgType.TEXT, (message.type, message.data)
    data: dict[str, Any] = json.loads(message.data)
    return data


async def until(kind: str, socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    for _ in range(100):
        data = await receive_json(socket)
        if data["type"] == kind:
            return data
    raise AssertionError(f"no {kind} message")


def post(client: TestClient[Any, Any], body: bytes, query: str = "",
         content_type: str = "image/png", **headers: str) -> Any:
    return client.post(f"/look{query}", data=body,
                       headers={"Content-Type": content_type, **headers})


def png_of(data_url: str) -> Image.Image:
    assert data_url.startswith("data:image/")
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB")


# --- the endpoint ---------------------------------------------------------------------------


async def test_look_answers_the_scene_and_loads_ocr_only_when_needed(served: Served) -> None:
    assert served.reader.loaded_threads == []
    response = await post(served.client, photo(), "?name=menu.png")
    assert response.status == 200, await response.text()
    scene = await response.json()
    assert scene["source"] == "menu.png" and (scene["width"], scene["height"]) == (800, 600)
    assert [(b["zh"], b["en"], b["model"]) for b in scene["blocks"]] == [
        ("出口", fake_english("出口"), "fake"),
        ("WiFi", "WiFi", ""),
        ("牛肉面 25元", fake_english("牛肉面") + " 25元", "fake")]
    assert scene["blocks"][0]["box"] == [100, 100, 300, 160]
    assert set(scene["timings_s"]) >= {"ocr", "total"}
    assert served.backend.prompts == [PHOTO_TEXT, PHOTO_TEXT]
    # no speech: the OCR had the configured threads, in a worker thread
    assert served.reader.loaded_threads == [VisionOptions().ocr_threads]
    engine = served.engines[VisionOptions().ocr_threads]
    assert engine.ran_on and engine.ran_on[0] != threading.current_thread().name
    again = await post(served.client, photo(kind="JPEG"), content_type="image/jpeg")
    assert again.status == 200 and len(served.engines) == 1
    assert served.backend.warm_ups == []  # no speech to restore the prompt for


class SidewaysOcr(FakeOcr):
    """Reads ``LINES`` only from the photo turned on its side (narrower than tall)."""

    def read(self, image: Image.Image, scale: float = 1.0) -> list[TextLine]:
        return super().read(image, scale) if image.width < image.height else []


async def test_a_sideways_photo_is_read_turned_and_shown_turned() -> None:
    served = await serve_photos(ocr_factory=SidewaysOcr)
    try:
        viewer = await served.client.ws_connect("/ws/captions")
        response = await post(served.client, photo((800, 600)))
        assert response.status == 200
        answer = await response.json()
        assert (answer["turned"], answer["width"], answer["height"]) == (90, 600, 800)
        assert [b["zh"] for b in answer["blocks"]] == [text for text, _ in LINES]
        scene = await until("scene", viewer)
        assert png_of(scene["photo"]).size[0] < png_of(scene["photo"]).size[1]
    finally:
        await served.client.close()


async def test_viewers_get_the_scene_and_the_display_shows_the_card(served: Served) -> None:
    viewer = await served.client.ws_connect("/ws/captions")
    assert (await receive_json(viewer))["type"] == "hello"
    assert (await receive_json(viewer))["type"] == "display"
    response = await post(served.client, photo())
    assert response.status == 200
    scene = await until("scene", viewer)
    assert scene["profile"] == "rokid" and scene["scene_id"] == 1
    assert [b["en"] for b in scene["blocks"]] == [b["en"] for b in (await response.json())[
        "blocks"]]
    assert png_of(scene["photo"]).size == (800, 600)
    expected = card_pages([SceneBlock(b["zh"], b["en"], Box(*b["box"]), b["confidence"],
                                      b["model"]) for b in scene["blocks"]],
                          get_profile("rokid"))
    assert [page["hud"] for page in scene["card"]] == [frame.to_dict() for frame in expected]
    for page, frame in zip(scene["card"], expected, strict=True):
        assert page["page_s"] >= CARD_PAGE_MIN_S
        assert png_of(page["frame"]).tobytes() == preview_image(
            render_frame(frame), frame.profile).tobytes()
    display = await until("display", viewer)
    assert display["card"] == {"scene_id": 1, "page": 1, "pages": len(expected)}
    assert display["hud"] == expected[0].to_dict()
    assert fake_english("出口") in display["hud"]["english"]
    # a viewer that opens the page later still gets the latest scene
    late = await served.client.ws_connect("/ws/captions?profile=even-g1")
    kinds = [(await receive_json(late))["type"] for _ in range(3)]
    assert kinds == ["hello", "scene", "display"]
    await viewer.close()
    await late.close()


async def test_an_unknown_profile_in_the_page_address_is_said_not_swallowed(
        served: Served) -> None:
    viewer = await served.client.ws_connect("/ws/captions?profile=nope")
    messages = [await receive_json(viewer) for _ in range(3)]
    assert [m["type"] for m in messages] == ["hello", "display", "error"]
    assert messages[2]["code"] == "unknown_profile"
    assert "unknown profile 'nope', showing rokid" in messages[2]["message"]
    await viewer.send_bytes(b"\x00\x01" * 160)  # audio, to the wrong socket
    error = await receive_json(viewer)
    assert error["code"] == "bad_message" and "/ws/audio" in error["message"]
    await viewer.close()


async def test_a_wearer_session_gets_its_photo_and_ocr_yields_to_speech(
        served: Served) -> None:
    wearer = await served.client.ws_connect("/ws/audio")
    await wearer.send_json(START)
    session_id = (await receive_json(wearer))["session_id"]
    viewer = await served.client.ws_connect(f"/ws/captions?session={session_id}")
    own_page = await served.client.ws_connect("/ws/captions")
    response = await post(served.client, photo(), f"?session={session_id}")
    assert response.status == 200
    scene = await until("scene", wearer)
    assert scene["photo"] == "" and all(set(page) == {"hud"} for page in scene["card"])
    assert scene["blocks"][0]["en"] == fake_english("出口")
    seen = await until("scene", viewer)
    assert seen["photo"].startswith("data:image/jpeg;base64,")
    assert seen["scene_id"] == scene["scene_id"] == 1
    # speech is live: the OCR ran on one thread, and the speech prompt was put back
    assert served.reader.loaded_threads == [1]
    assert served.backend.warm_ups == [SPEECH]
    # the server's own page did not get the wearer's photo
    kinds = [(await receive_json(own_page))["type"] for _ in range(2)]
    assert kinds == ["hello", "display"]
    with pytest.raises(asyncio.TimeoutError):
        await own_page.receive(timeout=0.3)
    missing = await post(served.client, photo(), "?session=20000101-000000-abcdef")
    assert missing.status == 404 and "no live session" in (await missing.json())["error"]
    for socket in (wearer, viewer, own_page):
        await socket.close()


@pytest.mark.parametrize(("body", "content_type", "status", "words"), [
    (b"", "image/png", 400, "no photo"),
    (b"this is not a picture at all", "image/jpeg", 400, "not an image"),
    (photo()[:300], "image/png", 400, "truncated"),
    (photo(), "application/x-www-form-urlencoded", 415, "Content-Type image/jpeg"),
    (photo(), "multipart/form-data; boundary=x", 415, "multipart"),
])
async def test_bad_photos_are_json_errors_and_the_server_goes_on(
        served: Served, body: bytes, content_type: str, status: int, words: str) -> None:
    response = await post(served.client, body, content_type=content_type)
    assert response.status == status
    assert words in (await response.json())["error"]
    assert (await post(served.client, photo())).status == 200


async def test_an_iphone_heic_photo_is_read(served: Served) -> None:
    pytest.importorskip("pi_heif")
    heic = (Path(__file__).parent / "data" / "sign-no-smoking.heic").read_bytes()
    response = await post(served.client, heic, content_type="image/heic")
    assert response.status == 200, await response.text()
    assert ((await response.json())["width"], (await response.json())["height"]) == (320, 120)


async def test_size_limit_cross_origin_and_token() -> None:
    served = await serve_photos(limits=SessionLimits(max_photo_bytes=4096), token="s3cret")
    client = served.client
    try:
        auth = {"Authorization": "Bearer s3cret"}
        assert (await post(client, photo())).status == 401
        big = photo((200, 150), "BMP")
        assert len(big) > 4096
        response = await post(client, big, content_type="image/png", **auth)
        assert response.status == 413 and "4096 bytes" in (await response.json())["error"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as read
            for start in range(0, len(big), 1000):
                yield big[start:start + 1000]

        streamed = await client.post("/look", data=chunks(),
                                     headers={"Content-Type": "image/png", **auth})
        assert streamed.status == 413
        foreign = await post(client, photo(), **auth, Origin="http://evil.example")
        assert foreign.status == 403
        small = photo((200, 100))
        assert len(small) <= 4096
        ok = await client.post("/look?token=s3cret", data=small,
                               headers={"Content-Type": "image/png"})
        assert ok.status == 200
    finally:
        await client.close()


async def test_every_http_error_is_json_and_pages_and_metrics_are_not() -> None:
    """README: errors are ``{"error": …}``: the token check's 401, aiohttp's 404 and 405
    too, their headers kept; what succeeds keeps its own type."""
    served = await serve_photos(token="s3cret")
    client = served.client
    try:
        auth = {"Authorization": "Bearer s3cret"}
        for response, status, words in [
                (await post(client, photo()), 401, "a bearer token is required"),
                (await post(client, photo(), Authorization="Bearer nope"), 401,
                 "the token is wrong"),
                (await client.get("/look", headers=auth), 405, "GET /look (allowed: POST)"),
                (await client.get("/nowhere", headers=auth), 404, "not found: GET /nowhere"),
                (await client.get("/ws/captions?session=nope", headers=auth), 404,
                 "no live session 'nope'")]:
            assert response.status == status, await response.text()
            assert response.content_type == "application/json", await response.text()
            assert words in (await response.json())["error"]
            if status == 401:
                assert response.headers["WWW-Authenticate"] == "Bearer"
            if status == 405:
                assert response.headers["Allow"] == "POST"
        page = await client.get("/?token=s3cret")
        assert page.status == 200 and page.content_type == "text/html"
        metrics = await client.get("/metrics", headers=auth)
        assert metrics.status == 200 and metrics.content_type == "text/plain"
    finally:
        await client.close()


def held_ocr_factory(gates: list[FakeOcr]) -> Callable[[int], FakeOcr]:
    """An OCR factory whose engines wait at their gate (each appended to ``gates``)."""
    def held_ocr(threads: int) -> FakeOcr:
        engine = FakeOcr(threads)
        engine.gate.clear()
        gates.append(engine)
        return engine
    return held_ocr


async def test_photos_wait_their_turn_off_the_event_loop() -> None:
    gates: list[FakeOcr] = []
    held_ocr = held_ocr_factory(gates)

    served = await serve_photos(limits=SessionLimits(max_waiting_photos=1),
                                ocr_factory=held_ocr)
    client = served.client
    try:
        first = asyncio.create_task(post(client, photo()))
        second = asyncio.create_task(post(client, photo()))
        for _ in range(200):
            if gates and gates[0].ran_on:
                break
            await asyncio.sleep(0.01)
        assert gates and gates[0].ran_on, "the first photo never reached the OCR"
        # the event loop is free while a photo is read: other requests are answered
        assert (await client.get("/healthz")).status == 200
        third = await post(client, photo())
        assert third.status == 503 and third.headers["Retry-After"]
        assert "busy" in (await third.json())["error"]
        gates[0].gate.set()
        responses = await asyncio.gather(first, second)
        assert [response.status for response in responses] == [200, 200]
        assert len(gates[0].ran_on) == 2
    finally:
        if gates:
            gates[0].gate.set()
        await client.close()


async def test_an_ocr_that_cannot_load_is_a_500_and_the_server_goes_on() -> None:
    def broken(threads: int) -> Any:
        raise DependencyError("rapidocr is not installed: pip install rapidocr")

    served = await serve_photos(ocr_factory=broken)
    try:
        response = await post(served.client, photo())
        assert response.status == 500
        assert "pip install rapidocr" in (await response.json())["error"]
        assert (await served.client.get("/healthz")).status == 200
    finally:
        await served.client.close()


async def test_a_photo_cut_short_by_the_server_stopping_is_a_503_not_an_empty_scene(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM while a photo is read: the reader stops (its stop is shared by every block
    of the photo), and the half-read photo is answered 503, not 200 with no blocks."""
    gates: list[FakeOcr] = []
    held_ocr = held_ocr_factory(gates)

    served = await serve_photos(ocr_factory=held_ocr)
    closed = threading.Event()
    close = served.reader.close

    def close_and_say() -> None:
        close()
        closed.set()

    monkeypatch.setattr(served.reader, "close", close_and_say)
    server = HudServer(served.broadcaster, "127.0.0.1", 0, sessions=served.manager,
                       photos=served.reader)
    url = await server.start()
    stopping: asyncio.Task[None] | None = None
    try:
        async with aiohttp.ClientSession() as http:
            answer = asyncio.create_task(http.post(
                url + "look", data=photo(), headers={"Content-Type": "image/png"}))
            for _ in range(200):
                if gates and gates[0].ran_on:
                    break
                await asyncio.sleep(0.01)
            assert gates and gates[0].ran_on, "the photo never reached the OCR"
            stopping = asyncio.create_task(server.stop())  # what serve() does on SIGTERM
            assert await asyncio.to_thread(closed.wait, 10), "the reader was never closed"
            gates[0].gate.set()
            response = await asyncio.wait_for(answer, 15)
            body = await response.json()
            assert response.status == 503, body
            assert set(body) == {"error"} and "server stopping" in body["error"]
            await stopping
    finally:
        if gates:
            gates[0].gate.set()
        if stopping is None:
            await server.stop()
        await served.client.close()


# --- the card on the display ------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def menu(items: int) -> SceneText:
    blocks = tuple(SceneBlock(f"菜{index}", f"Dish number {index} with a long name", Box(
        0, index * 50, 300, index * 50 + 40), 0.9, "fake") for index in range(items))
    return SceneText("menu.jpg", 400, items * 50, blocks)


def final(uid: int, english: str) -> Translation:
    return Translation(uid, "你好", english, "", uid, uid + 1, True, uid + 1, model="fake")


async def test_card_pages_take_turns_then_the_captions_return() -> None:
    clock = Clock()
    broadcaster = CaptionBroadcaster(get_profile("even-g1"), clock=clock,
                                     pacing=PacingOptions(clear_after_s=0.0))
    view = View("even-g1")
    broadcaster.add_viewer(view)
    broadcaster.handle(final(1, "Before the photo."))
    scene_id = broadcaster.show_scene(menu(6))
    pages = card_pages(menu(6).blocks, get_profile("even-g1"))
    assert scene_id == 1 and len(pages) >= 2
    assert broadcaster.current_frame(view) == pages[0]
    clock.now += card_page_s(pages[0], broadcaster.pacing) - 0.01
    broadcaster._tick()
    assert broadcaster.current_frame(view) == pages[0]
    clock.now += 0.02
    broadcaster._tick()
    assert broadcaster.current_frame(view) == pages[1]
    clock.now += len(pages) * 20.0
    broadcaster._tick()
    frame = broadcaster.current_frame(view)
    assert frame is not None and frame.english == ("Before the photo.",)
    broadcaster.shutdown()


async def test_a_final_caption_takes_the_display_back_after_the_minimum() -> None:
    clock = Clock()
    broadcaster = CaptionBroadcaster(get_profile("rokid"), clock=clock,
                                     pacing=PacingOptions(clear_after_s=0.0))
    view = View("rokid")
    broadcaster.add_viewer(view)
    broadcaster.show_scene(menu(2))
    card = broadcaster.current_frame(view)
    clock.now += 1.0
    broadcaster.handle(final(1, "Speech goes on."))
    assert broadcaster.current_frame(view) is card  # the wearer gets time to read
    clock.now += CARD_MIN_S
    broadcaster._tick()
    frame = broadcaster.current_frame(view)
    assert frame is not None and "Speech goes on." in frame.english
    broadcaster.shutdown()


def test_scene_message_is_documented() -> None:
    spec = protocol.__doc__ or ""
    for words in ("POST /look", "scene", "Content-Type", "413", "415", "session=ID",
                  "max_photo_bytes", "page_s"):
        assert words in spec, words
    message = protocol.scene_message(menu(1), scene_id=3, profile="rokid", card=[])
    assert message["type"] == "scene" and message["scene_id"] == 3
    assert message["blocks"][0]["en"].startswith("Dish")


# --- the real OCR ------------------------------------------------------------------------


def sign(text: str) -> bytes:
    from hudtranslate.captions.fonts import load_font

    font = load_font(64)
    image = Image.new("RGB", (640, 240), (235, 235, 225))
    ImageDraw.Draw(image).text((60, 70), text, fill=(20, 20, 20), font=font.face)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def test_real_ocr_reads_a_rendered_sign(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr")
    settings = Settings.load(env={})
    backend = PhotoBackend()
    reader = PhotoReader(backend, None, settings.vision)
    scene, photo_url = await reader.read(sign("禁止吸烟"), "sign.jpg")
    assert [block.chinese for block in scene.blocks] == ["禁止吸烟"]
    assert scene.blocks[0].english == fake_english("禁止吸烟")
    box = scene.blocks[0].box
    assert 30 < box.left < 90 and 50 < box.top < 110 and box.right > 250
    assert photo_url.startswith("data:image/jpeg;base64,")



async def test_an_upload_that_breaks_off_is_one_info_line_not_a_traceback(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    """A phone on a flaky network: the body stops half-way and the connection closes.
    Served as ``serve`` serves (aiohttp's ``AppRunner``: the handler is not cancelled but
    its read fails; the test client's server would cancel it)."""
    import asyncio

    from aiohttp import web

    caplog.set_level("INFO")
    runner = web.AppRunner(create_app(served.broadcaster, sessions=served.manager,
                                      photos=served.reader), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        _reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST /look HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                     b"Content-Length: 1000000\r\n\r\n" + b"\xff" * 1000)
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()
        for _ in range(100):
            await asyncio.sleep(0.02)
            if "upload broke off" in caplog.text:
                break
    finally:
        await runner.cleanup()
    assert "upload broke off after 1000 bytes" in caplog.text
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


async def test_a_request_line_over_8_kb_is_a_400_and_one_warning_not_a_traceback(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    """``curl ':PORT/look?session=<9000 chars>'``: aiohttp answers 400 before any route and
    had logged it at ERROR with a traceback (``LineTooLong``); nothing failed here."""
    caplog.set_level("INFO")
    server = HudServer(served.broadcaster, "127.0.0.1", 0, sessions=served.manager,
                       photos=served.reader)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /look?session=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        assert status_line.split()[1] == b"400", status_line
    finally:
        await server.stop()
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    warned = [record for record in caplog.records if "bad request" in record.getMessage()]
    assert len(warned) == 1 and warned[0].levelname == "WARNING", caplog.text
    assert warned[0].exc_info is None and "Traceback" not in caplog.text
    assert len(warned[0].getMessage()) < 300 and "xxxxxxxxxxxxxxxxxxxx" not in caplog.text
