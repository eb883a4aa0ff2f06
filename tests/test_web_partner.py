"""The partner page in a real browser (headless Chromium via Playwright, as for the HUD).

A fake session emits a conversation (the other person's Mandarin, the wearer's English
and a drafted message) into a broadcaster; the page, sized like a phone, must show the
Chinese of what the wearer said large with the English small under it, the draft as a
card whose Copy button copies the Chinese (clipboard, or a selection without one), and
the conversation so far.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from tests.conftest import needs_chromium
from tests.test_web_hud import assert_page_shows_frame, open_page

from hudtranslate.captions import PacingOptions, get_profile
from hudtranslate.config import Settings
from hudtranslate.events import Transcript, Translation
from hudtranslate.pipeline import Engines, run_pipeline
from hudtranslate.server import CaptionBroadcaster, HudServer, SessionManager, View
from hudtranslate.testing import (
    FakeBackend,
    FakeDecoder,
    FakeVad,
    chunks_of,
    fake_english,
    tone_and_silence,
)

pytest.importorskip("playwright.async_api")

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

PHONE = {"width": 390, "height": 844}
SAID_EN = "I'm stuck in traffic, I'll be there in twenty minutes."
SAID_ZH = "我堵车了，二十分钟后到。"
DRAFT_EN = "tell her I'll be ten minutes late"
DRAFT_ZH = "不好意思，我会晚到十分钟。"


def partner_said(uid: int, chinese: str, english: str, t: float) -> list[Any]:
    return [Transcript(uid, chinese, "", t, t + 1, True, t + 1),
            Translation(uid, chinese, english, "", t, t + 1, True, t + 1.5, model="m")]


def wearer_partial(uid: int, english: str, committed: str, tentative: str, t: float) -> list[Any]:
    return [Transcript(uid, english, "", t, t + 1, False, t + 1, language="en"),
            Translation(uid, english, committed, tentative, t, t + 1, False, t + 1.2,
                        source_language="en")]


def wearer_final(uid: int, english: str, chinese: str, t: float, *,
                 draft: bool = False) -> list[Any]:
    return [Transcript(uid, english, "", t, t + 1, True, t + 1, language="en", draft=draft),
            Translation(uid, english, chinese, "", t, t + 1, True, t + 1.5, model="m",
                        source_language="en", draft=draft)]


async def feed(broadcaster: CaptionBroadcaster, events: list[Any]) -> None:
    for event in events:
        broadcaster.handle(event)
        await asyncio.sleep(0.01)


async def open_partner(browser: Any, url: str, *, secure_clipboard: bool = True) -> Any:
    context = await browser.new_context(viewport=PHONE, device_scale_factor=1)
    if secure_clipboard:
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_function("document.querySelector('#status').textContent === 'live'")
    return page


async def text(page: Any, selector: str) -> str:
    return str(await page.text_content(selector) or "")


async def px(page: Any, selector: str, prop: str) -> float:
    value = await page.eval_on_selector(selector, f"e => getComputedStyle(e)[{prop!r}]")
    return float(str(value).removesuffix("px"))


async def test_partner_page_shows_the_wearers_chinese_large_and_copies_drafts(
        browser: Any, tmp_path: Any) -> None:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    server = HudServer(broadcaster, "127.0.0.1", 0)
    url = await server.start()
    try:
        page = await open_partner(browser, url + "partner")
        await feed(broadcaster, partner_said(0, "你什么时候到？", "When will you arrive?", 0.0))
        await page.wait_for_selector("#history-list li.partner")
        assert await text(page, "#history-list li.partner .zh") == "你什么时候到？"
        assert await text(page, "#history-list li.partner .en") == "When will you arrive?"
        assert await page.is_visible("#waiting")

        await feed(broadcaster, wearer_partial(1, "I'm stuck in traffic", "我堵车", "了", 2.0))
        await page.wait_for_function("document.querySelector('#said-zh').textContent === "
                                     "'我堵车了'")
        assert await text(page, "#said-zh .committed") == "我堵车"
        assert await text(page, "#said-zh .tentative") == "了"
        committed = await page.eval_on_selector("#said-zh .committed",
                                                "e => getComputedStyle(e).color")
        tentative = await page.eval_on_selector("#said-zh .tentative",
                                                "e => getComputedStyle(e).color")
        assert committed == "rgb(17, 17, 17)" and tentative != committed  # dark; dimmer
        assert await text(page, "#said-en") == "I'm stuck in traffic"
        assert not await page.is_visible("#waiting")
        big, small = await px(page, "#said-zh", "fontSize"), await px(page, "#said-en",
                                                                       "fontSize")
        assert big >= 35 and big >= 2 * small  # ~10 characters a line on a phone

        await feed(broadcaster, wearer_final(1, SAID_EN, SAID_ZH, 2.0))
        await page.wait_for_function(f"document.querySelector('#said-zh').textContent === "
                                     f"{SAID_ZH!r}")
        assert await text(page, "#said-en") == SAID_EN
        assert await text(page, "#said-zh .tentative") == ""
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing runs off the side of the phone

        await feed(broadcaster, [wearer_final(2, DRAFT_EN, DRAFT_ZH, 5.0, draft=True)[0]])
        card = page.locator("#draft-list li").first
        await card.wait_for()
        assert await card.locator(".en").text_content() == DRAFT_EN
        assert await card.locator(".copy").is_disabled()  # nothing to copy yet
        await feed(broadcaster, [wearer_final(2, DRAFT_EN, DRAFT_ZH, 5.0, draft=True)[1]])
        await page.wait_for_function("!document.querySelector('#draft-list li .copy').disabled")
        assert await card.locator(".zh").text_content() == DRAFT_ZH
        assert await text(page, "#said-zh") == SAID_ZH  # a draft is not something said
        await card.locator(".copy").click()
        await page.wait_for_function("document.querySelector('#draft-list li').dataset.copied")
        assert await page.evaluate("navigator.clipboard.readText()") == DRAFT_ZH
        assert "已复制" in (await card.locator(".copied").text_content() or "")

        await feed(broadcaster, wearer_final(3, "Sorry about that.", "真不好意思。", 8.0))
        await page.wait_for_function("document.querySelector('#said-zh').textContent === "
                                     "'真不好意思。'")
        wearer_rows = page.locator("#history-list li.wearer")
        assert await wearer_rows.first.locator(".zh").text_content() == SAID_ZH
        assert await wearer_rows.first.locator(".en").text_content() == SAID_EN
        if os.environ.get("HUDTRANSLATE_PARTNER_SHOT"):
            await page.screenshot(path=os.environ["HUDTRANSLATE_PARTNER_SHOT"], full_page=True)
        font = await page.evaluate("document.body.dataset.font")
        assert font in ("system", "bundled")
        if font == "bundled":  # this machine has no Chinese font: the HUD's own is used
            assert await page.evaluate("document.fonts.check('20px \"HUD CJK\"', '中')")

        # Opened mid-conversation, without a secure clipboard: the same state at once,
        # and Copy selects the Chinese for the phone's own copy.
        late = await open_partner(browser, url + "partner",
                                  secure_clipboard=False)
        await late.wait_for_function("document.querySelector('#said-zh').textContent === "
                                     "'真不好意思。'")
        await late.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
        await late.locator("#draft-list li .copy").click()
        await late.wait_for_function("document.querySelector('#draft-list li').dataset.copied")
        assert await late.evaluate("window.getSelection().toString()") == DRAFT_ZH
        assert await late.evaluate("document.querySelector('#draft-list li').dataset.copied"
                                   ) in ("command", "selected")
    finally:
        await server.stop()


async def test_partner_page_follows_a_wearer_session(browser: Any, tmp_path: Any) -> None:
    """``/partner?session=ID`` watches that wearer; a typed draft reaches it as a card."""
    engines = Engines(asr=FakeDecoder(["好。"]), translator=FakeBackend(), vad_factory=FakeVad)
    sessions = SessionManager(engines, Settings.load(
        env={}, overrides={"conversation.mode": "converse"}))
    server = HudServer(CaptionBroadcaster(get_profile("rokid")), "127.0.0.1", 0,
                       sessions=sessions)
    url = await server.start()
    try:
        page = await open_partner(browser, url + "partner")  # the page can open a socket
        wearer = await page.evaluate("""async (base) => {
            const socket = new WebSocket(base.replace('http', 'ws') + 'ws/audio');
            window.wearer = socket;
            return await new Promise((resolve) => {
              socket.onopen = () => socket.send(JSON.stringify({type: 'start',
                  format: 'pcm_s16le', sample_rate_hz: 16000, channels: 1}));
              socket.onmessage = (event) => resolve(JSON.parse(event.data));
            });
        }""", url)
        assert wearer["type"] == "session"
        watcher = await open_partner(browser, url + wearer["partner_path"].lstrip("/"))
        await page.evaluate("window.wearer.send(JSON.stringify({type: 'draft', text: "
                            f"{DRAFT_EN!r}}}))")
        card = watcher.locator("#draft-list li").first
        await card.wait_for()
        await watcher.wait_for_function(
            "document.querySelector('#draft-list li .en').textContent.length > 0")
        assert await card.locator(".en").text_content() == DRAFT_EN
        await watcher.wait_for_function("!document.querySelector('#draft-list li .copy')"
                                        ".disabled")
        assert await card.locator(".zh").text_content() == fake_english(DRAFT_EN)
        await page.evaluate("window.wearer.send(JSON.stringify({type: 'end'}))")
        await watcher.wait_for_function(
            "document.querySelector('#status').textContent.startsWith('结束')")
    finally:
        await server.stop()


async def test_a_draft_command_said_alone_is_never_shown_as_said(browser: Any) -> None:
    """ "Draft." and a pause (the next English is the message): the page had shown "Draft."
    large as something the wearer said to the other person until the message came."""
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    server = HudServer(broadcaster, "127.0.0.1", 0)
    url = await server.start()
    try:
        page = await open_partner(browser, url + "partner")
        await page.evaluate("""() => {  // every English line the page ever shows as said
            window.saidEnglish = [];
            new MutationObserver(() => window.saidEnglish.push(
                document.querySelector('#said-en').textContent)).observe(
                document.querySelector('#said-en'), {childList: true, characterData: true,
                                                     subtree: true});
        }""")
        audio = tone_and_silence([(0.5, False), (1.0, True), (1.0, False), (2.0, True),
                                  (1.0, False), (3.0, True), (1.0, False)])
        decoder = FakeDecoder(["Fine.", "Draft.", "Tell her I'll be ten minutes late."],
                              line_languages=("en", "en", "en"), chars_per_s=12.0)
        engines = Engines(asr=decoder, translator=FakeBackend(), vad_factory=FakeVad)
        settings = Settings.load(env={}, overrides={"conversation.mode": "converse"})
        result = await run_pipeline(chunks_of(audio), engines, settings, [broadcaster])
        assert [(t.source, t.draft) for t in result.translations] == [
            ("Fine.", False), ("Tell her I'll be ten minutes late.", True)]
        await page.wait_for_function(
            "document.querySelector('#status').textContent.startsWith('结束')")
        card = page.locator("#draft-list li").first
        assert await card.locator(".en").text_content() == "Tell her I'll be ten minutes late."
        said = await page.evaluate("window.saidEnglish")
        assert "Fine." in said and not any("Draft" in line for line in said)
        assert await text(page, "#said-en") == "Fine."  # the wearer's last said line stays
        late = await open_partner(browser, url + "partner")  # opened after: the same
        await late.wait_for_function("document.querySelector('#draft-list li .en')")
        assert await text(late, "#said-en") == "Fine."
    finally:
        await server.stop()


async def test_the_wearers_hud_page_keeps_to_english_in_a_conversation(browser: Any) -> None:
    """The same conversation on the HUD page: the other person's English, one dim echo
    row of the wearer's words, the frame's exact pixels, and no Chinese of the wearer's."""
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    server = HudServer(broadcaster, "127.0.0.1", 0)
    url = await server.start()
    try:
        page = await open_page(browser, url)
        await feed(broadcaster, [*partner_said(0, "你什么时候到？", "When will you arrive?", 0.0),
                                 *wearer_final(1, SAID_EN, SAID_ZH, 2.0)])
        await page.wait_for_function("document.querySelector('#hud-english').textContent"
                                     ".includes('›')")
        await assert_page_shows_frame(page, broadcaster, View("rokid"))
        rows = await page.eval_on_selector_all("#hud-english div",
                                               "rows => rows.map(r => r.textContent)")
        assert rows[0] == "When will you arrive?" and rows[-1].startswith("› I'm stuck")
        assert await page.evaluate("window.hudFinals") == ["When will you arrive?"]
        assert "堵车" not in await text(page, "body")
    finally:
        await server.stop()
