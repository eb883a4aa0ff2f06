#!/usr/bin/env python3
"""OCR on photos turned without an EXIF tag: character recall of each photo of an images
manifest turned by 0°, 90°, 180° and 270° (counter-clockwise), read as taken and with
``vision.orientation.read_upright``'s turns, and the OCR seconds of each.

    .venv/bin/python scripts/turned_photos.py ../shared/data/images/images.jsonl --json F

Prints one line per photo and turn, then per turn the mean recall both ways and the
median and largest OCR seconds (2 onnxruntime threads; run it alone on the machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from hudtranslate.eval.images import character_scores, load_images_manifest
from hudtranslate.vision.images import load_image
from hudtranslate.vision.ocr import OcrEngine
from hudtranslate.vision.orientation import read_upright

TURNS_DEG = (0, 90, 180, 270)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--long-side-px", type=int, default=1600)
    parser.add_argument("--json", type=Path, help="write the rows and summary here")
    args = parser.parse_args()
    ocr = OcrEngine(threads=2)
    rows = []
    for item in load_images_manifest(args.manifest):
        reference = "".join(item.zh_lines)
        upright = load_image(item.path)
        for turn in TURNS_DEG:
            photo = upright.rotate(turn, expand=True) if turn else upright
            row: dict[str, object] = {"id": item.id, "turn": turn}
            for name, try_turns in (("as_taken", False), ("turned", True)):
                started = time.perf_counter()
                reading = read_upright(ocr, photo, args.long_side_px, try_turns=try_turns)
                seconds = time.perf_counter() - started
                shared, count, _ = character_scores(
                    reference, "".join(line.text for line in reading.lines))
                row[f"{name}_recall"] = shared / count if count else 1.0
                row[f"{name}_s"] = seconds
                row[f"{name}_turned_deg"] = reading.turned_deg
            rows.append(row)
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    summary = {}
    for turn in TURNS_DEG:
        mine = [row for row in rows if row["turn"] == turn]
        summary[turn] = {
            f"{name}_{what}": round(function([float(row[f"{name}_{key}"])  # type: ignore[arg-type]
                                              for row in mine]), 3)
            for name in ("as_taken", "turned")
            for what, key, function in (("recall_mean", "recall", statistics.mean),
                                        ("s_median", "s", statistics.median),
                                        ("s_max", "s", max))}
        sys.stdout.write(f"turned {turn:3d}°: {summary[turn]}\n")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1,
                                        ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
