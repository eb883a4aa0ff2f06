#!/usr/bin/env python3
"""Could Whisper's own probability of an end mark find sentence ends that it does not write?

Nonstop speech waits for its cut because Whisper base seldom punctuates a running partial
decode (docs/benchmark.md, issue 9). This decodes windows of running speech greedily, as
partial decodes are (3 s of padding, repetition penalty 1.1), and reads at each gap
between two recognised characters the decoder's probability of writing a mark there
instead of the next character (CTranslate2's ``return_logits_vocab``, softmaxed): end
marks (。 . ? !), the first byte of a full-width mark (？！， share it), and the comma.
Gaps are labelled by aligning the decode with the reference (``difflib``): a sentence end
is a gap after a reference character followed by 。？！. Only gaps with at least two
characters after them count (the next sentence must have begun). Prints precision and
recall of "probability ≥ threshold" over all such gaps.

    .venv/bin/python scripts/end_mark_probability.py nonstop   # shared/cases/06-nonstop-speech
    .venv/bin/python scripts/end_mark_probability.py real      # shared/data/real (19 clips)

Windows start every 1.7 s and last 4.5, 6 and 7.5 s (a clip shorter than 4.5 s: itself);
~2 minutes each on 2 cores.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np

from hudtranslate.asr.text import normalize_chinese
from hudtranslate.asr.whisper import WhisperEngine, decoder_prompt
from hudtranslate.audio import read_audio_file
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray

SHARED = Path(__file__).resolve().parents[2] / "shared"
PUNCTUATION = set("。？！，、；：,.?!;: ")
WINDOW_STEP_S = 1.7
WINDOW_LENGTHS_S = (4.5, 6.0, 7.5)
THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


class Prober:
    """Greedy decodes with the probability of each mark at each gap."""

    def __init__(self) -> None:
        model_dir = Path.home() / ".cache" / "hudtranslate" / "models" / "whisper-base"
        self.engine = WhisperEngine(model_dir, cpu_threads=2)
        tokenizer = self.engine._tokenizer
        self.tokenizer = tokenizer
        self.mark_ids = {"end_mark": [tokenizer.encode(mark)[0] for mark in ("。", ".", "?", "!")],
                         "full_width": [tokenizer.encode("，")[0]],
                         "comma": [tokenizer.encode(",")[0]]}

    def decode(self, audio: AudioArray) -> tuple[str, dict[int, dict[str, float]], dict[int, str]]:
        """(characters without marks, gap → mark probabilities, gap → mark written)."""
        model = self.engine._model
        padded = np.concatenate([audio, np.zeros(3 * SAMPLE_RATE_HZ, np.float32)])
        features = model.feature_extractor(padded)
        frames = features.shape[-1] - features.shape[-1] % 2
        batch = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(features[None, :, :frames], dtype=np.float32))
        result = model.model.generate(batch, [decoder_prompt(self.tokenizer)], beam_size=1,
                                      max_length=120, return_logits_vocab=True,
                                      repetition_penalty=1.1)[0]
        ids = result.sequences_ids[0]
        chars: list[str] = []
        gaps: dict[int, dict[str, float]] = {}
        written: dict[int, str] = {}
        for step, logits in enumerate(result.logits[0][: len(ids)]):
            row = np.array(logits, dtype=np.float64)
            probabilities = np.exp(row - row.max())
            probabilities /= probabilities.sum()
            gap = len(chars)
            gaps.setdefault(gap, {kind: float(probabilities[ids_].sum())
                                  for kind, ids_ in self.mark_ids.items()})
            text = self.tokenizer.decode(ids[: step + 1])
            now = [char for char in normalize_chinese(text) if char not in PUNCTUATION]
            if len(now) == len(chars) and text and text[-1] in PUNCTUATION:
                written[gap] = text[-1]
            chars = now
        return "".join(chars), gaps, written


def sentence_end_gaps(heard: str, reference: str) -> dict[int, bool]:
    """Gap ``g`` of ``heard`` (``g`` characters before it) → is it a sentence end of
    ``reference``, for the gaps next to a character aligned with the reference."""
    characters: list[str] = []
    ends = set()
    for char in reference:
        if char in "。？！":
            ends.add(len(characters))
        elif char not in PUNCTUATION:
            characters.append(char)
    matcher = difflib.SequenceMatcher(None, heard, "".join(characters), autojunk=False)
    aligned = {a + k: b + k for a, b, size in matcher.get_matching_blocks() for k in range(size)}
    labels = {}
    for gap in range(1, len(heard)):
        if gap - 1 in aligned:
            labels[gap] = aligned[gap - 1] + 1 in ends
        elif gap in aligned:
            labels[gap] = aligned[gap] in ends
    return labels


def windows(prober: Prober, audio: AudioArray, reference: Callable[[float, float], str],
            lengths: tuple[float, ...]) -> list[dict[str, Any]]:
    duration_s = len(audio) / SAMPLE_RATE_HZ
    rows = []
    start = 0.0
    while start + min(lengths) <= duration_s + 0.1:
        for length in lengths:
            end = start + length
            if end > duration_s + 0.1:
                continue
            heard, gaps, written = prober.decode(
                audio[int(start * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)])
            for gap, is_end in sentence_end_gaps(heard, reference(start, end)).items():
                if len(heard) - gap >= 2:
                    rows.append({"end": is_end, "wrote": written.get(gap, ""),
                                 **gaps.get(gap, dict.fromkeys(prober.mark_ids, 0.0))})
        start += WINDOW_STEP_S
    return rows


def nonstop_rows(prober: Prober) -> list[dict[str, Any]]:
    cases = [json.loads(line) for line in (SHARED / "cases" / "cases.jsonl").open()]
    case = next(case for case in cases if case["id"] == "06-nonstop-speech")
    segments = case["segments"]
    ends = [row["start_s"] for row in segments[1:]] + [float("inf")]

    def reference(start: float, end: float) -> str:
        return "".join(row["zh"] for row, row_end in zip(segments, ends, strict=True)
                       if row["start_s"] < end and row_end > start)

    audio = read_audio_file(SHARED / "cases" / case["file"])
    return windows(prober, audio, reference, WINDOW_LENGTHS_S)


def _whole_clip(zh: str, _start_s: float, _end_s: float) -> str:
    return zh


def real_rows(prober: Prober) -> list[dict[str, Any]]:
    folder = SHARED / "data" / "real"
    rows = []
    for line in (folder / "real.jsonl").open():
        item = json.loads(line)
        audio = read_audio_file(folder / item["wav"])
        duration_s = len(audio) / SAMPLE_RATE_HZ
        lengths = WINDOW_LENGTHS_S if duration_s > min(WINDOW_LENGTHS_S) else (duration_s,)
        rows += windows(prober, audio, functools.partial(_whole_clip, item["zh"]), lengths)
    return rows


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def report(rows: list[dict[str, Any]]) -> None:
    positives = sum(row["end"] for row in rows)
    out(f"{len(rows)} gaps with the next sentence begun, {positives} of them sentence ends")
    marked = [row for row in rows if row["wrote"]]
    out(f"marks Whisper wrote at them: {len(marked)}, "
          f"{sum(row['end'] for row in marked)} at sentence ends")
    scores: dict[str, Callable[[dict[str, Any]], float]] = {
        "end marks": lambda row: row["end_mark"],
        "end marks + comma": lambda row: row["end_mark"] + row["full_width"] + row["comma"],
    }
    for name, score in scores.items():
        for threshold in THRESHOLDS:
            flagged = [row for row in rows if score(row) >= threshold]
            hits = sum(row["end"] for row in flagged)
            out(f"{name:18s} ≥ {threshold:4.2f}: {len(flagged):4d} flagged, precision "
                  f"{hits / max(1, len(flagged)):.3f}, recall {hits / max(1, positives):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", choices=("nonstop", "real"))
    args = parser.parse_args()
    prober = Prober()
    report(nonstop_rows(prober) if args.data == "nonstop" else real_rows(prober))


if __name__ == "__main__":
    main()
