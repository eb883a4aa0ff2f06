"""For every final the recogniser would hear in context (``asr/left_context.py``): how sure
Whisper was of it alone (mean token log-probability), what it heard alone, and what was
kept after the decode in context (null: there was no unit before it to hear it after, or
that decode was dropped). Recordings played at real-time pace, one JSON line per final.

    .venv/bin/python scripts/context_decodes.py ../shared/data/audio/talks/dev-talk1.wav …
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from hudtranslate.asr.decoding import DecodeCall
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.runner import SIMULTANEOUS, load_bench_engines, run_stream

rows: list[dict[str, Any]] = []
last: dict[str, Any] = {}


def record() -> None:
    """Wrap the recogniser's two steps that see the decode alone's sureness and the
    decode in context's outcome."""
    due = StreamingRecognizer._left_context_due
    in_context = StreamingRecognizer._decode_in_context

    def recorded_due(self: StreamingRecognizer, logprob: float, beam_size: int) -> bool:
        last["logprob"] = round(logprob, 3)
        return due(self, logprob, beam_size)

    def recorded_in_context(self: StreamingRecognizer, call: DecodeCall,
                            alone: str) -> str | None:
        kept = in_context(self, call, alone)
        rows.append({**last, "alone": alone, "kept": kept})
        return kept

    StreamingRecognizer._left_context_due = recorded_due  # type: ignore[method-assign]
    StreamingRecognizer._decode_in_context = recorded_in_context  # type: ignore[method-assign]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path, nargs="+")
    args = parser.parse_args()
    record()
    settings = Settings.load()
    engines = load_bench_engines(settings, [SIMULTANEOUS])
    for path in args.audio:
        last["clip"] = path.name
        await run_stream(SIMULTANEOUS, read_audio_file(path), engines, settings, realtime=True)
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
