#!/usr/bin/env python3
"""``hudtranslate serve`` with a policy changed for an experiment (load tests only).

Two wearers keep the local model busy ~86 % of the time (docs/benchmark.md, fifteenth
session); these are the policies that were tried against that, and are kept here so the
figures can be reproduced:

* ``--one-decode-thread``: the local model writes with ``decode_threads`` (one) even
  while several sessions are open (``LlamaEngine.use_all_threads`` never switches);
* ``--finals-together``: finals of several sessions are always written side by side
  (``LlamaEngine.write_together``, ``FairTurns.finals_together``), not only once the
  server is behind;
* ``--timings FILE``: one JSON line per Whisper decode and per local generation (start,
  wall seconds, audio seconds or text), for where a wearer's wait goes.

    .venv/bin/python scripts/serve_variants.py --finals-together -- \\
        serve --port 8799 --max-sessions 2 --data-dir /tmp/x
    .venv/bin/python scripts/loadtest.py --server ws://127.0.0.1:8799/ws/audio --sessions 2 ...
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hudtranslate.asr import whisper
from hudtranslate.cli import main as hudtranslate_main
from hudtranslate.translate import llama


def one_decode_thread() -> None:
    llama.LlamaEngine.use_all_threads = lambda self, wanted: None  # type: ignore[method-assign]


def finals_together() -> None:
    from hudtranslate import sharing

    sharing.FairTurns.finals_together = property(  # type: ignore[assignment]
        lambda self: True, lambda self, value: None)
    generate = llama.LlamaEngine.generate

    def together(self: llama.LlamaEngine, *args: Any, **kwargs: Any) -> str | None:
        self._together = True
        return generate(self, *args, **kwargs)

    llama.LlamaEngine.generate = together  # type: ignore[method-assign]
    llama.LlamaEngine.write_together = lambda self, wanted: None  # type: ignore[method-assign]


def timings(path: Path) -> None:
    out = path.open("w")
    lock = threading.Lock()

    def record(**row: Any) -> None:
        with lock:
            out.write(json.dumps(row) + "\n")
            out.flush()

    decode = whisper.WhisperEngine.decode

    def timed_decode(self: whisper.WhisperEngine, audio: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        result = decode(self, audio, **kwargs)
        record(kind="asr", start_s=start, wall_s=time.monotonic() - start,
               audio_s=len(audio) / 16000, beam_size=kwargs.get("beam_size", 1))
        return result

    generate = llama.LlamaEngine.generate

    def timed_generate(self: llama.LlamaEngine, prompt: str, **kwargs: Any) -> str | None:
        start = time.monotonic()
        text = generate(self, prompt, **kwargs)
        record(kind="mt", start_s=start, wall_s=time.monotonic() - start, text=text)
        return text

    whisper.WhisperEngine.decode = timed_decode  # type: ignore[method-assign]
    llama.LlamaEngine.generate = timed_generate  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one-decode-thread", action="store_true")
    parser.add_argument("--finals-together", action="store_true")
    parser.add_argument("--timings", type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- and the hudtranslate command (serve ...)")
    args = parser.parse_args()
    if args.one_decode_thread:
        one_decode_thread()
    if args.finals_together:
        finals_together()
    if args.timings:
        timings(args.timings)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return hudtranslate_main(command)


if __name__ == "__main__":
    sys.exit(main())
