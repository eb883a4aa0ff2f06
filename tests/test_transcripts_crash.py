"""A server killed with SIGKILL mid-talk loses at most the sentence in progress.

The server runs in a subprocess (real server, real session store, fake models), a wearer
streams four sentences, and the server is killed the moment the third final caption
arrives. After that, and after a restart, ``hudtranslate transcripts list | export``
show every sentence the wearer saw. Loopback only; each step has a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hudtranslate.cli import main
from hudtranslate.server.client import StreamError, stream_audio
from hudtranslate.testing import tone_and_silence
from hudtranslate.transcripts.liveness import INTERRUPTED, LIVE
from hudtranslate.transcripts.sessions import SessionStore

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[1]
SCRIPT = ["我们走吧。", "今天下雨了吗？", "他很快便交上了朋友。", "这双鞋打完折很便宜。"]


def run_fake_server(ready_file: str, data_dir: str) -> None:
    """The subprocess: ``serve`` for wearers only, fake models, the real store."""
    from hudtranslate.config import Settings
    from hudtranslate.pipeline import Engines
    from hudtranslate.server import serve
    from hudtranslate.server.limits import SessionLimits
    from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad
    from hudtranslate.transcripts.sessions import SessionStore

    engines = Engines(asr=FakeDecoder(SCRIPT, chars_per_s=8.0),
                      translator=FakeBackend(delay_s=0.05), vad_factory=FakeVad)
    limits = SessionLimits(max_audio_rate=100.0, burst_audio_s=60.0, max_frames_per_s=5000.0)

    def ready(url: str) -> None:
        Path(ready_file + ".tmp").write_text(url)
        os.replace(ready_file + ".tmp", ready_file)

    asyncio.run(serve(Settings.load(env={}), None, port=0, engines=engines, limits=limits,
                      store=SessionStore(Path(data_dir)), on_ready=ready))


class ServerProcess:
    def __init__(self, tmp_path: Path, data_dir: Path, name: str) -> None:
        ready = tmp_path / f"{name}.url"
        self.log = (tmp_path / f"{name}.log").open("wb")
        code = ("import sys; from tests.test_transcripts_crash import run_fake_server; "
                "run_fake_server(sys.argv[1], sys.argv[2])")
        self.process = subprocess.Popen([sys.executable, "-c", code, str(ready), str(data_dir)],
                                        cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"server did not start: {(tmp_path / f'{name}.log').read_text()}")
            time.sleep(0.05)
        self.url = ready.read_text().replace("http", "ws", 1) + "ws/audio"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def four_sentences() -> Any:
    return tone_and_silence([(0.3, False), (2.0, True), (0.8, False), (2.0, True), (0.8, False),
                             (2.0, True), (0.8, False), (2.0, True), (0.8, False)])


async def test_sigkill_loses_at_most_the_sentence_in_progress(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "sessions"
    server = ServerProcess(tmp_path, data_dir, "first")
    seen: list[dict[str, Any]] = []
    session_ids: list[str] = []
    while_served: list[str] = []

    def on_message(data: dict[str, Any]) -> None:
        if data["type"] == "session":
            session_ids.append(data["session_id"])
        if data["type"] == "caption" and data["final"]:
            seen.append(data)
            if len(seen) == 3:
                while_served.extend(info.outcome for info in SessionStore(data_dir).sessions())
                os.kill(server.process.pid, signal.SIGKILL)

    try:
        report = await stream_audio(server.url, four_sentences(), speed=3.0,
                                    on_message=on_message, tail_timeout_s=15)
        assert not report.ended
    except StreamError:
        pass  # the server vanished under the client: also fine
    finally:
        server.kill()
    assert server.process.returncode == -signal.SIGKILL
    assert len(seen) == 3 and len(session_ids) == 1
    [session_id] = session_ids
    assert while_served == [LIVE]

    listing = cli(["transcripts", "list", "--data-dir", str(data_dir)], capsys)
    row = next(line for line in listing.splitlines() if session_id in line)
    assert INTERRUPTED in row
    exported = cli(["transcripts", "export", session_id[:17], "--format", "jsonl",
                    "--data-dir", str(data_dir)], capsys)
    records = [json.loads(line) for line in exported.splitlines()]
    assert len(records) in (3, 4)  # everything shown; the 4th only if it was committed
    assert [r["en"] for r in records[:3]] == [s["committed"] for s in seen]
    assert [r["zh"] for r in records[:3]] == SCRIPT[:3]
    srt = cli(["transcripts", "export", session_id, "--data-dir", str(data_dir)], capsys)
    assert srt.startswith("1\n00:00:00,") and srt.count(" --> ") == len(records)
    out = tmp_path / "talk.vtt"
    cli(["transcripts", "export", session_id, "--format", "vtt", "--out", str(out),
         "--data-dir", str(data_dir)], capsys)
    assert out.read_text(encoding="utf-8").startswith("WEBVTT\n\n1\n")

    restarted = ServerProcess(tmp_path, data_dir, "second")
    try:
        again = await stream_audio(restarted.url, four_sentences()[: 3 * 16000], speed=3.0,
                                   tail_timeout_s=15)
    finally:
        restarted.kill()
    assert again.ended and len(again.finals) == 1
    listing = cli(["transcripts", "list", "--data-dir", str(data_dir)], capsys)
    assert session_id in listing and again.session_id in listing
    row = next(line for line in listing.splitlines() if again.session_id in line)
    assert "completed" in row
    assert INTERRUPTED in next(line for line in listing.splitlines() if session_id in line)
