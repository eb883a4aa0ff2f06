"""Where a final's latency goes, one recording at real-time pace: from the end of its
unit (``Transcript.end_s``) to the start of its final decode (recognition: the VAD's cut
and the recogniser's queue; a final's ``emitted_s`` is stamped there), the final decode
itself (``StreamingRecognizer.finish``: the decode alone, in context, repairs), and from
its end to the final English (translation, including waiting for the translator); and
how long the translator was busy with finals, partial translations and prefills, with
the tokens llama.cpp evaluated in prompt batches and one at a time.

    .venv/bin/python scripts/where_finals_wait.py ../shared/cases/06-nonstop-speech.wav
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.runner import SIMULTANEOUS, load_bench_engines, run_stream
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.translate.translator import SessionTranslator

busy_s: collections.Counter[str] = collections.Counter()
final_decode_s: dict[int, float] = {}
calls: collections.Counter[str] = collections.Counter()
tokens: collections.Counter[str] = collections.Counter()


def timed(name: str, kind_of: Callable[[tuple[Any, ...]], str]) -> None:
    original = getattr(SessionTranslator, name)

    def wrapper(self: SessionTranslator, *args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return original(self, *args, **kwargs)
        finally:
            busy_s[kind_of(args)] += time.monotonic() - start
            calls[kind_of(args)] += 1

    setattr(SessionTranslator, name, wrapper)


def time_final_decodes() -> None:
    """Record how long each utterance's final decode took, by the utterance ids it gave."""
    original = StreamingRecognizer.finish

    def wrapper(self: StreamingRecognizer, *args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        finals = original(self, *args, **kwargs)
        for final in finals:
            final_decode_s[final.utterance_id] = time.monotonic() - start
        return finals

    StreamingRecognizer.finish = wrapper  # type: ignore[method-assign]


def count_tokens() -> None:
    import llama_cpp

    original = llama_cpp.Llama.eval

    def counting(llm: Any, batch: Any) -> None:
        tokens["prompt batches" if len(batch) > 1 else "one at a time"] += len(batch)
        original(llm, batch)

    llama_cpp.Llama.eval = counting


def p50_p95(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [round(statistics.median(ordered), 2), round(ordered[int(0.95 * (len(ordered) - 1))], 2)]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path)
    args = parser.parse_args()
    timed("translate", lambda call: "final" if call[0].final else "partial")
    timed("prepare_next", lambda call: "prefill")
    count_tokens()
    time_final_decodes()
    settings = Settings.load()
    engines = load_bench_engines(settings, [SIMULTANEOUS])
    audio = read_audio_file(args.audio)
    run = await run_stream(SIMULTANEOUS, audio, engines, settings, realtime=True)
    transcripts = {t.utterance_id: t for t in run.transcripts}
    recognition, decoding, translation = [], [], []
    for final in run.finals:
        transcript = transcripts.get(final.utterance_id)
        if transcript is None:
            continue
        recognition.append(transcript.emitted_s - transcript.end_s)
        decoding.append(final_decode_s.get(final.utterance_id, 0.0))
        translation.append(final.emitted_s - transcript.emitted_s - decoding[-1])
        sys.stdout.write(json.dumps({
            "unit_end_s": round(transcript.end_s, 2), "recognition_s": round(recognition[-1], 2),
            "final_decode_s": round(decoding[-1], 2),
            "translation_s": round(translation[-1], 2), "zh": transcript.text},
            ensure_ascii=False) + "\n")
    sys.stdout.write(json.dumps({
        "recognition_p50_p95_s": p50_p95(recognition),
        "final_decode_p50_p95_s": p50_p95(decoding),
        "translation_p50_p95_s": p50_p95(translation),
        "translator_busy_s": {kind: round(seconds, 1) for kind, seconds in busy_s.items()},
        "translator_calls": dict(calls), "tokens": dict(tokens),
        "audio_s": round(len(audio) / SAMPLE_RATE_HZ, 1),
        "cpu_s_per_audio_s": round(run.cpu_s * SAMPLE_RATE_HZ / len(audio), 2)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
