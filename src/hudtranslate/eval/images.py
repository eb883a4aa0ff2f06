"""``hudtranslate bench --images FILE``: how well photos are read and translated.

Manifest: JSON lines like ``shared/data/images/images.jsonl``: ``id``, ``file`` (relative
to the manifest), ``zh_lines`` (the printed text), ``key_en`` (words any acceptable
English must contain), optional ``en_lines``, ``kind`` and ``complete`` (false: only part
of the text was transcribed, so precision is not scored).

Metrics, per image and overall:

* **OCR character recall / precision**: the multiset of characters (NFKC, Traditional
  converted to Simplified on both sides, punctuation and spaces dropped) shared by the
  OCR text and ``zh_lines``, over the reference's (recall) or the OCR's (precision) count.
  Overall figures are pooled over characters, as CER is.
* **key_en**: share of ``key_en`` found (case-insensitive substring) in the card's
  English (blocks, barcodes, product line).
* **numbers**: digit runs of ``zh_lines`` (``47.50``, ``027-88852022``, ``4:00``) found in
  the English with their digits intact; ``numbers_translated`` counts only those the OCR
  read, so translation losses are apart from reading losses.
* **seconds**: to the whole card and to the first English line, from the decoded photo
  (median and max).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hudtranslate.asr.text import to_simplified
from hudtranslate.errors import DataError
from hudtranslate.eval.manifests import _id, _limited, _rows
from hudtranslate.eval.sections import format_number, threshold_targets
from hudtranslate.vision.scene import SceneText
from hudtranslate.vision.translate import kept, number_runs

_DROPPED = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class ImageItem:
    """One photo of the manifest."""

    id: str
    path: Path
    zh_lines: tuple[str, ...]
    key_en: tuple[str, ...]
    kind: str = ""
    complete: bool = True


def load_images_manifest(path: Path, limit: int | None = None) -> list[ImageItem]:
    """The manifest's photos; ``DataError`` naming file and line for a bad entry or a
    photo that does not exist."""
    items = []
    for line, row in _rows(path):
        where = f"{path}:{line}"
        file = row.get("file")
        if not isinstance(file, str) or not file.strip():
            raise DataError(f"{where}: missing 'file' (the photo, relative to the manifest)")
        photo = path.parent / file
        if photo.is_dir():
            raise DataError(f"{where}: {photo} is a folder: 'file' names one photo")
        if not photo.is_file():
            raise DataError(f"{where}: photo not found: {photo}")
        lines, keys = row.get("zh_lines"), row.get("key_en", [])
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise DataError(f"{where}: 'zh_lines' must be a list of strings")
        if not isinstance(keys, list) or not all(isinstance(x, str) and x for x in keys):
            raise DataError(f"{where}: 'key_en' must be a list of non-empty strings")
        items.append(ImageItem(_id(row, path, line), photo, tuple(lines), tuple(keys),
                               str(row.get("kind", "")), bool(row.get("complete", True))))
    return _limited(items, path, limit)


def ocr_characters(text: str) -> Counter[str]:
    """The characters that count for recall/precision (see the module docstring)."""
    normal = to_simplified(unicodedata.normalize("NFKC", text)).lower()
    return Counter(_DROPPED.sub("", normal))


def character_scores(reference: str, hypothesis: str) -> tuple[int, int, int]:
    """(shared, reference count, hypothesis count) of characters."""
    ref, hyp = ocr_characters(reference), ocr_characters(hypothesis)
    return sum((ref & hyp).values()), sum(ref.values()), sum(hyp.values())


def score_image(item: ImageItem, scene: SceneText) -> dict[str, Any]:
    """Per-image metrics and outputs for the report."""
    ocr_text = "\n".join(block.chinese for block in scene.blocks)
    english = "\n".join([*scene.english_lines, *(f"{c.text} {c.english}" for c in
                                                 scene.barcodes), scene.product])
    shared, ref_count, hyp_count = character_scores("".join(item.zh_lines), ocr_text)
    found = [key for key in item.key_en if key.lower() in english.lower()]
    numbers = [n for line in item.zh_lines for n in number_runs(line)]
    ocr_numbers = set(number_runs(ocr_text))
    read = [n for n in numbers if n in ocr_numbers or kept(n, ocr_text)]
    return {
        "id": item.id, "kind": item.kind, "complete": item.complete,
        "chars_shared": shared, "chars_ref": ref_count, "chars_ocr": hyp_count,
        "recall": shared / ref_count if ref_count else None,
        "precision": (shared / hyp_count if hyp_count else None) if item.complete else None,
        "key_en_found": found, "key_en_missing": [k for k in item.key_en if k not in found],
        "numbers": len(numbers), "numbers_kept": sum(kept(n, english) for n in numbers),
        "numbers_read": len(read), "numbers_translated": sum(kept(n, english) for n in read),
        "numbers_lost": [n for n in read if not kept(n, english)],
        "seconds": scene.timings_s.get("total"),
        "first_english_s": scene.timings_s.get("first_english"),
        "ocr_s": scene.timings_s.get("ocr"),
        "zh": [block.chinese for block in scene.blocks],
        "en": [block.english for block in scene.blocks],
        "product": scene.product,
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pooled and median figures over the per-image rows."""
    def ratio(numerator: str, denominator: str, where: Callable[[dict[str, Any]], bool]
              = lambda row: True) -> float | None:
        total = sum(row[denominator] for row in rows if where(row))
        return sum(row[numerator] for row in rows if where(row)) / total if total else None

    keys = sum(len(row["key_en_found"]) + len(row["key_en_missing"]) for row in rows)
    seconds = [row["seconds"] for row in rows if row["seconds"] is not None]
    first = [row["first_english_s"] for row in rows if row["first_english_s"] is not None]
    return {
        "images": len(rows),
        "ocr_recall": ratio("chars_shared", "chars_ref"),
        "ocr_precision": ratio("chars_shared", "chars_ocr", lambda row: row["complete"]),
        "key_en": sum(len(row["key_en_found"]) for row in rows) / keys if keys else None,
        "numbers_kept": ratio("numbers_kept", "numbers"),
        "numbers_translated": ratio("numbers_translated", "numbers_read"),
        "seconds_median": statistics.median(seconds) if seconds else None,
        "seconds_max": max(seconds) if seconds else None,
        "first_english_median_s": statistics.median(first) if first else None,
        "first_english_max_s": max(first) if first else None,
    }


