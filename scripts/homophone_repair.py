"""Experiment (issue 9, not in the product): repair same-syllable recognition errors by
letting the local Qwen choose among CC-CEDICT words that sound like a stretch.

For each stretch of 2-4 Chinese characters that is not an ordinary word, every CC-CEDICT
word with the same toneless pinyin is a candidate; a candidate replaces the stretch when
the whole sentence with it is more likely to the model by ``--margin`` nats (sum of token
log-probabilities after a fixed lead-in). Prints the CER of the recognised Chinese before
and after on ``--report`` (a ``hudtranslate bench --utterances`` report) and how many of
``--refs`` correct reference sentences the same repair would damage, with the seconds of
scoring. Offline only: loads the translator's GGUF once with all logits.

    .venv/bin/python scripts/homophone_repair.py \
        --report docs/bench-runs/2026-12-02-real-thirteenth-base.json \
        --refs ../shared/data/audio/utterances.jsonl --refs-limit 40 --margin 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from hudtranslate.asr.same_sound import apply_repairs
from hudtranslate.asr.text import HANZI, char_sounds
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.models.resolve import resolve_model
from hudtranslate.translate.heard_terms import cedict_words

LEAD_IN = "以下是一句普通话：\n"


class SentenceScorer:
    """Sum of the model's log-probabilities of a sentence's tokens after ``LEAD_IN``."""

    def __init__(self, model_path: Path, threads: int) -> None:
        from llama_cpp import Llama

        self.llm = Llama(str(model_path), n_ctx=512, n_threads=threads, logits_all=True,
                         verbose=False)
        self.lead = self.llm.tokenize(LEAD_IN.encode("utf-8"), add_bos=False)
        self.tokens_scored = 0

    def score(self, sentence: str) -> float:
        """Evaluates only the tokens after the part shared with the last sentence scored
        (its logits rows stay valid)."""
        body = self.llm.tokenize(sentence.encode("utf-8"), add_bos=False)
        tokens = self.lead + body
        cached = self.llm._input_ids[: self.llm.n_tokens].tolist()
        common = 0
        while common < min(len(cached), len(tokens) - 1) and cached[common] == tokens[common]:
            common += 1
        self.llm.n_tokens = common
        self.llm._ctx.kv_cache_seq_rm(-1, common, -1)
        self.llm.eval(tokens[common:])
        logits = np.asarray(self.llm.scores[: len(tokens)], dtype=np.float64)
        total = 0.0
        for position in range(len(self.lead), len(tokens)):
            row = logits[position - 1]
            total += float(row[tokens[position]] - np.logaddexp.reduce(row))
        self.tokens_scored += len(tokens) - common
        return total


def candidates(text: str, by_sound: dict[tuple[str, ...], list[str]],
               ordinary: frozenset[str]) -> list[tuple[int, int, str]]:
    """(start, end, word) for every stretch of 2-4 characters that is not a word and
    holds a character no word of the text covers, and every dictionary word with the
    same sound."""
    sounds = char_sounds(text)
    covered = [False] * len(text)  # inside some word of 2-4 characters of the text
    for start in range(len(text)):
        for end in range(start + 2, min(len(text), start + 4) + 1):
            if text[start:end] in ordinary:
                covered[start:end] = [True] * (end - start)
    found = []
    for start in range(len(text)):
        for length in (2, 3, 4):
            end = start + length
            stretch = text[start:end]
            if (end > len(text) or stretch in ordinary or all(covered[start:end])
                    or not all(HANZI.match(char) for char in stretch)):
                continue
            for word in by_sound.get(tuple(sounds[start:end]), [])[:6]:
                if word != stretch:
                    found.append((start, end, word))
    return found


def repair(text: str, scorer: SentenceScorer, by_sound: dict[tuple[str, ...], list[str]],
           ordinary: frozenset[str], margin: float) -> str:
    """``text`` with the best-scoring candidates (non-overlapping, best first) applied."""
    options = candidates(text, by_sound, ordinary)
    if not options:
        return text
    base = scorer.score(text)
    gains = []
    for start, end, word in options:
        gain = scorer.score(text[:start] + word + text[end:]) - base
        if gain > margin:
            gains.append((gain, start, end, word))
    return apply_repairs(text, gains)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--refs", type=Path, nargs="*", default=[])
    parser.add_argument("--refs-limit", type=int, default=100)
    parser.add_argument("--margin", type=float, nargs="+", default=[2.0, 4.0, 6.0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    settings = Settings.load()
    scorer = SentenceScorer(resolve_model(settings.translate.model, "translate",
                                          settings.cache_path), args.threads)
    _all_words, ordinary = cedict_words()
    by_sound: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for word in sorted(ordinary):
        by_sound[tuple(char_sounds(word))].append(word)
    items = json.loads(args.report.read_text(encoding="utf-8"))
    items = items["systems"]["hudtranslate"]["utterances"]["items"]
    refs = [item["zh_ref"] for item in items]
    heard = [item["zh"] for item in items]
    correct: list[str] = []
    for path in args.refs:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            correct += [row["zh"]] if "zh" in row else [s["zh"] for s in row["segments"]]
    correct = correct[: args.refs_limit]
    report: dict[str, object] = {"cer_before": corpus_cer(refs, heard)}
    for margin in args.margin:
        started, scored = time.process_time(), scorer.tokens_scored
        repaired = [repair(text, scorer, by_sound, ordinary, margin) for text in heard]
        damaged = [(text, fixed) for text in correct
                   if (fixed := repair(text, scorer, by_sound, ordinary, margin)) != text]
        report[f"margin_{margin:g}"] = {
            "cer_after": corpus_cer(refs, repaired),
            "changed": [[a, b] for a, b in zip(heard, repaired, strict=True) if a != b],
            "references_damaged": len(damaged), "references": len(correct),
            "damaged": [[a, b] for a, b in damaged],
            "cpu_s": time.process_time() - started,
            "tokens_scored": scorer.tokens_scored - scored,
        }
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
