"""Offline: Whisper base decoding each whole utterance (beam 3, levelled, 3 s of padding,
as a final is decoded) played at several speeds, and the CER of each speed.

Tried for issue 9 and dropped (docs/benchmark.md, twenty-fifth session): played 5-15 %
faster, the real recordings' whole-clip CER fell by 0.6-1.9 points, but the synthetic
utterances' rose by 2.6 and the far copies' moved both ways.

    .venv/bin/python scripts/speed_perturbation.py ../shared/data/real/real.jsonl \\
        --speeds 1.0 1.05 1.1111 1.15 [--limit 80]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cut_experiments import Whisper, load_mono

from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.text import normalize_chinese
from hudtranslate.audio.pcm import resample
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.events import SAMPLE_RATE_HZ

MAX_SECONDS = 29


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path, help="JSON lines with wav and zh")
    parser.add_argument("--speeds", type=float, nargs="+", default=[1.0, 1.1])
    parser.add_argument("--limit", type=int, default=0, help="first N utterances only")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.manifest.read_text().splitlines() if line.strip()]
    rows = rows[:args.limit] if args.limit else rows
    engine = Whisper(Settings.load()).engine
    references: list[str] = []
    heard: dict[float, list[str]] = {speed: [] for speed in args.speeds}
    for row in rows:
        audio = normalize_speech_level(load_mono(args.manifest.parent / row["wav"]))
        if len(audio) > MAX_SECONDS * SAMPLE_RATE_HZ:
            continue  # one decode window
        references.append(row["zh"])
        per_clip = {}
        for speed in args.speeds:
            played = audio if speed == 1.0 else resample(
                audio, round(SAMPLE_RATE_HZ * speed), SAMPLE_RATE_HZ)
            decoded = engine.decode(played, beam_size=3, max_new_tokens=220, padding_s=3.0)
            heard[speed].append(normalize_chinese(decoded.text))
            per_clip[speed] = round(100 * corpus_cer([row["zh"]], [heard[speed][-1]]), 1)
        sys.stdout.write(json.dumps({"id": row["id"], "cer_percent": per_clip}) + "\n")
    summary = {str(speed): round(100 * corpus_cer(references, texts), 2)
               for speed, texts in heard.items()}
    sys.stdout.write(json.dumps({"utterances": len(references), "cer_percent": summary}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
