"""What clipped input costs recognition, and whether a simple declipper wins it back.

Each recording of an utterance manifest (``real.jsonl``) is scaled to a −6 dBFS peak,
amplified by each ``--gains`` dB and hard-limited at that peak (a microphone preamp turned
up too far), optionally declipped (every clipped run replaced by a cubic fitted to the
four samples each side of it), levelled as the recogniser levels speech
(``asr.levels.normalize_speech_level``) and decoded whole by Whisper (beam 5). Prints the
share of clipped samples and the corpus CER per setting.

    .venv/bin/python scripts/clipping.py ../shared/data/real/real.jsonl --gains 0 12 20
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.whisper import WhisperEngine
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.models import resolve_model

RAIL = 0.5
"""Where the samples are limited (−6 dBFS)."""
FIT_SAMPLES = 4


def declip(samples: np.ndarray, rail: float = RAIL) -> np.ndarray:
    """``samples`` with every run at ``rail`` replaced by a cubic through its neighbours."""
    clipped = np.abs(samples) >= rail - 1e-6
    out = samples.copy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], clipped.astype(int), [0]])))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        around = np.concatenate([np.arange(max(0, start - FIT_SAMPLES), start),
                                 np.arange(end, min(len(samples), end + FIT_SAMPLES))])
        if len(around) >= FIT_SAMPLES:
            cubic = np.polyfit(around - start, samples[around], 3)
            out[start:end] = np.polyval(cubic, np.arange(end - start))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--gains", type=float, nargs="+", default=[0.0, 12.0, 20.0])
    args = parser.parse_args()
    settings = Settings.load()
    engine = WhisperEngine(resolve_model(settings.asr.model, "asr", settings.cache_path),
                           cpu_threads=settings.threads)
    items = [json.loads(line) for line in args.manifest.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    recordings = [read_audio_file(args.manifest.parent / item["wav"]) for item in items]
    references = [item["zh"] for item in items]
    for gain_db in args.gains:
        for declipped in (False, True) if gain_db > 0 else (False,):
            texts, shares = [], []
            for audio in recordings:
                scaled = audio / (float(np.max(np.abs(audio))) + 1e-9) * RAIL
                limited = np.clip(scaled * 10 ** (gain_db / 20), -RAIL, RAIL)
                shares.append(float(np.mean(np.abs(limited) >= RAIL - 1e-6)))
                heard = declip(limited) if declipped else limited
                level = normalize_speech_level(heard.astype(np.float32))
                texts.append(engine.decode(level, beam_size=5, max_new_tokens=200).text)
            sys.stdout.write(f"+{gain_db:g} dB{' declipped' if declipped else ''}: "
                             f"{np.mean(shares):.1%} of samples clipped, "
                             f"CER {corpus_cer(references, texts):.2%}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
