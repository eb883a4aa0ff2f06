"""The web HUD in a real browser: headless Chromium (Debian ``chromium``) via Playwright.

The page must follow the captions of a live session, and what it draws must be the frame
renderer's pixels for the same display state. Playwright cannot fetch its own browser
here, so it drives /usr/bin/chromium (override with HUDTRANSLATE_CHROMIUM).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from PIL import Image
from tests.conftest import needs_chromium, shared_data_dir

from hudtranslate.asr.whisper import Decoded
from hudtranslate.captions import PacingOptions, get_profile, preview_image, render_frame
from hudtranslate.config import DisplayOptions, Settings
from hudtranslate.events import StreamEnd, Translation
from hudtranslate.pipeline import Engines
from hudtranslate.server import CaptionBroadcaster, HudServer, View, serve
from hudtranslate.testing import FakeVad, scripted_captions

pytest.importorskip("playwright.async_api")
SHARED_DATA = shared_data_dir()
TALKS = SHARED_DATA / "audio" / "talks.jsonl"

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


def talk() -> dict[str, Any]:
    if not TALKS.exists():
        pytest.skip(f"shared talks not found at {TALKS}")
    return dict(json.loads(TALKS.read_text(encoding="utf-8").splitlines()[0]))


async def open_page(browser: Any, url: str) -> Any:
    page = await browser.new_page(viewport={"width": 1400, "height": 1000},
                                  device_scale_factor=1)
    await page.goto(url + "?scale=1")
    await page.wait_for_function("document.querySelector('#hud').dataset.seq")
    return page


async def settle(page: Any, broadcaster: CaptionBroadcaster, view: View) -> None:
    """Wait until the display stops moving and the page has drawn its newest frame."""
    why = ""
    for _ in range(200):
        frame = broadcaster.current_frame(view)
        seq = await page.eval_on_selector("#hud", "c => c.dataset.seq")
        await asyncio.sleep(0.15)
        again = await page.eval_on_selector("#hud", "c => c.dataset.seq")
        if frame is None:
            why = "the broadcaster has no frame for the view"
        elif frame.scrolling:
            why = "the frame is scrolling"
        elif seq != again:
            why = f"the page drew frame {seq}, then {again}"
        elif broadcaster.current_frame(view) is not frame:
            why = "the broadcaster's frame changed"
        else:
            return
    raise AssertionError(f"the display never settled: {why} (page seq {again}, "
                         f"{broadcaster.viewer_count} viewers)")


async def assert_page_shows_frame(page: Any, broadcaster: CaptionBroadcaster,
                                  view: View) -> None:
    await page.wait_for_function(f"document.querySelector('#hud').dataset.profile === "
                                 f"{json.dumps(view.profile)}")
    await settle(page, broadcaster, view)
    frame = broadcaster.current_frame(view)
    assert frame is not None
    shot = Image.open(io.BytesIO(await page.locator("#hud").screenshot())).convert("RGB")
    expected = preview_image(render_frame(frame), frame.profile)
    assert shot.size == expected.size == (frame.profile.width_px, frame.profile.height_px)
    diff = np.abs(np.asarray(shot, dtype=np.int16) - np.asarray(expected, dtype=np.int16))
    assert (diff.max(axis=2) > 8).mean() < 0.001, f"{view}: page differs from the frame"
    english = await page.eval_on_selector_all("#hud-english div", "rows => rows.map(r => "
                                              "r.textContent)")
    assert english == list(frame.english)
    assert await page.text_content("#hud-source") == frame.source


async def test_page_draws_each_profile_exactly_and_toggles(browser: Any) -> None:
    segments = [(s["start_s"], s["end_s"], s["zh"], s["en_refs"][0])
                for s in talk()["segments"][:4]]
    broadcaster = CaptionBroadcaster(get_profile("rokid"))
    server = HudServer(broadcaster, "127.0.0.1", 0)
    url = await server.start()
    try:
        page = await open_page(browser, url)
        for event in scripted_captions(segments, step_s=1.0):
            broadcaster.handle(event)
            await asyncio.sleep(0.005)
        broadcaster.handle(StreamEnd(segments[-1][1]))
        last_english = segments[-1][3]
        await page.wait_for_function(
            "english => document.querySelector('#hud-english').textContent.includes("
            "english.split(' ')[0])", arg=last_english)
        await assert_page_shows_frame(page, broadcaster, View("rokid"))
        finals = await page.evaluate("window.hudFinals")
        assert finals == [english for *_, english in segments]
        for profile in ("even-g1", "meta-display"):
            await page.select_option("#profile", profile)
            await assert_page_shows_frame(page, broadcaster, View(profile))
        await page.uncheck("#bilingual")
        await assert_page_shows_frame(page, broadcaster, View("meta-display", False))
        assert await page.text_content("#hud-source") == ""
    finally:
        await server.stop()


class SequentialDecoder:
    """Fake ASR for real speech: each new utterance (a decode of less audio than the one
    before) takes the next scripted line, revealed at ``chars_per_s``."""

    def __init__(self, script: Sequence[str], chars_per_s: float) -> None:
        self.script, self.chars_per_s = list(script), chars_per_s
        self.line, self.last_s = 0, 0.0

    def decode(self, audio: Any, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0,
               task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        duration_s = len(audio) / 16_000
        if duration_s < self.last_s:
            self.line = min(self.line + 1, len(self.script) - 1)
        self.last_s = duration_s
        text = self.script[self.line][: int(duration_s * self.chars_per_s)]
        return Decoded(text=text, no_speech_prob=0.0, avg_logprob=-0.1)


class ReferenceTranslator:
    """Fake MT that answers with the talk's reference English, in proportion to the
    Chinese heard so far (so partial captions grow like real ones)."""

    name = "reference"

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Any,
                  on_text: Any = None, prompts: Any = None) -> str:
        chinese, english = max(self.pairs, key=lambda pair: _common_prefix(pair[0], source))
        words = english.split()
        share = min(1.0, len(source) / max(1, len(chinese)))
        answer = " ".join(words[: max(1, round(len(words) * share))])
        return answer if answer.startswith(forced_prefix) else f"{forced_prefix} {answer}"


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


async def test_served_talk_at_real_time_reaches_the_page(browser: Any,
                                                         tmp_path: Path) -> None:
    """``serve`` plays the first seconds of a shared talk through the pipeline (fake
    models) at real-time pace; the page shows every caption and the frame's pixels."""
    info = talk()
    cut_s = 9.0
    spoken = [s for s in info["segments"] if s["end_s"] < cut_s - 0.5]
    samples, rate = soundfile.read(SHARED_DATA / "audio" / info["wav"], dtype="float32")
    clip = tmp_path / "talk-start.wav"
    soundfile.write(clip, samples[: int(cut_s * rate)], rate)
    engines = Engines(
        asr=SequentialDecoder([s["zh"] for s in spoken], chars_per_s=8.0),
        translator=ReferenceTranslator([(s["zh"], s["en_refs"][0]) for s in spoken]),
        vad_factory=FakeVad,
    )
    settings = Settings(display=DisplayOptions(clear_after_s=0.0))
    broadcaster = CaptionBroadcaster.from_settings(settings)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    session = asyncio.create_task(serve(settings, clip, port=0, engines=engines,
                                        broadcaster=broadcaster, on_ready=ready.set_result))
    try:
        page = await open_page(browser, await asyncio.wait_for(ready, 10))
        await page.wait_for_function(
            "document.querySelector('#status').textContent.startsWith('stream ended')",
            timeout=40_000)
        finals = [t.text for t in broadcaster.translations() if t.final]
        assert len(finals) >= len(spoken) - 1
        assert await page.evaluate("window.hudFinals") == finals
        assert finals[0].startswith(spoken[0]["en_refs"][0].split()[0])
        await assert_page_shows_frame(page, broadcaster, broadcaster.default_view)
    finally:
        session.cancel()
        with pytest.raises(asyncio.CancelledError):
            await session


