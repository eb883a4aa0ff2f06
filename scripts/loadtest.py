#!/usr/bin/env python3
"""Load test: N simulated wearers stream a talk (or several) at real-time pace into one server.

Each round starts N wearers (``hudtranslate.server.client.stream_audio``, the same client
as ``hudtranslate stream``), a little apart, all playing the first ``--seconds`` of the
talk as live glasses would, and reports per session: sentences, end-of-speech → final
English latency (p50 / p95 / max, measured at the wearer), and errors. Then the server's
CPU use per second of audio, when this script started the server itself.

Bounded and loopback only: the server address must be on this machine, every round
stops ``--tail-s`` after its audio at the latest, and the whole run after ``--max-total-s``.

    # start a server with the default models, rounds of 1, 2 and 3 wearers, 30 s each
    .venv/bin/python scripts/loadtest.py --sessions 1 2 3 --seconds 30
    # two wearers hearing different talks
    .venv/bin/python scripts/loadtest.py --talk talk1.wav talk2.wav --sessions 2 --seconds 84
    # a server that is already running (e.g. hudtranslate serve --remote-url ...)
    .venv/bin/python scripts/loadtest.py --server ws://127.0.0.1:8765 --sessions 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hudtranslate.audio import read_audio_file
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray
from hudtranslate.server.client import (
    StreamError,
    StreamReport,
    audio_url,
    percentile,
    stream_audio,
)
from hudtranslate.server.limits import is_loopback

REPO = Path(__file__).resolve().parents[1]


def default_talk() -> Path:
    data = Path(os.environ.get("HUDTRANSLATE_SHARED_DATA") or REPO.parent / "shared" / "data")
    return data / "audio" / "talks" / "dev-talk1.wav"


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class SpawnedServer:
    """``hudtranslate serve`` in a subprocess, wearers only, on a free loopback port."""

    def __init__(self, extra_args: list[str], max_sessions: int, data_dir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.log_path = data_dir / "server.log"
        self._log = self.log_path.open("wb")
        command = [sys.executable, "-m", "hudtranslate", "serve", "--port", str(self.port),
                   "--max-sessions", str(max_sessions), "--data-dir", str(data_dir),
                   "--log-format", "json", *extra_args]
        out(f"starting: {shlex.join(command[1:])}")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        cwd=REPO)
        deadline = time.monotonic() + 300
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"server did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.5)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/audio"

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                return True
        except OSError:
            return False

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return str(r.read().decode("utf-8"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


async def run_round(url: str, clips: list[AudioArray], sessions: int, stagger_s: float,
                    tail_s: float, token: str) -> list[StreamReport | str]:
    """Wearer ``i`` plays ``clips[i % len(clips)]``."""
    async def wearer(index: int) -> StreamReport | str:
        await asyncio.sleep(index * stagger_s)
        try:
            return await stream_audio(url, clips[index % len(clips)], token=token,
                                      client=f"loadtest-{index}", tail_timeout_s=tail_s)
        except StreamError as exc:
            return str(exc)

    results: list[StreamReport | str] = await asyncio.gather(
        *(wearer(i) for i in range(sessions)))
    return results


def shed_counts(metrics: str) -> dict[str, float]:
    """``hudtranslate_shed_total`` by kind, from a /metrics exposition."""
    counts = {}
    for line in metrics.splitlines():
        if line.startswith('hudtranslate_shed_total{kind="'):
            counts[line.split('"')[1]] = float(line.rsplit(" ", 1)[1])
    return counts


def summarize(sessions: int, results: list[StreamReport | str], audio_s: float,
              cpu_s: float | None) -> dict[str, Any]:
    out(f"\n== {sessions} concurrent wearer(s), {audio_s:.0f} s of talk each ==")
    out(f"{'wearer':<8}{'sentences':>10}{'p50 s':>8}{'p95 s':>8}{'max s':>8}  errors / models")
    every: list[float] = []
    rows = []
    for index, result in enumerate(results):
        if isinstance(result, str):
            out(f"{index:<8}{'-':>10}{'-':>8}{'-':>8}{'-':>8}  {result}")
            rows.append({"wearer": index, "error": result})
            continue
        latencies = result.latencies_s
        every += latencies
        errors = [e.get("code", "?") for e in result.errors] + ([] if result.ended
                                                                else ["no end"])
        models = sorted({f.model for f in result.finals})
        p50 = statistics.median(latencies) if latencies else 0.0
        out(f"{index:<8}{len(result.finals):>10}{p50:>8.2f}{result.percentile_s(0.95):>8.2f}"
            f"{max(latencies, default=0.0):>8.2f}  {','.join(errors) or 'none'} / "
            f"{','.join(models)} / load <= {result.max_load}")
        rows.append({"wearer": index, "session_id": result.session_id,
                     "sentences": len(result.finals), "p50_s": round(p50, 3),
                     "p95_s": round(result.percentile_s(0.95), 3),
                     "max_s": round(max(latencies, default=0.0), 3), "errors": errors,
                     "models": models, "max_load": result.max_load,
                     "latencies_s": [round(v, 3) for v in latencies]})
    p95 = percentile(every, 0.95)
    out(f"all     {len(every):>10}{statistics.median(every) if every else 0.0:>8.2f}"
        f"{p95:>8.2f}{max(every, default=0.0):>8.2f}")
    summary: dict[str, Any] = {"sessions": sessions, "audio_s": audio_s, "p95_s": round(p95, 3),
                               "sentences": len(every), "wearers": rows}
    if cpu_s is not None:
        per_audio = cpu_s / (audio_s * sessions)
        out(f"server CPU: {cpu_s:.1f} s = {per_audio:.2f} CPU-s per audio-s per wearer")
        summary["server_cpu_s"] = round(cpu_s, 2)
    return summary


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2],
                        help="a round for each count of concurrent wearers (default: 1 2)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="play the first SECONDS of the talk (default 30)")
    parser.add_argument("--talk", type=Path, nargs="+", default=None,
                        help="audio file(s); with several, wearer i plays the (i mod n)-th, "
                             "so wearers hear different speech (default: shared data's "
                             "dev-talk1.wav)")
    parser.add_argument("--server", default=None,
                        help="a running server (ws://127.0.0.1:PORT); default: start one")
    parser.add_argument("--serve-args", default="",
                        help="extra arguments for the started server, e.g. '--mt-model "
                             "qwen2.5-0.5b' or '--remote-url http://127.0.0.1:8080/v1'")
    parser.add_argument("--token", default=os.environ.get("HUDTRANSLATE_TOKEN", ""))
    parser.add_argument("--stagger-s", type=float, default=1.0,
                        help="start wearers this far apart (default 1)")
    parser.add_argument("--tail-s", type=float, default=60.0,
                        help="wait at most this long after the audio for the last captions")
    parser.add_argument("--max-total-s", type=float, default=900.0,
                        help="stop everything after this long")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    talks: list[Path] = args.talk or [default_talk()]
    clips = [read_audio_file(talk)[: int(args.seconds * SAMPLE_RATE_HZ)] for talk in talks]
    audio_s = min(len(clip) for clip in clips) / SAMPLE_RATE_HZ
    clips = [clip[: int(audio_s * SAMPLE_RATE_HZ)] for clip in clips]
    server: SpawnedServer | None = None
    if args.server:
        url = audio_url(args.server)
        host = urlsplit(url).hostname or ""
        if not is_loopback(host):
            raise SystemExit(f"loopback only: {host} is not this machine")
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="hudtranslate-loadtest-"))
        server = SpawnedServer(shlex.split(args.serve_args), max(args.sessions), data_dir)
        url = server.url
    summaries = []
    try:
        async with asyncio.timeout(args.max_total_s):
            for sessions in args.sessions:
                cpu_before = server.cpu_s() if server is not None else None
                shed_before = shed_counts(server.metrics()) if server is not None else {}
                results = await run_round(url, clips, sessions, args.stagger_s, args.tail_s,
                                          args.token)
                cpu = server.cpu_s() - cpu_before if server and cpu_before is not None else None
                summary = summarize(sessions, results, audio_s, cpu)
                if server is not None:
                    shed = {kind: count - shed_before.get(kind, 0.0)
                            for kind, count in shed_counts(server.metrics()).items()}
                    out("shed this round: " + (", ".join(
                        f"{kind} {count:g}" for kind, count in shed.items()) or "-"))
                    summary["shed"] = shed
                summaries.append(summary)
        if server is not None:
            fallbacks = [line for line in server.metrics().splitlines()
                         if line.startswith(("hudtranslate_translations_total",
                                             "hudtranslate_fallbacks_total",
                                             "hudtranslate_protocol_errors_total",
                                             "hudtranslate_shed_total"))]
            out("\nserver metrics:\n  " + "\n  ".join(fallbacks))
    finally:
        if server is not None:
            server.stop()
    if args.json is not None:
        args.json.write_text(json.dumps({"talk": " ".join(str(talk) for talk in talks),
                                         "rounds": summaries}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
