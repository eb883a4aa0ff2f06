"""``bench --voice``: how fast the English voice speaks, and whether Whisper understands it.

For each sentence of ``assets/voice_bench_en.txt`` (20 English sentences with times,
prices, dates and phone numbers, written for this project): the voice says it on one
onnxruntime thread (``real_time_factor`` = seconds to synthesise / seconds of audio, wall
clock; ``cpu_real_time_factor`` the same in process CPU time, which other work on the
machine does not inflate), then Whisper (the ``asr.model``, base by default) transcribes
the audio in English, whole (faster-whisper's own ``transcribe``, beam 5), and the words
it heard are compared with the words meant: word error rate over all sentences (jiwer).

Both sides are normalised the same way (``normalise``): numbers written out by the voice's
own ``spell_numbers`` (Whisper writes "$12.99", "5:30 p.m."), lower case, hyphens as
spaces, every character but a-z, apostrophes and spaces removed. Targets: median real-time
factor ≤ 0.3, WER ≤ 10 %.
"""

from __future__ import annotations

import logging
import re
import statistics
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jiwer

from hudtranslate.config import Settings
from hudtranslate.errors import DataError
from hudtranslate.eval.sections import format_number, threshold_targets
from hudtranslate.speech_out.numbers import spell_numbers

log = logging.getLogger(__name__)

VOICE_TARGETS = {"real_time_factor_median": ("<=", 0.3), "wer": ("<=", 0.10)}
_NOT_WORD = re.compile(r"[^a-z' ]+")


def bench_sentences(path: Path | None = None) -> list[str]:
    """The sentences (``#`` lines and blank lines skipped); raises ``DataError``."""
    source = path or Path(str(resources.files("hudtranslate") / "assets"
                              / "voice_bench_en.txt"))
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read {source}: {exc.strerror or exc}") from None
    sentences = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not sentences:
        raise DataError(f"{source} has no sentences")
    return sentences


def normalise(text: str) -> str:
    """Words as said, for scoring: see the module doc."""
    spelled = spell_numbers(text).lower().replace("-", " ").replace("’", "'")
    words = _NOT_WORD.sub(" ", spelled).split()
    return " ".join(word.strip("'") for word in words if word.strip("'"))


def run_voice_bench(settings: Settings, *, sentences: Sequence[str] | None = None,
                    on_sentence: Callable[[int, int, dict[str, Any]], None] | None = None
                    ) -> dict[str, Any]:
    """Say and read back every sentence; returns ``{"summary", "items", "targets"}``."""
    from hudtranslate.asr.whisper import WhisperEngine
    from hudtranslate.models import resolve_model
    from hudtranslate.speech_out.voice import EnglishVoice, to_16k

    texts = list(sentences) if sentences is not None else bench_sentences()
    voice = EnglishVoice(onnx_threads=1, length_scale=settings.voice.length_scale)
    # the dictionaries, the number words (inflect's import, ~1.6 s) and the first run are
    # paid once when the voice loads, not by the first sentence (the run of 2026-12-01
    # warmed up without a number: its first sentence's RTF, 0.81, includes that import)
    voice.synthesize("Warming up at 5:30 pm.")
    whisper = WhisperEngine(resolve_model(settings.asr.model, "asr", settings.cache_path),
                            cpu_threads=settings.threads, language="en")
    items: list[dict[str, Any]] = []
    for index, text in enumerate(texts, start=1):
        wall, cpu = time.perf_counter(), time.process_time()
        samples, rate = voice.synthesize(text)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        audio_s = len(samples) / rate
        heard = whisper.transcribe_offline(to_16k(samples, rate), beam_size=5)
        meant, got = normalise(text), normalise(heard)
        row = {"text": text, "said": " ".join(voice.speakable(text)), "heard": heard,
               "wer": jiwer.wer(meant, got) if meant else 0.0, "audio_s": audio_s,
               "synthesis_s": wall, "real_time_factor": wall / audio_s if audio_s else None,
               "cpu_real_time_factor": cpu / audio_s if audio_s else None}
        items.append(row)
        if on_sentence is not None:
            on_sentence(index, len(texts), row)
    summary = summarise(items)
    summary.update({"voice": voice.name, "onnx_threads": 1, "asr_model": settings.asr.model})
    return {"summary": summary, "items": items, "targets": voice_targets(summary)}


def summarise(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the real-time factors over the sentences, corpus WER over all words."""
    rtf = [row["real_time_factor"] for row in items if row["real_time_factor"] is not None]
    cpu = [row["cpu_real_time_factor"] for row in items
           if row["cpu_real_time_factor"] is not None]
    meant = [normalise(row["text"]) for row in items]
    heard = [normalise(row["heard"]) for row in items]
    return {"sentences": len(items),
            "audio_s": sum(row["audio_s"] for row in items),
            "real_time_factor_median": statistics.median(rtf) if rtf else None,
            "real_time_factor_max": max(rtf) if rtf else None,
            "cpu_real_time_factor_median": statistics.median(cpu) if cpu else None,
            "wer": jiwer.wer(meant, heard) if items else None,
            "sentences_heard_exactly": sum(m == h for m, h in zip(meant, heard, strict=True))}


def voice_targets(summary: dict[str, Any]) -> dict[str, Any]:
    """Each target with its value and whether it is met (None: not measured)."""
    return threshold_targets("voice", VOICE_TARGETS, summary)


def voice_markdown(summary: dict[str, Any], items: Sequence[dict[str, Any]]) -> list[str]:
    """The report's "Voice" section."""
    lines = ["## Voice (English, one thread)", "",
             "| sentences | audio s | RTF median | RTF max | CPU RTF median | WER | "
             "heard exactly |", "|---:|---:|---:|---:|---:|---:|---:|",
             "| " + " | ".join(format_number(summary.get(key)) for key in (
                 "sentences", "audio_s", "real_time_factor_median", "real_time_factor_max",
                 "cpu_real_time_factor_median", "wer", "sentences_heard_exactly")) + " |", "",
             "| sentence | heard | WER | RTF |", "|---|---|---:|---:|"]
    for row in items:
        lines.append(f"| {row['text']} | {row['heard']} | {format_number(row['wer'])} | "
                     f"{format_number(row['real_time_factor'])} |")
    lines.append("")
    return lines
