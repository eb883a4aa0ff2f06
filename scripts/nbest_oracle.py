"""How far could re-ranking Whisper's own beam take recognition? Each recording of an
utterance manifest (``real.jsonl``: ``wav``, ``zh``) is decoded whole (≤ 30 s, 3 s of
padding, as the recogniser pads) with ``--beam`` and ``--hypotheses`` kept; reported:
the corpus CER (``eval.cer``) of the best-scored hypothesis, of the one closest to the
reference (the oracle: no re-ranker can do better), and of re-ranking by Whisper's
summed log-probability plus ``λ`` × jieba's unigram word log-probability (the language
model ``asr/same_sound.py`` uses) or, with ``--lm-model``, by a llama.cpp model's
log-probability of the hypothesis's characters (the local translator as a Chinese
language model). ``--cases`` reads ``shared/cases/cases.jsonl`` instead (each sentence of
each case cut at the next one's ``start_s``); ``--units`` decodes each recording in the
pieces the streaming pipeline cut it into (played at full speed), each re-ranked alone and
their choices joined, as a final decode would be (no oracle then: the reference is not cut).
One JSON line per recording on stdout, the table on stderr.

    .venv/bin/python scripts/nbest_oracle.py ../shared/data/real/real.jsonl --hypotheses 5
    .venv/bin/python scripts/nbest_oracle.py ../shared/data/real/real.jsonl --beam 10 \
        --hypotheses 10 --lm-model ~/.cache/hudtranslate/models/qwen2.5-1.5b/*.gguf
    .venv/bin/python scripts/nbest_oracle.py ../shared/cases/cases.jsonl --cases --beam 10 \
        --hypotheses 10 --lm-model ~/.cache/hudtranslate/models/qwen2.5-1.5b/*.gguf
    .venv/bin/python scripts/nbest_oracle.py ../shared/data/real/real.jsonl --units \
        --lm-model ~/.cache/hudtranslate/models/qwen2.5-1.5b/*.gguf
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from hudtranslate.asr.same_sound import word_log_probability, word_tokenizer
from hudtranslate.asr.text import to_simplified
from hudtranslate.asr.whisper import WhisperEngine, decoder_prompt
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer, normalize_for_cer, sentence_cer
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.models import resolve_model

LAMBDAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5)
LM_LAMBDAS = (0.1, 0.2, 0.3, 0.5, 1.0)
LM_LEAD_IN = "以下是一段普通话录音的文字记录：\n"
"""What the language model reads before each hypothesis ("a transcript of Mandarin
speech follows"), so its first characters are scored too."""


def words_score(tokenizer: Any, text: str) -> float:
    """``same_sound.word_log_probability`` of ``text`` normalised as for CER; 0.0 for
    empty text."""
    chars = normalize_for_cer(text)
    return word_log_probability(tokenizer, chars) if chars else 0.0


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
             "logprob": float(score) * max(1, len(ids)), "rank": rank}
            for rank, (ids, score) in enumerate(zip(result.sequences_ids, result.scores,
                                                    strict=True))]


class LanguageModel:
    """A llama.cpp model scoring texts: the summed natural log-probability of a text's
    tokens after ``LM_LEAD_IN``."""

    def __init__(self, path: Path, threads: int) -> None:
        from llama_cpp import Llama

        self._llm = Llama(model_path=str(path), logits_all=True, n_ctx=1024,
                          n_threads=threads, n_batch=256, verbose=False)
        self._lead_in = self._llm.tokenize(LM_LEAD_IN.encode(), add_bos=False)

    def log_probability(self, text: str) -> float:
        tokens = self._llm.tokenize(text.encode(), add_bos=False)
        self._llm.reset()  # type: ignore[no-untyped-call]
        self._llm.eval(self._lead_in + tokens)
        logits = np.asarray(self._llm.scores[:len(self._lead_in) + len(tokens)], np.float64)
        rows = logits[len(self._lead_in) - 1:-1]
        peak = rows.max(axis=1, keepdims=True)
        log_softmax = rows - peak - np.log(np.exp(rows - peak).sum(axis=1, keepdims=True))
        return float(log_softmax[np.arange(len(tokens)), tokens].sum())


