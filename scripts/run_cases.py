"""Play the shared fault cases (``shared/cases/cases.jsonl``) through the pipeline.

Each case is played at real-time pace (``--fast``: as fast as possible) and measured the
way ``hudtranslate bench`` measures talks: the longest unit (final transcript) in seconds,
how many reference sentences a final covers, the final latency p50/p95 (end of the spoken
sentence → its final English; a sentence ends where the next one starts), the CER of the
joined Chinese, and every final with its English. Prints a JSON report.

    .venv/bin/python scripts/run_cases.py [--cases FILE] [--only ID ...] [--fast]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.bench import run_latencies
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.eval.manifests import Segment
from hudtranslate.eval.metrics import percentile
from hudtranslate.eval.runner import SIMULTANEOUS, BenchEngines, load_bench_engines, run_stream
from hudtranslate.events import SAMPLE_RATE_HZ

ROOT = Path(__file__).resolve().parents[1]
SENTENCE_GAP_S = 0.05


async def run_case(case: dict[str, Any], folder: Path, engines: BenchEngines,
                   settings: Settings, realtime: bool) -> dict[str, Any]:
    audio = read_audio_file(folder / case["file"])
    duration_s = len(audio) / SAMPLE_RATE_HZ
    rows = case["segments"]
    ends = [row["start_s"] - SENTENCE_GAP_S for row in rows[1:]] + [duration_s]
    segments = [Segment(row["start_s"], end, row["zh"], tuple(row["en_refs"]))
                for row, end in zip(rows, ends, strict=True)]
    run = await run_stream(SIMULTANEOUS, audio, engines, settings, realtime=realtime)
    latencies = run_latencies(segments, run)
    found = [value for value in latencies if value is not None]
    units = [t.end_s - t.start_s for t in run.transcripts]
    return {
        "id": case["id"], "sentences": len(segments), "covered": len(found),
        "units": len(units), "longest_unit_s": max(units, default=0.0),
        # latencies mean something only when the audio is paced like a microphone
        "final_latency_p50_s": percentile(found, 50) if realtime else None,
        "final_latency_p95_s": percentile(found, 95) if realtime else None,
        "cer": corpus_cer(["".join(row["zh"] for row in rows)], [run.chinese]),
        "cpu_s_per_audio_s": run.cpu_s / duration_s,
        "finals": [{"start_s": t.start_s, "end_s": t.end_s, "emitted_s": t.emitted_s,
                    "zh": t.source, "en": t.text} for t in run.finals],
        "expected": case.get("expected", ""),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path,
                        default=ROOT.parent / "shared" / "cases" / "cases.jsonl")
    parser.add_argument("--only", nargs="+", default=None, help="case ids to run")
    parser.add_argument("--fast", action="store_true", help="do not pace the audio")
    args = parser.parse_args()
    try:
        text = args.cases.read_text(encoding="utf-8")
    except OSError as exc:
        parser.error(f"cannot read {args.cases}: {exc.strerror or exc}")
    cases = [json.loads(line) for line in text.splitlines() if line.strip()]
    cases = [case for case in cases if args.only is None or case["id"] in args.only]
    if not cases:
        parser.error(f"no case {args.only} in {args.cases}")
    settings = Settings.load()
    engines = load_bench_engines(settings, [SIMULTANEOUS])
    report = [await run_case(case, args.cases.parent, engines, settings, not args.fast)
              for case in cases]
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
