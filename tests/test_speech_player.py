"""Speech received from a server, played here (``stream --speak``), with fakes: the player's
order and interrupts, and the client's framing of ``speech`` headers and PCM frames."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.test_server_sessions import four_sentences, ws_url
from tests.test_server_speech import ToneVoice, client_with

from hudtranslate.audio import float32_to_pcm16le
from hudtranslate.events import AudioArray
from hudtranslate.server.client import stream_audio
from hudtranslate.speech_out.player import ReceivedSpeech
from hudtranslate.speech_out.queue import SpeechItem

pytestmark = pytest.mark.timeout(60)


class RecordingOutput:
    """Plays in 10 ms steps of real time; records (utterance id, samples, to the end)."""

    def __init__(self) -> None:
        self.played: list[tuple[int, int, bool]] = []
        self.started = threading.Event()
        self.closed = False

    def play(self, item: SpeechItem, samples: AudioArray, sample_rate_hz: int,
             interrupted: Callable[[], bool]) -> bool:
        self.started.set()
        for _ in range(round(len(samples) / sample_rate_hz / 0.01)):
            if interrupted():
                self.played.append((item.utterance_id, len(samples), False))
                return False
            time.sleep(0.01)
        self.played.append((item.utterance_id, len(samples), True))
        return True

    def close(self) -> None:
        self.closed = True


def pcm(seconds: float) -> bytes:
    return float32_to_pcm16le(np.zeros(round(seconds * 16_000), dtype=np.float32))


def test_sentences_play_in_order_and_close_lets_them_finish() -> None:
    output = RecordingOutput()
    player = ReceivedSpeech(output)
    for utterance in range(3):
        player.add({"utterance_id": utterance, "text": "Hi.", "interrupt": False}, pcm(0.05))
    player.close()
    assert output.played == [(0, 800, True), (1, 800, True), (2, 800, True)]
    assert output.closed


def test_an_interrupting_sentence_cuts_the_one_playing_and_drops_the_waiting() -> None:
    output = RecordingOutput()
    player = ReceivedSpeech(output)
    player.add({"utterance_id": 1, "text": "A long one."}, pcm(2.0))
    player.add({"utterance_id": 2, "text": "Waiting."}, pcm(0.05))
    assert output.started.wait(5)
    player.add({"utterance_id": 3, "text": "Now.", "interrupt": True}, pcm(0.05))
    player.close()
    assert [(u, done) for u, _, done in output.played] == [(1, False), (3, True)]


def test_close_does_not_wait_past_its_bound() -> None:
    output = RecordingOutput()
    player = ReceivedSpeech(output, drain_s=0.2)
    player.add({"utterance_id": 1, "text": "Very long."}, pcm(30.0))
    started = time.monotonic()
    player.close()
    assert time.monotonic() - started < 3.0 and output.played == [(1, 480_000, False)]


async def test_stream_asks_for_speech_and_hands_each_frame_to_the_player(
        tmp_path: Path) -> None:
    voice = ToneVoice()
    client = await client_with(tmp_path, {"en": voice})
    received: list[tuple[str, int, int]] = []
    try:
        report = await stream_audio(
            ws_url(client), four_sentences(), speed=8.0, tail_timeout_s=20, speak=True,
            on_speech=lambda header, frame: received.append(
                (header["text"], header["samples"], len(frame))))
    finally:
        await client.close()
    assert report.ended and not report.errors
    assert received and len(received) == len(voice.said)
    assert all(frame == 2 * samples for _, samples, frame in received)


async def test_a_server_without_a_voice_warns_and_the_captions_go_on(tmp_path: Path) -> None:
    client = await client_with(tmp_path, {})
    messages: list[dict[str, object]] = []
    try:
        report = await stream_audio(ws_url(client), four_sentences(), speed=8.0,
                                    tail_timeout_s=20, speak=True,
                                    on_message=messages.append)
    finally:
        await client.close()
    assert any(m.get("code") == "speech_unavailable" for m in messages)
    assert report.ended and not report.errors and len(report.finals) == 4