def read_items(path: Path, cases: bool) -> list[tuple[str, str, Any]]:
    """(id, reference Chinese, 16 kHz audio) per recording, or per sentence of each case."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    if not cases:
        return [(row["id"], row["zh"], read_audio_file(path.parent / row["wav"]))
                for row in rows]
    items = []
    for case in rows:
        audio = read_audio_file(path.parent / case["file"])
        starts = [round(seg["start_s"] * SAMPLE_RATE_HZ) for seg in case["segments"]]
        for number, (seg, start) in enumerate(zip(case["segments"], starts, strict=True)):
            end = starts[number + 1] if number + 1 < len(starts) else len(audio)
            items.append((f"{case['id']}/{number}", seg["zh"], audio[start:end]))
    return items


def streaming_units(items: list[tuple[str, str, Any]],
                    settings: Settings) -> list[tuple[str, str, list[Any]]]:
    """Each item's audio cut where the streaming pipeline cuts it (one piece per
    utterance: the span of its finals)."""
    from hudtranslate.eval.runner import SIMULTANEOUS, load_bench_engines, run_stream

    engines = load_bench_engines(settings, [SIMULTANEOUS])
    cut = []
    for item_id, reference, audio in items:
        run = asyncio.run(run_stream(SIMULTANEOUS, audio, engines, settings, realtime=False))
        spans: dict[Any, tuple[float, float]] = {}
        for final in run.transcripts:
            start, end = spans.get(final.utterance_id, (final.start_s, final.end_s))
            spans[final.utterance_id] = (min(start, final.start_s), max(end, final.end_s))
        cut.append((item_id, reference, [audio[round(start * SAMPLE_RATE_HZ):
                                               round(end * SAMPLE_RATE_HZ)]
                                         for start, end in spans.values()]))
    return cut


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--hypotheses", type=int, default=5)
    parser.add_argument("--lm-model", type=Path, help="a GGUF model to re-rank with")
    parser.add_argument("--cases", action="store_true", help="the manifest is cases.jsonl")
    parser.add_argument("--units", action="store_true",
                        help="decode the pieces the streaming pipeline cuts")
    args = parser.parse_args()
    settings = Settings.load()
    engine = WhisperEngine(resolve_model(settings.asr.model, "asr", settings.cache_path),
                           cpu_threads=settings.threads)
    words = word_tokenizer()
    model = LanguageModel(args.lm_model, settings.threads) if args.lm_model else None
    items = read_items(args.manifest, args.cases)
    pieces = (streaming_units(items, settings) if args.units
              else [(item_id, reference, [audio]) for item_id, reference, audio in items])
    references, lists = [], []
    for item_id, reference, audios in pieces:
        per_piece = [n_best(engine, audio, args.beam, args.hypotheses) for audio in audios]
        for hyp in (hyp for hyps in per_piece for hyp in hyps):
            hyp["cer"] = round(sentence_cer(reference, hyp["text"]), 4)
            hyp["words"] = round(words_score(words, hyp["text"]), 2)
            if model is not None:
                hyp["lm"] = round(model.log_probability(normalize_for_cer(hyp["text"])
                                                        or "。"), 2)
        references.append(reference)
        lists.append(per_piece)
        sys.stdout.write(json.dumps({"id": item_id, "zh": reference, "n_best": per_piece},
                                    ensure_ascii=False) + "\n")

    def chosen(score: Any) -> float:
        return corpus_cer(references, ["".join(max(hyps, key=score)["text"] for hyps in per_piece)
                                       for per_piece in lists])

    best = chosen(lambda h: -h["rank"])
    sys.stderr.write(f"beam {args.beam}, {args.hypotheses} hypotheses, {len(items)} "
                     f"recordings, {sum(map(len, lists))} pieces: best-scored CER {best:.2%}")
    if not args.units:
        oracle = corpus_cer(references, [min(per_piece[0], key=lambda h: h["cer"])["text"]
                                         for per_piece in lists])
        sys.stderr.write(f", oracle {oracle:.2%}")
    sys.stderr.write("\n")
    for weight in LAMBDAS:
        cer = chosen(lambda h, w=weight: h["logprob"] + w * h["words"])
        sys.stderr.write(f"  re-ranked, λ = {weight}: CER {cer:.2%}\n")
    for weight in LM_LAMBDAS if model is not None else ():
        cer = chosen(lambda h, w=weight: h["logprob"] + w * h["lm"])
        sys.stderr.write(f"  re-ranked by {args.lm_model.name}, λ = {weight}: CER {cer:.2%}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
