"""Where streaming loses to the whole-clip decode on far speech (issue 9), two experiments.

``whole``: each whole recording (≤ 30 s) decoded once by the product's own
``WhisperEngine.decode`` (levelled, no forced prefix) at each ``--beams`` × ``--paddings``
(seconds of silence after the audio; 30 pads to a full window): the corpus CER of each
setting, beside faster-whisper's ``transcribe`` that ``hudtranslate bench`` reports as
``cer_offline``. Tells decoding settings apart from the context of the whole clip.

``pairs``: the pipeline run over each recording (as fast as it goes, as ``bench
--utterances`` does) with every unit's audio and the mean token log-probability of its
decode alone recorded; then each unit less sure than ``--below`` that the next unit
follows without a gap is decoded together with it (one decode of both, beam 3), in
place of the two finals. The corpus CER of the pipeline, and of each threshold.

    .venv/bin/python scripts/far_field.py ../shared/data/real/real.jsonl /tmp/far
    .venv/bin/python scripts/far_gap.py whole /tmp/far/real.jsonl
    .venv/bin/python scripts/far_gap.py pairs /tmp/far/real.jsonl --below -0.5 -0.7 -0.9 -1.2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from hudtranslate.asr.left_context import CONTIGUOUS_S
from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.text import normalize_chinese
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.eval.runner import SIMULTANEOUS, load_bench_engines, run_stream
from hudtranslate.events import SAMPLE_RATE_HZ

WINDOW_S = 30.0


def load(manifest: Path) -> tuple[list[str], list[Any]]:
    rows = [json.loads(line) for line in manifest.open(encoding="utf-8") if line.strip()]
    return ([row["zh"] for row in rows],
            [read_audio_file(manifest.parent / row["wav"]) for row in rows])


def whole(args: argparse.Namespace) -> None:
    settings = Settings.load()
    engine = load_bench_engines(settings, [SIMULTANEOUS]).pipeline.asr  # type: ignore[union-attr]
    references, recordings = load(args.manifest)
    for beam in args.beams:
        for padding in args.paddings:
            texts = []
            for audio in recordings:
                audio = audio[:int(WINDOW_S * SAMPLE_RATE_HZ)]
                pad = max(0.5, min(padding, WINDOW_S - len(audio) / SAMPLE_RATE_HZ))
                decoded = engine.decode(normalize_speech_level(audio), beam_size=beam,
                                        padding_s=pad, max_new_tokens=200)
                texts.append(normalize_chinese(decoded.text))
            sys.stdout.write(json.dumps({"beam": beam, "padding_s": padding,
                                         "cer": round(corpus_cer(references, texts), 4)}) + "\n")


units: list[dict[str, Any]] = []
_sureness: dict[str, float] = {}


def record_units() -> None:
    """Wrap ``StreamingRecognizer.finish`` (the unit's audio, start, finals) and
    ``_left_context_due`` (which sees the decode alone's mean log-probability)."""
    due = StreamingRecognizer._left_context_due
    finish = StreamingRecognizer.finish

    def recorded_due(self: StreamingRecognizer, logprob: float, beam_size: int) -> bool:
        _sureness["logprob"] = logprob
        return due(self, logprob, beam_size)

    def recorded_finish(self: StreamingRecognizer, now_s: float, **kwargs: Any) -> Any:
        audio = self._audio().copy() if self._samples else None
        start_s = self._start_s
        _sureness.pop("logprob", None)
        finals = finish(self, now_s, **kwargs)
        if audio is not None:
            units.append({"audio": audio, "start_s": start_s,
                          "end_s": start_s + len(audio) / SAMPLE_RATE_HZ,
                          "logprob": _sureness.get("logprob", 0.0),
                          "text": "".join(final.committed for final in finals)})
        return finals

    StreamingRecognizer._left_context_due = recorded_due  # type: ignore[method-assign]
    StreamingRecognizer.finish = recorded_finish  # type: ignore[method-assign]


async def pairs(args: argparse.Namespace) -> None:
    record_units()
    settings = Settings.load()
    engines = load_bench_engines(settings, [SIMULTANEOUS])
    engine = engines.pipeline.asr  # type: ignore[union-attr]
    references, recordings = load(args.manifest)
    clips, pipeline = [], []
    for audio in recordings:
        units.clear()
        run = await run_stream(SIMULTANEOUS, audio, engines, settings, realtime=False)
        clips.append(list(units))
        pipeline.append(run.chinese)
    sys.stdout.write(json.dumps({"pipeline_cer": round(corpus_cer(references, pipeline), 4)})
                     + "\n")
    for threshold in args.below:
        texts, merged = [], 0
        for clip in clips:
            parts, index = [], 0
            while index < len(clip):
                unit = clip[index]
                after = clip[index + 1] if index + 1 < len(clip) else None
                if (after is not None and unit["logprob"] < threshold
                        and abs(after["start_s"] - unit["end_s"]) < CONTIGUOUS_S
                        and len(unit["audio"]) + len(after["audio"])
                        < (WINDOW_S - 2) * SAMPLE_RATE_HZ):
                    both = normalize_speech_level(np.concatenate([unit["audio"], after["audio"]]))
                    parts.append(normalize_chinese(
                        engine.decode(both, beam_size=3, max_new_tokens=160).text))
                    merged += 1
                    index += 2
                    continue
                parts.append(unit["text"])
                index += 1
            texts.append("".join(parts))
        sys.stdout.write(json.dumps({"below": threshold, "pairs_merged": merged,
                                     "cer": round(corpus_cer(references, texts), 4)}) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    whole_parser = commands.add_parser("whole")
    whole_parser.add_argument("manifest", type=Path)
    whole_parser.add_argument("--beams", type=int, nargs="+", default=[3, 5])
    whole_parser.add_argument("--paddings", type=float, nargs="+", default=[3.0, 10.0, 30.0])
    pairs_parser = commands.add_parser("pairs")
    pairs_parser.add_argument("manifest", type=Path)
    pairs_parser.add_argument("--below", type=float, nargs="+", default=[-0.5, -0.7, -0.9, -1.2])
    args = parser.parse_args()
    if args.command == "whole":
        whole(args)
    else:
        asyncio.run(pairs(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
