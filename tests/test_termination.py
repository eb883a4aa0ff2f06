"""SIGTERM (timeout, systemd, docker stop) ends a session like Ctrl-C: subtitles written."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path

import pytest
import soundfile

from hudtranslate.termination import EXIT_TERMINATED, run_until_terminated

pytestmark = pytest.mark.timeout(60)


def test_sigterm_cancels_the_main_task_after_its_cleanup() -> None:
    cleaned: list[str] = []

    async def session() -> int:
        try:
            asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
            await asyncio.sleep(10)
            return 0
        finally:
            cleaned.append("subtitles written")

    assert asyncio.run(run_until_terminated(session())) is None
    assert cleaned == ["subtitles written"]
    assert EXIT_TERMINATED == 143


def test_a_result_passes_through_and_other_cancellations_propagate() -> None:
    async def done() -> int:
        return 7

    assert asyncio.run(run_until_terminated(done())) == 7

    async def cancelled() -> int:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_until_terminated(cancelled()))


def test_file_stopped_by_sigterm_keeps_its_transcript_and_subtitles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hudtranslate.cli import main
    from hudtranslate.pipeline import Engines
    from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad
    from hudtranslate.testing import tone_and_silence as tones

    wav = tmp_path / "talk.wav"
    soundfile.write(wav, tones([(0.3, False), (1.0, True), (0.8, False), (6.0, True),
                                (0.5, False)]), 16_000)
    monkeypatch.setattr("hudtranslate.runner.load_engines", lambda settings: Engines(
        asr=FakeDecoder(["我们走吧。", "今天下雨了吗？"], chars_per_s=8.0),
        translator=FakeBackend(), vad_factory=FakeVad))
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        status = main(["file", str(wav), "--realtime", "--out", str(tmp_path / "out")])
    finally:
        timer.cancel()
    assert status == EXIT_TERMINATED
    transcript = (tmp_path / "out" / "talk.jsonl").read_text()
    assert transcript.count("\n") == 1  # the first sentence, before the signal
    assert (tmp_path / "out" / "talk.srt").read_text().startswith("1\n")
    assert (tmp_path / "out" / "talk.vtt").read_text().startswith("WEBVTT")
