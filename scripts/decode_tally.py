#!/usr/bin/env python3
"""Run a ``hudtranslate`` command with every ``llama_decode`` call of the local model
tallied: by what asked for it (a final, a partial translation, a prefill between
sentences, the warm-up; "/together" when written side by side) and whether it was a
prompt batch or a one-token step. Writes calls, tokens, wall seconds and the calling
thread's CPU seconds per kind to ``--out`` (JSON) every 2 s and at the end.

    .venv/bin/python scripts/decode_tally.py --out tally.json -- \\
        file ../shared/data/audio/talks/dev-talk1.wav --realtime --out /tmp/x
    .venv/bin/python scripts/decode_tally.py --out tally.json -- serve --port 8791

Profiling only: the stack walk costs a little per call.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

KINDS = ("_final", "_partial", "prepare", "warm_up")
"""Function names on the stack that say what a decode is for (the first found wins)."""


class Tally:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.rows: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0, 0.0, 0.0])

    def add(self, kind: str, tokens: int, wall_s: float, cpu_s: float) -> None:
        with self.lock:
            row = self.rows[kind]
            row[0] += 1
            row[1] += tokens
            row[2] += wall_s
            row[3] += cpu_s

    def write(self) -> None:
        with self.lock:
            data = {kind: dict(zip(("calls", "tokens", "wall_s", "thread_cpu_s"), row,
                                   strict=True)) for kind, row in sorted(self.rows.items())}
        self.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def caller_kind() -> str:
    names = []
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    kind = next((kind for kind in KINDS if kind in names), "other")
    return kind + ("/together" if "decode_together" in names else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the hudtranslate command line, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the hudtranslate command after --")
    import llama_cpp
    import llama_cpp.llama_cpp as low

    tally = Tally(args.out)
    original = low.llama_decode

    def decode(ctx: Any, batch: Any) -> Any:
        tokens = int(batch.n_tokens)
        wall, cpu = time.perf_counter(), time.thread_time()
        status = original(ctx, batch)
        kind = caller_kind() + (" step" if tokens == 1 else " prompt")
        tally.add(kind, tokens, time.perf_counter() - wall, time.thread_time() - cpu)
        return status

    low.llama_decode = decode
    llama_cpp.llama_decode = decode

    def keep_writing() -> None:
        while True:
            time.sleep(2)
            tally.write()

    threading.Thread(target=keep_writing, daemon=True).start()
    from hudtranslate.cli import main as hudtranslate

    try:
        return hudtranslate(command)
    finally:
        tally.write()


if __name__ == "__main__":
    raise SystemExit(main())