async def test_page_marks_a_busy_server_over_the_frame(browser: Any) -> None:
    """While captions carry a load level above 0, the page draws a small marker in the
    display's top right corner (not part of the device's frame) and says why."""
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    server = HudServer(broadcaster, "127.0.0.1", 0)
    url = await server.start()
    try:
        page = await open_page(browser, url)
        busy = Translation(1, "你好", "Hello", "", 0.0, 1.0, True, 1.0, model="m",
                           load_level=2)
        broadcaster.handle(busy)
        await page.wait_for_function("document.querySelector('#hud').dataset.load === '2'")
        assert "finals only" in (await page.text_content("#load-status") or "")
        frame = broadcaster.current_frame(View("rokid"))
        assert frame is not None
        shot = np.asarray(Image.open(io.BytesIO(await page.locator("#hud").screenshot()))
                          .convert("RGB"), dtype=np.int16)
        expected = np.asarray(preview_image(render_frame(frame), frame.profile),
                              dtype=np.int16)
        corner = (slice(0, 40), slice(frame.profile.width_px - 40, None))
        assert expected[corner].max() == 0 and shot[corner].max() > 100  # the marker
        rest = (slice(60, None), slice(None))
        assert (np.abs(shot[rest] - expected[rest]).max(axis=2) > 8).mean() < 0.001
        broadcaster.handle(dataclasses.replace(busy, load_level=0))
        await page.wait_for_function("document.querySelector('#hud').dataset.load === '0'")
        assert await page.text_content("#load-status") == ""
        shot = np.asarray(Image.open(io.BytesIO(await page.locator("#hud").screenshot()))
                          .convert("RGB"), dtype=np.int16)
        assert shot[corner].max() < 20  # gone with the next display
    finally:
        await server.stop()