IMAGE_TARGETS = {"ocr_recall": (">=", 0.93), "key_en": (">=", 0.85),
                 "numbers_translated": (">=", 1.0), "seconds_median": ("<=", 4.0),
                 "first_english_median_s": ("<=", 1.5)}
"""Issue 11's targets on ``shared/data/images`` (23 real photos, 2 cores)."""


def image_targets(summary: dict[str, Any]) -> dict[str, Any]:
    """Each target with its value and whether it is met (None: not measured)."""
    return threshold_targets("images", IMAGE_TARGETS, summary)


def images_markdown(summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> list[str]:
    """The report's "Photos" section."""
    lines = ["## Photos", "",
             "| images | OCR recall | OCR precision | key_en | numbers kept | numbers "
             "translated | card s median | card s max | first line s median |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
             "| " + " | ".join(format_number(summary.get(key)) for key in (
                 "images", "ocr_recall", "ocr_precision", "key_en", "numbers_kept",
                 "numbers_translated", "seconds_median", "seconds_max",
                 "first_english_median_s")) + " |", "",
             "| image | kind | recall | key_en missing | numbers lost | card s |",
             "|---|---|---:|---|---|---:|"]
    for row in rows:
        lines.append(f"| {row['id']} | {row['kind']} | {format_number(row['recall'])} | "
                     f"{', '.join(row['key_en_missing']) or '—'} | "
                     f"{', '.join(row['numbers_lost']) or '—'} | {format_number(row['seconds'])} |")
    lines.append("")
    return lines
