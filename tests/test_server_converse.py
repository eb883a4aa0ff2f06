"""Conversation mode on the server, without a browser: the partner page's routes, viewers
without a display, and drafts typed on the wearer's socket (fake models)."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import ImageFont
from tests.test_server_protocol import drain
from tests.test_server_sessions import (
    SCRIPT,
    START,
    four_sentences,
    make_client,
    receive_json,
    until,
)

from hudtranslate.audio import float32_to_pcm16le
from hudtranslate.captions import PacingOptions, get_profile, load_font
from hudtranslate.config import Settings
from hudtranslate.events import SAMPLE_RATE_HZ, StreamEnd, Transcript, Translation
from hudtranslate.server import CaptionBroadcaster, View, create_app, protocol
from hudtranslate.server.limits import SessionLimits
from hudtranslate.testing import fake_english
from hudtranslate.transcripts.sessions import SessionStore

pytestmark = pytest.mark.timeout(60)

DRAFT = "tell her I'll be ten minutes late"


def converse_events() -> list[Transcript | Translation]:
    """The partner says one sentence, then the wearer answers in English."""
    return [
        Transcript(0, "你什么时候到？", "", 0.0, 1.5, True, 1.6),
        Translation(0, "你什么时候到？", "When will you arrive?", "", 0.0, 1.5, True, 2.0),
        Transcript(1, "I'll be there", " soon", 2.0, 3.0, False, 3.1, language="en"),
        Translation(1, "I'll be there soon", "我很快", "就到", 2.0, 3.0, False, 3.3,
                    source_language="en"),
    ]


async def test_a_viewer_without_display_gets_the_recent_captions_and_never_frames() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    events = converse_events()
    for event in events[:2]:
        broadcaster.handle(event)
    partner = broadcaster.add_viewer(View("rokid", True, display=False))
    hud = broadcaster.add_viewer()
    joined = drain(partner)
    assert [m["type"] for m in joined] == ["hello", "transcript", "caption"]
    assert joined[2]["committed"] == "When will you arrive?"
    for event in events[2:]:
        broadcaster.handle(event)
    later = drain(partner)
    assert [m["type"] for m in later] == ["transcript", "caption"]
    assert later[1]["target_language"] == "zh" and later[1]["source"] == "I'll be there soon"
    assert "display" in {m["type"] for m in drain(hud)}
    broadcaster.set_view(partner, protocol.ViewRequest("even-g1", None))
    assert "display" not in {m["type"] for m in drain(partner)}
    assert partner.view == View("even-g1", True, display=False)
    assert broadcaster.current_frame(View("rokid", True, display=False)) is None
    broadcaster.handle(StreamEnd(4.0))
    assert [m["type"] for m in drain(partner)] == ["end"]
    broadcaster.shutdown()


async def test_partner_page_and_font_are_served_with_the_token_rules() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    async with TestClient(TestServer(create_app(broadcaster, token="s3cret"))) as client:
        assert (await client.get("/partner")).status == 401
        page = await client.get("/partner?token=s3cret")
        assert page.status == 200 and "/static/partner.js" in await page.text()
        script = await client.get("/static/partner.js")
        assert script.status == 200 and "display: \"0\"" in await script.text()
        font = await client.get("/static/fonts/hud-cjk.ttf")  # open, like /static/
        assert font.status == 200 and font.headers["Content-Type"] == "font/ttf"
        data = await font.read()
        assert data[:4] == b"\x00\x01\x00\x00"
        face = ImageFont.truetype(io.BytesIO(data), 28, layout_engine=ImageFont.Layout.BASIC)
        assert face.getname() == ("WenQuanYi Micro Hei", "Regular")
        assert face.getlength("不好意思，我会晚到十分钟。") == load_font(28).measure(
            "不好意思，我会晚到十分钟。")
        socket = await client.ws_connect("/ws/captions?display=0&token=s3cret")
        assert (await socket.receive_json(timeout=5))["type"] == "hello"
        broadcaster.handle(converse_events()[3])
        caption = await socket.receive_json(timeout=5)
        assert caption["type"] == "caption" and caption["source_language"] == "en"
        await socket.close()


CONVERSE = Settings.load(env={}, overrides={"conversation.mode": "converse"})


async def test_drafts_are_refused_by_a_server_that_only_listens(tmp_path: Path) -> None:
    client, _ = await make_client(tmp_path)
    try:
        socket = await client.ws_connect("/ws/audio")
        await socket.send_json(START)
        hello = await receive_json(socket)
        assert hello["type"] == "session" and hello["mode"] == "listen"
        await socket.send_json({"type": "draft", "text": DRAFT})
        error = await receive_json(socket)
        assert error["code"] == "bad_message" and "--mode converse" in error["message"]
        await socket.send_json({"type": "end"})
        assert (await until("end", socket))["type"] == "end"
    finally:
        await client.close()


async def test_a_typed_draft_is_translated_and_stored(tmp_path: Path) -> None:
    client, _ = await make_client(tmp_path, settings=CONVERSE)
    try:
        socket = await client.ws_connect("/ws/audio")
        await socket.send_json({"type": "draft", "text": DRAFT})
        assert (await receive_json(socket))["code"] == "bad_message"  # before start
        await socket.send_json(START)
        hello = await receive_json(socket)
        assert hello["partner_path"] == f"/partner?session={hello['session_id']}"
        assert hello["mode"] == "converse"  # a client labels directions from the start
        for bad in ({"type": "draft"}, {"type": "draft", "text": ["x"]},
                    {"type": "draft", "text": "   "},
                    {"type": "draft", "text": "x" * (protocol.MAX_DRAFT_CHARS + 1)}):
            await socket.send_json(bad)
            error = await receive_json(socket)
            assert error["type"] == "error" and error["code"] == "bad_message", bad
        await socket.send_json({"type": "draft", "text": f"  {DRAFT} "})
        typed = await until("transcript", socket)
        assert (typed["committed"], typed["language"], typed["draft"], typed["final"]) == (
            DRAFT, "en", True, True)
        answer = await until("caption", socket)
        while not answer["final"]:
            answer = await until("caption", socket)
        assert answer["utterance_id"] == typed["utterance_id"] and answer["source"] == DRAFT
        assert (answer["source_language"], answer["target_language"], answer["draft"]) == (
            "en", "zh", True)
        assert answer["committed"] == fake_english(DRAFT)  # the fake's "Chinese"
        speech = four_sentences()[: int(3.2 * SAMPLE_RATE_HZ)]  # the session goes on
        for start in range(0, len(speech), 3200):
            await socket.send_bytes(float32_to_pcm16le(speech[start : start + 3200]))
        await socket.send_json({"type": "end"})
        spoken = await until("caption", socket)
        while not spoken["final"]:
            spoken = await until("caption", socket)
        assert spoken["source"] == SCRIPT[0] and spoken["utterance_id"] != typed["utterance_id"]
        assert (await until("end", socket))["type"] == "end"
        assert (await socket.receive(timeout=5)).type is aiohttp.WSMsgType.CLOSE
        records = SessionStore(tmp_path / "sessions").records(hello["session_id"])
        assert len(records) == 2
        assert (records[0].en, records[0].zh) == (DRAFT, fake_english(DRAFT))
        assert (records[0].source_language, records[0].draft) == ("en", True)
        assert (records[1].source_language, records[1].zh) == ("zh", SCRIPT[0])
    finally:
        await client.close()


async def test_drafts_beyond_the_burst_are_refused_with_the_socket_kept_open(
        tmp_path: Path) -> None:
    client, _ = await make_client(tmp_path, settings=CONVERSE,
                                  limits=SessionLimits(drafts_per_minute=0.1))
    try:
        socket = await client.ws_connect("/ws/audio")
        await socket.send_json(START)
        assert (await receive_json(socket))["type"] == "session"
        for index in range(4):
            await socket.send_json({"type": "draft", "text": f"{DRAFT} {index}"})
        await socket.send_json({"type": "end"})
        finals, errors = [], []
        while (message := await receive_json(socket))["type"] != "end":
            if message["type"] == "caption" and message["final"]:
                finals.append(message["source"])
            errors += [message] if message["type"] == "error" else []
        assert [error["code"] for error in errors] == ["too_many_drafts"]
        assert "0.1 drafts a minute" in errors[0]["message"]
        assert finals == [f"{DRAFT} {index}" for index in range(3)]
    finally:
        await client.close()
