"""Experiment (issue 9): same-sound repairs judged by Whisper hearing the audio again
(``same_sound.repair_by_ear``), at a grid of word-model gains and audio tolerances.

Recognised text comes from four sets: a bench report of the real recordings (``--report``:
each clip's streaming Chinese, judged against the whole clip's audio, ≤ 30 s), and the
dev talks' sentences, the dev utterances and (``--far``) far copies of the real
recordings decoded here (beam 3, as a final). For each, every repair of the recognised
text that adds more than the smallest gain tried is scored once by
``WhisperEngine.text_log_probabilities``; then, per (gain, tolerance), the CER before and
after (as ``repair_by_ear`` chooses: the ``MOST_JUDGED`` adding most as words, overlaps
resolved by nats as words plus nats by ear; the 10-nat word-model repair after, as the
pipeline does) and how many correctly recognised sentences changed.

    .venv/bin/python scripts/far_field.py ../shared/data/real/real.jsonl /tmp/far
    .venv/bin/python scripts/same_sound_by_ear.py \
        --report docs/bench-runs/2026-12-03-real-twentyfirst-dereverb.json --far /tmp/far \
        --out docs/bench-runs/2026-12-03-same-sound-by-ear.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.same_sound import MOST_JUDGED, apply_repairs, same_sound_repair
from hudtranslate.asr.text import normalize_chinese
from hudtranslate.asr.whisper import WhisperEngine
from hudtranslate.audio import read_audio_file
from hudtranslate.eval.cer import corpus_cer, normalize_for_cer
from hudtranslate.events import SAMPLE_RATE_HZ

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GAINS = (2.5, 3.0, 3.5, 4.0, 5.0)
TOLERANCES = (1.0, 1.5, 2.0, 2.5, 3.0)


def judged(engine: WhisperEngine, label: str, audio: Any, text: str, reference: str,
           ) -> dict[str, Any]:
    """One recognised text with every repair from ``min(GAINS)`` nats and the audio's
    verdict on each: (gain, start, end, word, Δ log-probability)."""
    repairer = same_sound_repair()
    options = repairer.options(text, min(GAINS))
    audio = normalize_speech_level(audio[:30 * SAMPLE_RATE_HZ])
    scores = engine.text_log_probabilities(
        audio, [text] + [text[:start] + word + text[end:] for _, start, end, word in options])
    return {"set": label, "text": text, "reference": reference,
            "options": [(gain, start, end, word, score - scores[0]) for
                        (gain, start, end, word), score in zip(options, scores[1:], strict=True)]}


def decoded(engine: WhisperEngine, audio: Any) -> str:
    return normalize_chinese(engine.decode(normalize_speech_level(audio), beam_size=3,
                                           max_new_tokens=160).text)


def texts(engine: WhisperEngine, report: Path, far: Path | None) -> list[dict[str, Any]]:
    rows = []
    items = json.loads(report.read_text(encoding="utf-8"))["systems"]["hudtranslate"][
        "utterances"]["items"]
    for item in items:
        audio = read_audio_file(SHARED / "real" / f"{item['id']}.wav")
        rows.append(judged(engine, "real", audio, item["zh"], item["zh_ref"]))
    for line in (SHARED / "audio" / "talks.jsonl").read_text(encoding="utf-8").splitlines():
        talk = json.loads(line)
        audio = read_audio_file(SHARED / "audio" / talk["wav"])
        for segment in talk["segments"]:
            piece = audio[int(max(0.0, segment["start_s"] - 0.2) * SAMPLE_RATE_HZ):
                          int((segment["end_s"] + 0.3) * SAMPLE_RATE_HZ)]
            rows.append(judged(engine, "dev talks", piece, decoded(engine, piece),
                               segment["zh"]))
    for line in (SHARED / "audio" / "utterances.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        audio = read_audio_file(SHARED / "audio" / item["wav"])
        rows.append(judged(engine, "dev utterances", audio, decoded(engine, audio), item["zh"]))
    if far is not None:
        for line in (SHARED / "real" / "real.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            audio = read_audio_file(far / item["wav"])[:30 * SAMPLE_RATE_HZ]
            rows.append(judged(engine, "far copies", audio, decoded(engine, audio), item["zh"]))
    return rows


def scored(rows: list[dict[str, Any]], gain: float, tolerance: float) -> dict[str, Any]:
    """CER before / after and correctly recognised texts changed, per set."""
    word_model = same_sound_repair()
    result: dict[str, Any] = {}
    for label in dict.fromkeys(row["set"] for row in rows):
        chosen = [row for row in rows if row["set"] == label]
        references = [row["reference"] for row in chosen]
        before = [word_model.repair(row["text"]) for row in chosen]
        after = [word_model.repair(apply_repairs(row["text"], [
            (g + heard, start, end, word)
            for g, start, end, word, heard in sorted(
                (option for option in row["options"] if option[0] > gain),
                reverse=True)[:MOST_JUDGED]
            if heard >= -tolerance])) for row in chosen]
        damaged = sum(normalize_for_cer(old) == normalize_for_cer(reference) and new != old
                      for old, new, reference in zip(before, after, references, strict=True))
        result[label] = {"cer_before": round(100 * corpus_cer(references, before), 2),
                         "cer_after": round(100 * corpus_cer(references, after), 2),
                         "correct_changed": damaged,
                         "changed": sum(old != new for old, new in zip(before, after,
                                                                       strict=True))}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--far", type=Path, help="folder of far copies (scripts/far_field.py)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--model", type=Path,
                        default=Path.home() / ".cache/hudtranslate/models/whisper-base")
    args = parser.parse_args()
    engine = WhisperEngine(args.model, cpu_threads=2)
    rows = texts(engine, args.report, args.far)
    grid = {f"gain {gain} / tolerance {tolerance}": scored(rows, gain, tolerance)
            for gain in GAINS for tolerance in TOLERANCES}
    for name, sets in grid.items():
        sys.stdout.write(f"{name} {json.dumps(sets, ensure_ascii=False)}\n")
    if args.out is not None:
        args.out.write_text(json.dumps({"grid": grid, "texts": rows}, ensure_ascii=False,
                                       indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
