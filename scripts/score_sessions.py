#!/usr/bin/env python3
"""Score the transcripts a load test's server stored: BLEU and chrF of each wearer's
English against its talk's references, and how many sentences each model wrote.

``scripts/loadtest.py`` prints its server's ``--data-dir`` on its first line; wearer *i*
played the *i* mod *n*-th ``--talk`` (sessions sort by start time). Document level: one
wearer's English joined against its talk's first references joined, for the talk's
sentences that end within ``--seconds`` (sacrebleu's corpus BLEU and chrF over the
wearers). Cruder than ``hudtranslate bench`` (no re-segmentation), but the same for the
runs it compares.

    .venv/bin/python scripts/score_sessions.py /tmp/hudtranslate-loadtest-XXXX \\
        --talk-ids dev-talk1 dev-talk2 dev-talk3 --seconds 83
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any

import sacrebleu

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dirs", type=Path, nargs="+", help="the servers' --data-dir")
    parser.add_argument("--talks", type=Path,
                        default=REPO.parent / "shared" / "data" / "audio" / "talks.jsonl")
    parser.add_argument("--talk-ids", nargs="+", default=["dev-talk1", "dev-talk2", "dev-talk3"],
                        help="the talks wearer 0, 1, … played, in --talk order")
    parser.add_argument("--seconds", type=float, default=83.0)
    args = parser.parse_args()
    talks = {row["id"]: row for row in map(json.loads, args.talks.read_text("utf-8").splitlines())}
    missing = [talk for talk in args.talk_ids if talk not in talks]
    if missing:
        parser.error(f"not in {args.talks}: {', '.join(missing)}")
    for folder in args.data_dirs:
        sessions = sorted(path for path in folder.glob("2*.jsonl"))
        if not sessions:
            parser.error(f"no session transcripts in {folder}")
        hypotheses, references = [], []
        models: collections.Counter[str] = collections.Counter()
        for wearer, path in enumerate(sessions):
            rows: list[dict[str, Any]] = [json.loads(line) for line in
                                          path.read_text("utf-8").splitlines() if line]
            talk = talks[args.talk_ids[wearer % len(args.talk_ids)]]
            hypotheses.append(" ".join(row["en"] for row in rows))
            references.append(" ".join(segment["en_refs"][0] for segment in talk["segments"]
                                       if segment["end_s"] <= args.seconds))
            models.update(row["model"] for row in rows)
        result = {"data_dir": str(folder), "wearers": len(sessions),
                  "bleu": round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2),
                  "chrf": round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2),
                  "sentences_by_model": dict(models)}
        sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
