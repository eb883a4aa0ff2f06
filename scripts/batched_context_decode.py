"""What one batched CTranslate2 call would save over the final's two decodes (the decode
alone, then the decode in context: ``asr/recognizer.py``): one unit of a recording and
the unit before it, decoded the product's way one after the other, and as one
``generate`` of a batch of two (the decode alone's audio padded with silence to the
in-context audio's length). Prints CPU and wall seconds and the texts of each, alternating
``--runs`` times. The units' bounds are seconds of the recording; the defaults are two
units of ``06-nonstop-speech`` from a ``scripts/run_cases.py`` run.

    .venv/bin/python scripts/batched_context_decode.py ../shared/cases/06-nonstop-speech.wav
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from hudtranslate.asr.whisper import WhisperEngine, decoder_prompt
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.models import resolve_model

BEAM = 3
PADDING_S = 3.0


def one_after_the_other(engine: WhisperEngine, own: np.ndarray, left: np.ndarray,
                        left_text: str) -> list[str]:
    alone = engine.decode(own, beam_size=BEAM, padding_s=PADDING_S)
    in_context = engine.decode(np.concatenate([left, own]), beam_size=BEAM,
                               padding_s=PADDING_S, prefix=left_text)
    return [alone.text, in_context.text]


def batched(engine: WhisperEngine, own: np.ndarray, left: np.ndarray,
            left_text: str) -> list[str]:
    """Both decodes in one ``generate`` call (the engine's own model and tokenizer)."""
    both = np.concatenate([left, own])
    in_context, frames = engine._mel(both, PADDING_S)
    alone, _ = engine._mel(np.concatenate([own, np.zeros(len(left), np.float32)]), PADDING_S)
    features = np.ascontiguousarray(np.concatenate([alone[..., :frames], in_context]))
    tokenizer = engine._tokenizer
    prompt = decoder_prompt(tokenizer, "")
    prefix = tokenizer.encode(left_text)
    results = engine._model.model.generate(
        engine._storage_view.from_array(features), [prompt, prompt + prefix],
        beam_size=BEAM, max_length=len(prompt) + len(prefix) + 64, return_scores=True,
        repetition_penalty=1.1, suppress_blank=False)
    return [tokenizer.decode([t for t in result.sequences_ids[0] if t < tokenizer.eot]).strip()
            for result in results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path)
    parser.add_argument("--left", type=float, nargs=2, default=[10.43, 12.51])
    parser.add_argument("--own", type=float, nargs=2, default=[12.51, 14.66])
    parser.add_argument("--left-text", default="它大惊小怪地皱了皱鼻子")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.load()
    engine = WhisperEngine(resolve_model(settings.asr.model, "asr", settings.cache_path),
                           cpu_threads=1)
    audio = read_audio_file(args.audio)
    left = audio[int(args.left[0] * SAMPLE_RATE_HZ):int(args.left[1] * SAMPLE_RATE_HZ)]
    own = audio[int(args.own[0] * SAMPLE_RATE_HZ):int(args.own[1] * SAMPLE_RATE_HZ)]
    for _ in range(args.runs):
        for way in (one_after_the_other, batched):
            cpu, wall = time.process_time(), time.monotonic()
            texts = way(engine, own, left, args.left_text)
            sys.stdout.write(json.dumps({
                "way": way.__name__, "cpu_s": round(time.process_time() - cpu, 3),
                "wall_s": round(time.monotonic() - wall, 3), "texts": texts},
                ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
