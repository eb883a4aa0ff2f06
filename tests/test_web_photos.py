"""Photos on the web page in a real browser: headless Chromium via Playwright, as in
``test_web_hud.py`` (skipped without Chromium).

The page uploads a photo (POST /look, fake OCR and translator), then must show the
English over each translated block of the photo (a filled box in the colour around it,
the English fitted inside), the untranslated text as it was, the card's pages, and the
card on the HUD canvas with the frame renderer's exact pixels.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.conftest import needs_chromium
from tests.test_server_photos import LINES, FakeOcr, PhotoBackend, photo

from hudtranslate.captions import PacingOptions, get_profile, preview_image, render_frame
from hudtranslate.config import Settings
from hudtranslate.pipeline import Engines
from hudtranslate.server import CaptionBroadcaster, HudServer, SessionManager, View
from hudtranslate.server.photos import PhotoReader
from hudtranslate.testing import FakeDecoder, FakeVad, fake_english

pytest.importorskip("playwright.async_api")

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


def pixels(data_url: str) -> np.ndarray[Any, Any]:
    data = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def dark_share(image: np.ndarray[Any, Any], box: tuple[float, ...], scale: float) -> float:
    left, top, right, bottom = (round(value * scale) for value in box)
    region = image[top:bottom, left:right]
    return float((region.max(axis=2) < 100).mean())


async def test_page_uploads_a_photo_and_draws_english_over_the_chinese(browser: Any) -> None:
    settings = Settings.load(env={})
    backend = PhotoBackend()
    manager = SessionManager(Engines(asr=FakeDecoder(["你好。"], chars_per_s=8.0),
                                     translator=backend, vad_factory=FakeVad), settings)
    narrow = ("请勿停车", (620.0, 340.0, 700.0, 580.0))  # a column: the English must wrap
    reader = PhotoReader(backend, None, settings.vision,
                         ocr_factory=lambda threads: FakeOcr(threads, [*LINES, narrow]))
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    server = HudServer(broadcaster, "127.0.0.1", 0, sessions=manager, photos=reader)
    url = await server.start()
    try:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000},
                                      device_scale_factor=1)
        await page.goto(url + "?scale=1")
        await page.wait_for_function("document.querySelector('#hud').dataset.seq")
        assert await page.is_hidden("#photo-view")
        await page.set_input_files("#photo-file", files=[{
            "name": "menu.png", "mimeType": "image/png", "buffer": photo()}])
        await page.wait_for_function("document.querySelector('#photo').dataset.scene === '1'")
        # the scene comes over the socket, the status with the upload's answer: either first
        await page.wait_for_function(
            "document.querySelector('#photo-status').textContent.includes('blocks')")
        assert "4 blocks" in await page.text_content("#photo-status")

        # the overlay: English over the two Chinese blocks, fitted inside their boxes
        layout = json.loads(await page.eval_on_selector("#photo", "c => c.dataset.layout"))
        scale = float(await page.eval_on_selector("#photo", "c => c.dataset.scale"))
        assert scale == 1.0
        assert [entry["en"] for entry in layout] == [
            fake_english("出口"), fake_english("牛肉面") + " 25元", fake_english("请勿停车")]
        assert len(layout[2]["lines"]) > 1
        for entry in layout:
            _, _, width, height = entry["box"]
            assert len(entry["lines"]) * entry["size"] * 1.2 <= height + 0.5
            assert max(entry["widths"]) <= width + 1
            assert " ".join(entry["lines"]).replace(" ", "") == entry["en"].replace(" ", "")
            assert entry["size"] >= 9 and entry["background"] == [255, 255, 255], entry
            assert entry["ink"] == [0, 0, 0]
        drawn = pixels(await page.eval_on_selector("#photo", "c => c.toDataURL('image/png')"))
        original = np.asarray(Image.open(io.BytesIO(photo())).convert("RGB"), dtype=np.int16)
        assert drawn.shape == original.shape
        boxes = dict(LINES)
        for chinese in ("出口", "牛肉面 25元"):  # the dark bar of Chinese is covered ...
            before = dark_share(original, boxes[chinese], scale)
            after = dark_share(drawn, boxes[chinese], scale)
            assert before > 0.5 and 0.01 < after < 0.35, (chinese, before, after)
        # ... the English block ("WiFi") and the rest of the photo are left as they were
        wifi = boxes["WiFi"]
        assert dark_share(drawn, wifi, scale) == pytest.approx(dark_share(original, wifi, 1))
        assert (np.abs(drawn[400:, :600] - original[400:, :600]).max()) < 12

        # the card: its pages below, and page 1 on the HUD with the renderer's pixels
        await page.wait_for_function(
            "document.querySelector('#hud').dataset.card?.startsWith('1/')")
        pages = int((await page.eval_on_selector("#hud", "c => c.dataset.card")).split("/")[1])
        assert await page.locator("#card-pages .card-page").count() == pages
        await page.wait_for_function(
            "document.querySelector('#card-pages .card-page.current')?.dataset.page === '1'")
        frame = broadcaster.current_frame(View("rokid"))
        assert frame is not None and fake_english("出口") in frame.english
        shot = Image.open(io.BytesIO(await page.locator("#hud").screenshot())).convert("RGB")
        expected = preview_image(render_frame(frame), frame.profile)
        diff = np.abs(np.asarray(shot, dtype=np.int16) - np.asarray(expected, dtype=np.int16))
        assert (diff.max(axis=2) > 8).mean() < 0.001, "the HUD differs from the card frame"
        items = await page.eval_on_selector_all("#scene-blocks li",
                                                "rows => rows.map(r => r.textContent)")
        assert items[0] == f"{fake_english('出口')} 出口" and items[1] == "WiFi"

        # a bad upload says why on the page, and the page goes on
        await page.set_input_files("#photo-file", files=[{
            "name": "notes.png", "mimeType": "image/png", "buffer": b"not a photo"}])
        await page.wait_for_function(
            "document.querySelector('#photo-status').className === 'error'")
        assert "not an image" in await page.text_content("#photo-status")
        assert await page.eval_on_selector("#photo", "c => c.dataset.scene") == "1"
    finally:
        await server.stop()
