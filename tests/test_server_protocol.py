"""The caption protocol, the broadcaster (a pipeline sink) and the web app, without a browser."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from hudtranslate.captions import PacingOptions, get_profile, preview_image, render_frame
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.server import (
    PROTOCOL_VERSION,
    CaptionBroadcaster,
    ProtocolError,
    View,
    Viewer,
    create_app,
    protocol,
)
from hudtranslate.server.client import event_from_message

pytestmark = pytest.mark.timeout(60)


def translation(uid: int, committed: str, tentative: str = "", final: bool = False,
                source: str = "你好") -> Translation:
    return Translation(uid, source, committed, tentative, uid, uid + 1, final, uid + 1,
                       model="fake")


def drain(viewer: Viewer) -> list[dict[str, Any]]:
    messages = []
    while not viewer.queue.empty():
        text = viewer.queue.get_nowait()
        if text is not None:
            messages.append(json.loads(text))
    return messages


# --- protocol ----------------------------------------------------------------------------


def test_protocol_is_versioned_and_documented() -> None:
    assert PROTOCOL_VERSION == 1
    spec = protocol.__doc__ or ""
    for word in ("hello", "display", "caption", "transcript", "end", "error", "view",
                 "protocol_version", "Versioning", *protocol.ERROR_CODES):
        assert word in spec, word


def test_event_messages_carry_the_caption_fields() -> None:
    caption = protocol.event_message(translation(3, "We usually", "sleep", source="我们"))
    assert caption == {"type": "caption", "utterance_id": 3, "committed": "We usually",
                       "tentative": "sleep", "source": "我们", "final": False,
                       "start_s": 3, "end_s": 4, "emitted_s": 4, "model": "fake", "load": 0,
                       "source_language": "zh", "target_language": "en", "draft": False}
    busy = protocol.event_message(dataclasses.replace(translation(3, "We"), load_level=2))
    assert busy["load"] == 2
    transcript = protocol.event_message(Transcript(2, "通常", "情况", 1.0, 2.5, False, 2.6))
    assert transcript["type"] == "transcript" and transcript["tentative"] == "情况"
    assert transcript["language"] == "zh" and transcript["draft"] is False
    assert json.loads(protocol.encode(caption)) == caption
    assert protocol.end_message(84.06) == {"type": "end", "duration_s": 84.06}
    with pytest.raises(ValueError):
        protocol.error_message("oops", "not a code")


def test_both_directions_survive_the_round_trip() -> None:
    """Encode → JSON → decode gives back the same events, in both directions and for
    drafts; messages without the new fields (older servers) read as zh → en."""
    events: list[Transcript | Translation] = [
        Transcript(4, "I'll be", " late", 5.0, 6.0, False, 6.1, language="en"),
        Transcript(5, "tell her I'll be ten minutes late", "", 7.0, 7.0, True, 7.2,
                   language="en", draft=True),
        Translation(4, "I'll be late", "我会", "晚到", 5.0, 6.0, False, 6.5, model="m",
                    load_level=1, source_language="en"),
        Translation(5, "tell her I'll be ten minutes late", "不好意思，我会晚到十分钟。", "",
                    7.0, 7.0, True, 8.0, model="m", source_language="en", draft=True),
        translation(6, "Hello", "there", final=True),
    ]
    for event in events:
        message = json.loads(protocol.encode(protocol.event_message(event)))
        assert event_from_message(message) == event
    caption = protocol.event_message(events[2])
    assert (caption["source_language"], caption["target_language"]) == ("en", "zh")
    assert caption["source"] == "I'll be late" and caption["committed"] == "我会"
    old = {key: value for key, value in protocol.event_message(events[3]).items()
           if key not in ("source_language", "target_language", "draft")}
    decoded = event_from_message(old)
    assert isinstance(decoded, Translation)
    assert (decoded.source_language, decoded.target_language, decoded.draft) == ("zh", "en",
                                                                                 False)


@pytest.mark.parametrize(("text", "expected"), [
    ('{"type": "view", "profile": "even-g1"}', protocol.ViewRequest("even-g1", None)),
    ('{"type": "view", "bilingual": false}', protocol.ViewRequest(None, False)),
    ('{"type": "view"}', protocol.ViewRequest()),
])
def test_parse_view_requests(text: str, expected: protocol.ViewRequest) -> None:
    assert protocol.parse_client_message(text) == expected


@pytest.mark.parametrize("text", ["not json", "[1]", '{"type": "audio"}',
                                  '{"type": "view", "profile": 3}',
                                  '{"type": "view", "bilingual": "yes"}',
                                  '{"type": "view", "profile": "' + "x" * 5000 + '"}',
                                  "[" * 4000])  # nested past the stack: had been RecursionError
def test_bad_requests_are_protocol_errors(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_client_message(text)
    assert caught.value.code == "bad_message"


def test_parse_bool() -> None:
    assert protocol.parse_bool("0", True) is False
    assert protocol.parse_bool("yes", False) is True
    assert protocol.parse_bool(None, True) is True
    assert protocol.parse_bool("maybe", False) is False


# --- broadcaster -------------------------------------------------------------------------


async def test_viewer_gets_hello_then_displays_and_captions() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    viewer = broadcaster.add_viewer()
    hello, display = drain(viewer)
    assert hello["type"] == "hello" and hello["protocol_version"] == PROTOCOL_VERSION
    assert hello["profile"]["width_px"] == 480 and "even-g1" in hello["profiles"]
    assert display["type"] == "display" and display["seq"] == 1
    broadcaster.handle(Transcript(1, "你好", "", 0, 1, False, 1))
    broadcaster.handle(translation(1, "Hello", "there"))
    messages = drain(viewer)
    assert [m["type"] for m in messages] == ["transcript", "display", "caption", "display"]
    last = messages[-1]
    assert last["seq"] == 3 and last["hud"]["english"] == ["Hello there"]
    png = base64.b64decode(last["frame"].split(",", 1)[1])
    frame = broadcaster.current_frame(View("rokid"))
    assert frame is not None
    expected = preview_image(render_frame(frame), frame.profile)
    assert Image.open(io.BytesIO(png)).convert("RGB").tobytes() == expected.tobytes()
    broadcaster.handle(StreamEnd(2.0))
    assert drain(viewer) == [{"type": "end", "duration_s": 2.0}]
    broadcaster.shutdown()


async def test_display_messages_carry_the_load_level_of_the_latest_caption() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    viewer = broadcaster.add_viewer()
    assert [m["load"] for m in drain(viewer) if m["type"] == "display"] == [0]
    busy = dataclasses.replace(translation(1, "Hello", final=True), load_level=2)
    broadcaster.handle(busy)
    messages = drain(viewer)
    assert [(m["type"], m["load"]) for m in messages] == [("caption", 2), ("display", 2)]
    # the same English again, now at level 0: the frame is unchanged, the display is re-sent
    broadcaster.handle(translation(1, "Hello", final=True))
    messages = drain(viewer)
    assert [(m["type"], m["load"]) for m in messages] == [("caption", 0), ("display", 0)]
    broadcaster.handle(translation(1, "Hello", final=True))  # nothing changed: no display
    assert [m["type"] for m in drain(viewer)] == ["caption"]
    broadcaster.shutdown()


async def test_views_are_per_viewer_and_changeable() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    broadcaster.handle(translation(1, "Hello", final=True, source="你好"))
    english_only = broadcaster.add_viewer(View("even-g1", bilingual=False))
    hello, display = drain(english_only)
    assert hello["profile"]["name"] == "even-g1" and hello["bilingual"] is False
    assert display["hud"]["english"] == ["Hello"] and display["hud"]["source"] == ""
    assert display["hud"]["width_px"] == 576
    broadcaster.set_view(english_only, protocol.ViewRequest("meta-display", True))
    hello, display = drain(english_only)
    assert display["profile"] == "meta-display" and display["hud"]["source"] == "你好"
    broadcaster.set_view(english_only, protocol.ViewRequest("hololens", None))
    [error] = drain(english_only)
    assert error["code"] == "unknown_profile" and english_only.view.profile == "meta-display"
    broadcaster.remove_viewer(english_only)
    assert broadcaster.viewer_count == 0 and broadcaster.current_frame(View("even-g1")) is None
    broadcaster.shutdown()


async def test_display_keeps_moving_between_captions() -> None:
    pacing = PacingOptions(reading_chars_per_s=1000, min_line_s=0, clear_after_s=0.4,
                           scroll_s=0.2)
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=pacing)
    viewer = broadcaster.add_viewer()
    for uid in range(1, 5):
        broadcaster.handle(translation(uid, f"Sentence {uid}.", final=True))
    drain(viewer)
    await asyncio.sleep(0.9)
    displays = [m for m in drain(viewer) if m["type"] == "display"]
    assert len(displays) >= 3  # scroll steps, then the end of the scroll, then the clear
    assert displays[-1]["hud"]["english"] == [] and displays[-1]["hud"]["runs"] == []
    assert any(m["hud"]["scrolling"] for m in displays)
    broadcaster.shutdown()


async def test_a_scroll_caught_by_a_late_clock_still_finishes() -> None:
    """On a loaded machine the clock moves on between drawing a frame and planning the
    next tick: a frame drawn mid-scroll must still be followed by the scroll's end, even
    when the scroll is already over by the time the next tick is planned."""
    now = [0.0]

    def lagging_clock() -> float:
        now[0] += 0.5  # every reading is half a second after the one before
        return now[0]

    pacing = PacingOptions(reading_chars_per_s=1000, min_line_s=0, clear_after_s=0,
                           scroll_s=0.2)
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=pacing,
                                     clock=lagging_clock)
    viewer = broadcaster.add_viewer()
    for uid in range(1, 12):
        broadcaster.handle(translation(uid, f"Sentence number {uid} is long enough to "
                                            "take a whole row of the display.", final=True))
    await asyncio.sleep(0.3)
    frame = broadcaster.current_frame(broadcaster.default_view)
    assert frame is not None and not frame.scrolling
    assert [m for m in drain(viewer) if m["type"] == "display"][-1]["hud"]["scrolling"] \
        is False
    broadcaster.shutdown()


async def test_slow_viewer_is_dropped_not_waited_for() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced(),
                                     max_queue=5)
    viewer = broadcaster.add_viewer()
    for step in range(10):
        broadcaster.handle(translation(1, f"word{step}"))
    assert viewer.closed
    messages = drain(viewer)
    assert messages[-1]["code"] == "too_slow"
    broadcaster.shutdown()


async def test_a_new_round_after_the_end_starts_blank() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    viewer = broadcaster.add_viewer()
    broadcaster.handle(translation(1, "First round.", final=True))
    broadcaster.handle(StreamEnd(3.0))
    broadcaster.handle(translation(0, "Second round.", final=True))
    assert [t.text for t in broadcaster.translations()] == ["Second round."]
    assert drain(viewer)[-1]["hud"]["english"] == ["Second round."]
    broadcaster.shutdown()


# --- web app -----------------------------------------------------------------------------


async def test_app_serves_the_page_and_the_caption_socket() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    async with TestClient(TestServer(create_app(broadcaster))) as client:
        page = await client.get("/")
        assert page.status == 200 and "<canvas id=\"hud\"" in await page.text()
        script = await client.get("/static/hud.js")
        assert script.status == 200 and "PROTOCOL_VERSION = 1" in await script.text()
        health = await (await client.get("/healthz")).json()
        assert health == {"ok": True, "protocol_version": 1, "viewers": 0}
        socket = await client.ws_connect("/ws/captions?profile=even-g1&bilingual=0")
        hello = await socket.receive_json(timeout=5)
        assert hello["profile"]["name"] == "even-g1" and hello["bilingual"] is False
        assert (await socket.receive_json(timeout=5))["type"] == "display"
        broadcaster.handle(translation(1, "Hi"))
        kinds = [(await socket.receive_json(timeout=5))["type"] for _ in range(2)]
        assert sorted(kinds) == ["caption", "display"]
        await socket.send_str("nonsense")
        error = await socket.receive_json(timeout=5)
        assert error["type"] == "error" and error["code"] == "bad_message"
        await socket.send_json({"type": "view", "profile": "meta-display"})
        assert (await socket.receive_json(timeout=5))["profile"]["name"] == "meta-display"
        await socket.close()
        for _ in range(50):
            if broadcaster.viewer_count == 0:
                break
            await asyncio.sleep(0.02)
        assert broadcaster.viewer_count == 0


async def test_app_refuses_cross_origin_sockets_and_closes_on_shutdown() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"))
    async with TestClient(TestServer(create_app(broadcaster))) as client:
        refused = await client.get("/ws/captions", headers={
            "Origin": "http://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert refused.status == 403
        host = f"http://{client.host}:{client.port}"
        socket = await client.ws_connect("/ws/captions", origin=host)
        assert (await socket.receive_json(timeout=5))["type"] == "hello"
        broadcaster.shutdown()
        while True:
            message = await socket.receive(timeout=5)
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                break


async def test_a_viewer_joining_mid_session_sees_the_newest_lines_at_once() -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"))  # paced, like a live session
    for uid in range(1, 7):
        broadcaster.handle(translation(uid, f"Sentence {uid}.", final=True))
    viewer = broadcaster.add_viewer()
    display = drain(viewer)[-1]
    assert display["hud"]["english"] == ["Sentence 4.", "Sentence 5.", "Sentence 6."]
    broadcaster.shutdown()
