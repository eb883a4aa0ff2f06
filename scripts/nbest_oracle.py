"""How far could re-ranking Whisper's own beam take recognition? Each recording of an
utterance manifest (``real.jsonl``: ``wav``, ``zh``) is decoded whole (≤ 30 s, 3 s of
padding, as the recogniser pads) with ``--beam`` and ``--hypotheses`` kept; reported:
the corpus CER (``eval.cer``) of the best-scored hypothesis, of the one closest to the
reference (the oracle: no re-ranker can do better), and of re-ranking by Whisper's
summed log-probability plus ``λ`` × jieba's unigram word log-probability (the language
model ``asr/same_sound.py`` uses). One JSON line per recording on stdout, the table on
stderr.

    .venv/bin/python scripts/nbest_oracle.py ../shared/data/real/real.jsonl --hypotheses 5
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hudtranslate.asr.text import to_simplified
from hudtranslate.asr.whisper import WhisperEngine, decoder_prompt
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer, normalize_for_cer, sentence_cer
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.models import resolve_model

LAMBDAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5)


def word_log_probability(tokenizer: Any, text: str) -> float:
    """jieba's best segmentation's unigram log-probability of ``text`` (normalised as for
    CER); 0.0 for empty text."""
    chars = normalize_for_cer(text)
    if not chars:
        return 0.0
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(chars, tokenizer.get_DAG(chars), route)
    return route[0][0]


def n_best(engine: WhisperEngine, audio: Any, beam: int, hypotheses: int) -> list[dict[str, Any]]:
    """Whisper's ``hypotheses`` best texts of ``audio`` with their summed log-probability
    (CTranslate2 returns the mean per token; times the token count). Uses the engine's
    model directly: the product never asks for more than one hypothesis."""
    batch, _frames = engine._mel(audio[:30 * SAMPLE_RATE_HZ], 3.0)
    tokenizer = engine._tokenizer
    result = engine._model.model.generate(
        engine._storage_view.from_array(batch), [decoder_prompt(tokenizer)],
        beam_size=beam, num_hypotheses=hypotheses, max_length=224, return_scores=True,
        repetition_penalty=1.1)[0]
    return [{"text": to_simplified(tokenizer.decode([t for t in ids if t < tokenizer.eot])
                                   .strip()),
             "logprob": float(score) * max(1, len(ids))}
            for ids, score in zip(result.sequences_ids, result.scores, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--hypotheses", type=int, default=5)
    args = parser.parse_args()
    import jieba

    settings = Settings.load()
    engine = WhisperEngine(resolve_model(settings.asr.model, "asr", settings.cache_path),
                           cpu_threads=settings.threads)
    words = jieba.Tokenizer()
    words.initialize()
    items = [json.loads(line) for line in args.manifest.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    references, lists = [], []
    for item in items:
        audio = read_audio_file(args.manifest.parent / item["wav"])
        hyps = n_best(engine, audio, args.beam, args.hypotheses)
        for hyp in hyps:
            hyp["cer"] = round(sentence_cer(item["zh"], hyp["text"]), 4)
            hyp["words"] = round(word_log_probability(words, hyp["text"]), 2)
        references.append(item["zh"])
        lists.append(hyps)
        sys.stdout.write(json.dumps({"id": item["id"], "zh": item["zh"], "n_best": hyps},
                                    ensure_ascii=False) + "\n")
    best = corpus_cer(references, [hyps[0]["text"] for hyps in lists])
    oracle = corpus_cer(references, [min(hyps, key=lambda h: h["cer"])["text"]
                                     for hyps in lists])
    sys.stderr.write(f"beam {args.beam}, {args.hypotheses} hypotheses, {len(items)} "
                     f"recordings: best-scored CER {best:.2%}, oracle {oracle:.2%}\n")
    for weight in LAMBDAS:
        chosen = [max(hyps, key=lambda h: h["logprob"] + weight * h["words"])["text"]
                  for hyps in lists]
        sys.stderr.write(f"  re-ranked, λ = {weight}: CER {corpus_cer(references, chosen):.2%}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