async def status_after(page: Any, words: str, quiet_s: float = 2.5) -> str:
    """The page's status once it says ``words`` and then ``quiet_s`` later (the time of a
    few retries, 0.5 s apart at first)."""
    await page.wait_for_function(f"document.querySelector('#status').textContent"
                                 f".includes({json.dumps(words)})", timeout=15000)
    await asyncio.sleep(quiet_s)
    return str(await page.text_content("#status"))


@pytest.mark.parametrize(("route", "ended_words"), [("/", "stream ended ("),
                                                    ("/partner", "结束 ended")])
async def test_page_says_a_stream_ended_or_no_such_session_and_stops_retrying(
        browser: Any, tmp_path: Path, route: str, ended_words: str) -> None:
    """A wearer's session sends `end` and closes its viewers (1000); a session that
    ended or never began is refused (404). Retrying either cannot help: the page says so
    and stops (it had said "disconnected — retrying" every 5 s forever)."""
    from tests.test_server_sessions import four_sentences, make_client, started_socket, until

    from hudtranslate.audio import float32_to_pcm16le

    client, _ = await make_client(tmp_path)
    try:
        wearer, hello = await started_socket(client)
        page = await browser.new_page()
        tried: list[str] = []
        page.on("websocket", lambda socket: tried.append(socket.url))
        base = str(client.make_url(route))
        await page.goto(f"{base}?session={hello['session_id']}&scale=1")
        await page.wait_for_function("document.querySelector('#status').textContent "
                                     "=== 'live'")
        speech = four_sentences()[: int(3.2 * 16000)]
        for start in range(0, len(speech), 3200):
            await wearer.send_bytes(float32_to_pcm16le(speech[start : start + 3200]))
        await wearer.send_json({"type": "end"})
        await until("end", wearer)
        assert (await status_after(page, ended_words.split(" (")[0])).startswith(ended_words)
        assert len(tried) == 1, tried
        await wearer.close()

        unknown = await browser.new_page()
        asked: list[str] = []
        unknown.on("websocket", lambda socket: asked.append(socket.url))
        await unknown.goto(f"{base}?session={hello['session_id']}&scale=1")  # ended
        assert "no such session" in await status_after(unknown, "no such session")
        assert len(asked) == 1, asked
        await unknown.goto(f"{base}?session=nope&scale=1")
        assert "no such session: nope" in await status_after(unknown, "no such session")
        assert len(asked) == 2, asked
    finally:
        await client.close()


async def test_page_retries_after_a_drop_until_the_server_is_back(browser: Any) -> None:
    """The server going away (no `end`) is not the end: the page retries and comes back."""
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    server = HudServer(broadcaster, "127.0.0.1", 0)
    url = await server.start()
    again = None
    try:
        page = await open_page(browser, url)
        await server.stop()
        assert "retrying" in await status_after(page, "disconnected — retrying", 1.0)
        again = HudServer(CaptionBroadcaster(get_profile("rokid")), "127.0.0.1", server.port)
        await again.start()
        await page.wait_for_function("document.querySelector('#status').textContent "
                                     "=== 'live'", timeout=15000)
    finally:
        await server.stop()
        if again is not None:
            await again.stop()
