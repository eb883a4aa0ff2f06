"""Graceful overload, end to end with slow fakes: several wearers whose fake recogniser and
translator cannot keep up. Optional work must be shed, every final must still arrive in
order, the shedding must show in /metrics and on the HUD; a quiet server sheds nothing."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hudtranslate.asr.whisper import Decoded
from hudtranslate.captions import PacingOptions, get_profile
from hudtranslate.config import Settings
from hudtranslate.events import AudioArray, Translation
from hudtranslate.pipeline import Engines, run_pipeline
from hudtranslate.server import CaptionBroadcaster, create_app
from hudtranslate.server.client import StreamReport, stream_audio
from hudtranslate.server.limits import SessionLimits
from hudtranslate.server.manager import SessionManager
from hudtranslate.sharing import SharedLoad
from hudtranslate.testing import (
    FakeBackend,
    FakeDecoder,
    FakeVad,
    chunks_of,
    fake_english,
    tone_and_silence,
)
from hudtranslate.translate.prompts import SPEECH, PromptSet

pytestmark = pytest.mark.timeout(120)

SCRIPT = ["我们走吧。", "今天下雨了吗？", "他很快便交上了朋友。", "这双鞋打完折很便宜。"]
LIMITS = SessionLimits(max_sessions=8, max_audio_rate=100.0, burst_audio_s=60.0,
                       max_frames_per_s=5000.0)
PARTIALS = {"asr.partial_interval_ms": 1000}
"""The scripted utterances are short: a partial re-decode each second, so there is partial
work to show and to shed."""
OVERLOAD = {**PARTIALS, "overload.partial_translations_lag_s": 0.3,
            "overload.partial_decodes_lag_s": 0.6,
            "overload.final_beam_lag_s": 0.9, "overload.raise_hold_s": 0.1,
            "overload.recover_hold_s": 0.5, "overload.check_interval_ms": 20}


@dataclass
class SlowDecoder(FakeDecoder):
    """``FakeDecoder`` taking ``delay_s`` a decode, one decode at a time (as Whisper's
    lock makes them), recording each decode's beam size."""

    delay_s: float = 0.0
    beams: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0, task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        with self._lock:
            time.sleep(self.delay_s)
            self.beams.append(beam_size)
            return super().decode(audio, prefix=prefix, beam_size=beam_size,
                                  max_new_tokens=max_new_tokens, padding_s=padding_s,
                                  task=task, temperature=temperature)


