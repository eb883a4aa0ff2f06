#!/usr/bin/env python3
"""Far-field copies of a benchmark manifest's recordings, for `hudtranslate bench`
(``hudtranslate.eval.far_field``).

Each recording (16 kHz mono, as ``hudtranslate.audio.read_audio_file`` reads it) is
convolved with a synthetic room response (exponentially decaying Gaussian noise after a
direct sound, ``--rt60-s``), mixed with pink (1/f) noise ``--snr-db`` under the
reverberant speech, and scaled to ``--level-dbfs`` RMS: a speaker across a room from the
glasses. Seeded (``--seed``; one generator over the files in manifest order), so the
copies are the same on every machine. The manifest is copied beside them unchanged.

    .venv/bin/python scripts/far_field.py ../shared/data/real/real.jsonl /tmp/far
    hudtranslate bench --utterances /tmp/far/real.jsonl --systems hudtranslate

``--kind`` makes one degradation alone: ``reverb``, ``noise`` or ``quiet``
(``--level-dbfs`` then -45 unless given).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import soundfile

from hudtranslate.audio import read_audio_file
from hudtranslate.eval.far_field import KINDS, degrade
from hudtranslate.events import SAMPLE_RATE_HZ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest", type=Path, help="a jsonl whose items name a wav")
    parser.add_argument("out", type=Path, help="folder for the copies and the manifest")
    parser.add_argument("--kind", choices=KINDS, default="far")
    parser.add_argument("--rt60-s", type=float, default=0.6)
    parser.add_argument("--snr-db", type=float, default=15.0)
    parser.add_argument("--level-dbfs", type=float, default=None,
                        help="RMS level of each copy (default -40 for far, -45 for quiet)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    level = args.level_dbfs if args.level_dbfs is not None else {
        "far": -40.0, "quiet": -45.0}.get(args.kind)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    count = 0
    for line in args.manifest.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        wav = json.loads(line)["wav"]
        samples = read_audio_file(args.manifest.parent / wav).astype(np.float64)
        copy = degrade(samples, args.kind, args.rt60_s, args.snr_db, level, rng)
        (args.out / wav).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(args.out / wav, np.clip(copy, -1.0, 1.0).astype(np.float32),
                        SAMPLE_RATE_HZ)
        count += 1
    shutil.copy(args.manifest, args.out / args.manifest.name)
    sys.stdout.write(f"{count} recordings ({args.kind}) written to {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
