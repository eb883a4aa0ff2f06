"""Each VAD unit of a set of recordings decoded alone and after the unit before it.

The seventeenth session's measurement behind ``asr.left_context_below_logprob``
(docs/benchmark.md): per unit, Whisper base's final decode alone (beam 3, levelled) with
its mean token log-probability, and, for a unit that began where the last one ended, the
decode of both units' audio made to say the last one's text first. Prints one JSON line
per unit, then the log-probability quartiles and the CER of the set when the context
decode is used always, never, or below a threshold. ``--time`` instead prints the median
time of a beam-3 decode of the first 4 and 8 s of a recording (what a context decode adds
to an unsure final).

    .venv/bin/python scripts/left_context_units.py /tmp/far/real.jsonl
    .venv/bin/python scripts/left_context_units.py ../shared/data/real/real.jsonl
    .venv/bin/python scripts/left_context_units.py --time /tmp/far/real-022.wav
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cut_experiments import Whisper, load_mono, say, vad_units

from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.text import normalize_chinese
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.events import SAMPLE_RATE_HZ

RULES = ("never", "always", "below -0.5", "below -0.6", "below -0.7")


def decode_units(manifest: Path, whisper: Whisper, settings: Settings) -> list[dict[str, Any]]:
    rows = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        audio = load_mono(manifest.parent / item["wav"])
        previous: tuple[float, str] | None = None
        last_end = -1.0
        for index, (start, end) in enumerate(vad_units(audio, settings.vad)):
            piece = audio[int(start * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)]
            decoded = whisper.engine.decode(normalize_speech_level(piece), beam_size=3,
                                            max_new_tokens=120)
            row: dict[str, Any] = {"id": item["id"], "unit": index, "start_s": start,
                                   "end_s": end, "alone": normalize_chinese(decoded.text),
                                   "logprob": round(decoded.avg_logprob, 3)}
            if previous is not None and abs(last_end - start) < 0.01:
                row["in_context"] = whisper.after_prefix(
                    audio[int(previous[0] * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)],
                    previous[1])
            say(row)
            rows.append(row)
            previous, last_end = (start, row["alone"]), end
    return rows


def uses_context(rule: str, row: dict[str, Any]) -> bool:
    if "in_context" not in row or rule == "never":
        return False
    return rule == "always" or row["logprob"] < float(rule.split()[1])


def score(manifest: Path, rows: list[dict[str, Any]]) -> None:
    references = {json.loads(line)["id"]: json.loads(line)["zh"]
                  for line in manifest.read_text(encoding="utf-8").splitlines()}
    ids = sorted(references)
    probabilities = sorted(row["logprob"] for row in rows)
    quartiles = [probabilities[len(probabilities) * q // 4] for q in (1, 2, 3)]
    say({"units": len(rows), "after_another": sum("in_context" in r for r in rows),
         "logprob_quartiles": quartiles})
    for rule in RULES:
        texts = ["".join(row["in_context"] if uses_context(rule, row) else row["alone"]
                         for row in rows if row["id"] == clip) for clip in ids]
        cer = corpus_cer([references[clip] for clip in ids], texts)
        say({"rule": rule, "cer": round(cer, 4)})


def time_decodes(path: Path, whisper: Whisper) -> None:
    audio = load_mono(path)
    for seconds in (4, 8):
        piece = normalize_speech_level(audio[:seconds * SAMPLE_RATE_HZ])
        times = []
        for _ in range(5):
            began = time.perf_counter()
            whisper.engine.decode(piece, beam_size=3, max_new_tokens=120)
            times.append(time.perf_counter() - began)
        say({"audio_s": seconds, "median_decode_s": round(statistics.median(times), 3)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path,
                        help="a real.jsonl-style manifest (a WAV with --time)")
    parser.add_argument("--time", action="store_true")
    args = parser.parse_args()
    settings = Settings.load()
    whisper = Whisper(settings)
    if args.time:
        time_decodes(args.path, whisper)
    else:
        score(args.path, decode_units(args.path, whisper, settings))


if __name__ == "__main__":
    main()