@dataclass
class SlowBackend(FakeBackend):
    """``FakeBackend`` whose generations hold one lock (as llama.cpp's engine lock does)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        with self._lock:
            if cancelled():
                return None
            return super().translate(source, context, forced_prefix=forced_prefix,
                                     max_new_tokens=max_new_tokens, cancelled=cancelled,
                                     on_text=on_text, prompts=prompts)


def four_sentences() -> AudioArray:
    return tone_and_silence([(0.3, False), (2.0, True), (0.8, False), (2.0, True), (0.8, False),
                             (2.0, True), (0.8, False), (2.0, True), (0.8, False)])


async def served(tmp_path: Path, engines: Engines, settings: Settings
                 ) -> tuple[TestClient[Any, Any], SessionManager]:
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    manager = SessionManager(engines, settings, limits=LIMITS)
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(broadcaster,
                                                                    sessions=manager)))
    await client.start_server()
    return client, manager


def ws_url(client: TestClient[Any, Any]) -> str:
    return str(client.make_url("/ws/audio")).replace("http", "ws", 1)


@dataclass
class Wearer:
    """What one simulated wearer and a HUD page watching its session saw."""

    captions: list[dict[str, Any]] = field(default_factory=list)
    display_loads: list[int] = field(default_factory=list)
    watcher: asyncio.Task[None] | None = None


async def watch_hud(client: TestClient[Any, Any], session_id: str, wearer: Wearer) -> None:
    """A HUD page of the session: collect the ``load`` of its display messages."""
    socket = await client.ws_connect(f"/ws/captions?session={session_id}")
    try:
        async for message in socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if data["type"] == "display":
                wearer.display_loads.append(int(data["load"]))
    finally:
        await socket.close()


async def wear(client: TestClient[Any, Any], audio: AudioArray, speed: float,
               wearer: Wearer, *, watch: bool = False) -> StreamReport:
    def on_message(data: dict[str, Any]) -> None:
        if data["type"] == "caption":
            wearer.captions.append(data)
        elif data["type"] == "session" and watch:
            wearer.watcher = asyncio.create_task(watch_hud(client, data["session_id"], wearer))

    report = await stream_audio(ws_url(client), audio, speed=speed, on_message=on_message,
                                tail_timeout_s=60)
    if wearer.watcher is not None:
        await asyncio.wait({wearer.watcher}, timeout=5)
    return report


async def metric(client: TestClient[Any, Any], line_start: str) -> float:
    text = await (await client.get("/metrics")).text()
    [line] = [line for line in text.splitlines() if line.startswith(line_start + " ")]
    return float(line.split()[-1])


async def test_three_wearers_on_slow_models_shed_partial_work_and_keep_every_final(
        tmp_path: Path) -> None:
    # Whisper 0.12 s a decode and llama 0.35 s a generation, for three wearers at twice
    # real time: the translator alone needs about twice the time there is.
    engines = Engines(asr=SlowDecoder(SCRIPT, chars_per_s=8.0, delay_s=0.12),
                      translator=SlowBackend(delay_s=0.35), vad_factory=FakeVad)
    settings = Settings.load(env={}, overrides=OVERLOAD)
    client, manager = await served(tmp_path, engines, settings)
    try:
        audio = four_sentences()
        wearers = [Wearer() for _ in range(3)]
        reports = await asyncio.gather(*(
            wear(client, audio, 2.0, wearer, watch=index == 0)
            for index, wearer in enumerate(wearers)))
        for report, wearer in zip(reports, wearers, strict=True):
            assert report.ended and not report.errors
            # every sentence, in order, none lost or doubled, with its whole English
            assert [final.source for final in report.finals] == SCRIPT
            assert [final.english for final in report.finals] == [fake_english(s)
                                                                   for s in SCRIPT]
            assert all(caption["load"] in (0, 1, 2, 3) for caption in wearer.captions)
        loads = [caption["load"] for wearer in wearers for caption in wearer.captions]
        assert max(loads) >= 2, loads  # the server fell behind and said so on the sockets
        assert max(report.max_load for report in reports) == max(loads)
        watched = max(caption["load"] for caption in wearers[0].captions)
        assert watched >= 1 and max(wearers[0].display_loads) == watched  # and on its HUD
        shed = {kind: await metric(client, f'hudtranslate_shed_total{{kind="{kind}"}}')
                for kind in ("partial_translation", "prepare", "partial_decode", "beam")}
        # Partial work was shed. Which kind depends on timing: once the lag passes the
        # partial-decode threshold no partials are made, so none are left to translate
        # (each level's kinds are checked one by one in test_overload and test_sharing).
        assert shed["partial_translation"] + shed["partial_decode"] > 0, shed
        assert {kind: float(count) for kind, count in manager.load.shed_counts.items()
                if count} == {kind: count for kind, count in shed.items() if count}
        assert await metric(client, "hudtranslate_load_level") == 0  # all gone: back to 0
        assert manager.load.sessions == 0
    finally:
        await client.close()


async def test_one_wearer_on_a_quiet_server_sheds_nothing(tmp_path: Path) -> None:
    decoder = SlowDecoder(SCRIPT, chars_per_s=8.0)
    engines = Engines(asr=decoder, translator=SlowBackend(delay_s=0.02), vad_factory=FakeVad)
    client, manager = await served(tmp_path, engines, Settings.load(env={}, overrides=PARTIALS))
    try:
        wearer = Wearer()
        report = await wear(client, four_sentences(), 2.0, wearer, watch=True)
        assert report.ended and not report.errors
        assert [final.source for final in report.finals] == SCRIPT
        assert {caption["load"] for caption in wearer.captions} == {0} and report.max_load == 0
        assert set(wearer.display_loads) == {0}
        assert any(caption["tentative"] and not caption["final"]
                   for caption in wearer.captions)  # partial English was shown
        for kind in ("partial_translation", "prepare", "partial_decode", "beam"):
            assert await metric(client, f'hudtranslate_shed_total{{kind="{kind}"}}') == 0
        assert sum(manager.load.shed_counts.values()) == 0
        assert 3 in decoder.beams  # finals decoded with their full beam
        assert await metric(client, "hudtranslate_load_level") == 0
    finally:
        await client.close()


async def paced(audio: AudioArray, chunk_s: float = 0.1,
                speed: float = 4.0) -> AsyncIterator[Any]:
    async for chunk in chunks_of(audio, int(chunk_s * 1000)):
        await asyncio.sleep(chunk_s / speed)
        yield chunk


@dataclass
class TranslationSink:
    events: list[Translation] = field(default_factory=list)

    def handle(self, event: object) -> None:
        if isinstance(event, Translation):
            self.events.append(event)

    def close(self) -> None:
        """Nothing to release."""


async def test_a_lone_stream_gets_the_same_captions_with_the_load_as_without() -> None:
    """The shared load changes nothing for a single stream on a quiet machine."""
    finals: dict[str, list[tuple[str, str]]] = {}
    partial_english: dict[str, bool] = {}
    for name in ("without", "with"):
        engines = Engines(asr=SlowDecoder(SCRIPT, chars_per_s=8.0),
                          translator=SlowBackend(delay_s=0.01), vad_factory=FakeVad)
        settings = Settings.load(env={}, overrides=PARTIALS)
        load = SharedLoad(settings.overload) if name == "with" else None
        sink = TranslationSink()
        result = await run_pipeline(paced(four_sentences()), engines, settings,
                                    [sink], realtime=True, load=load)
        events = sink.events
        finals[name] = [(t.source, t.committed) for t in result.translations]
        partial_english[name] = any(t.tentative for t in events if not t.final)
        assert all(t.load_level == 0 for t in events)
        if load is not None:
            assert sum(load.shed_counts.values()) == 0 and load.sessions == 0
    assert finals["with"] == finals["without"]
    assert [source for source, _ in finals["with"]] == SCRIPT
    assert partial_english["with"] and partial_english["without"]
