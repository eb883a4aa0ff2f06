"""The product on real models: Silero → Whisper base → Qwen2.5-1.5B on the shared dev audio.

Assertions are on meaning-bearing content (numbers, names, coverage, no Chinese left,
nothing in silence), never on exact strings.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sacrebleu
from tests.conftest import read_jsonl

from hudtranslate.audio import file_chunks, read_audio_file
from hudtranslate.config import Settings
from hudtranslate.events import SAMPLE_RATE_HZ, Translation
from hudtranslate.pipeline import Event, PipelineResult, run_pipeline
from hudtranslate.translate.text import has_cjk

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]


class Shown:
    """Every English update the display received, partial and word-by-word ones too."""

    def __init__(self) -> None:
        self.updates: list[Translation] = []

    def handle(self, event: Event) -> None:
        if isinstance(event, Translation):
            self.updates.append(event)

    def close(self) -> None:
        pass


async def translate_audio(samples: Any, engines: Any, settings: Settings,
                          shown: Shown | None = None) -> PipelineResult:
    return await run_pipeline(file_chunks(samples, 100, False), engines, settings,
                              [shown] if shown else [])


def english(result: PipelineResult) -> str:
    return " ".join(t.committed for t in result.translations)


async def test_utterances_translate_with_meaning_intact(
    shared_data: Path, real_engines: Any, real_settings: Settings
) -> None:
    rows = read_jsonl(shared_data / "audio" / "utterances.jsonl")
    hypotheses, references = [], []
    for row in rows:
        samples = read_audio_file(shared_data / "audio" / row["wav"])
        result = await translate_audio(samples, real_engines, real_settings)
        text = english(result)
        assert result.translations, f"{row['id']}: no English for {row['zh']}"
        assert not has_cjk(text), f"{row['id']}: Chinese left in {text!r}"
        hypotheses.append(text)
        references.append(row["en_refs"][0])
        # names and numbers the sentence carries must come through
        if "汤姆" in row["zh"]:
            assert "Tom" in text, f"{row['id']}: name lost in {text!r}"
        if "三号" in row["zh"]:
            assert re.search(r"\b(3|3rd|three|third)\b", text, re.I), f"{row['id']}: {text!r}"
    chrf = sacrebleu.corpus_chrf(hypotheses, [references]).score
    logging.getLogger(__name__).warning("utterances chrF %.1f", chrf)
    assert chrf >= 38.0, f"chrF {chrf:.1f} on {len(rows)} utterances"


async def test_talk_covers_every_sentence_and_stays_quiet_in_pauses(
    shared_data: Path, real_engines: Any, real_settings: Settings
) -> None:
    talk = next(t for t in read_jsonl(shared_data / "audio" / "talks.jsonl")
                if t["id"] == "dev-talk2")
    samples = read_audio_file(shared_data / "audio" / talk["wav"])
    shown = Shown()
    result = await translate_audio(samples, real_engines, real_settings, shown)
    segments = talk["segments"]
    committed: dict[int, str] = {}
    for update in shown.updates:  # committed English only ever grows
        before = committed.get(update.utterance_id, "")
        assert update.committed.startswith(before), (before, update)
        committed[update.utterance_id] = update.committed
    assert len(shown.updates) > len(result.translations)  # English came before the finals

    def overlaps(t: Translation, seg: dict[str, float]) -> bool:
        return t.start_s < seg["end_s"] and t.end_s > seg["start_s"]

    for t in result.translations:
        assert any(overlaps(t, seg) for seg in segments), f"caption in a pause: {t}"
        assert t.committed and not has_cjk(t.committed), t
    covered = [any(overlaps(t, seg) for t in result.translations) for seg in segments]
    missing = [seg["zh"] for seg, ok in zip(segments, covered, strict=True) if not ok]
    assert not missing, f"sentences with no English: {missing}"
    hypothesis = english(result)
    reference = " ".join(seg["en_refs"][0] for seg in segments)
    chrf = sacrebleu.corpus_chrf([hypothesis], [[reference]]).score
    logging.getLogger(__name__).warning("%s chrF %.1f", talk["id"], chrf)
    assert chrf >= 35.0, f"chrF {chrf:.1f} on {talk['id']}"
    assert result.cpu_s_per_audio_s < 2.0  # coarse: the benchmark measures speed properly


async def test_silence_noise_and_music_give_no_captions(
    real_engines: Any, real_settings: Settings
) -> None:
    rng = np.random.default_rng(7)
    seconds = 6
    t = np.arange(seconds * SAMPLE_RATE_HZ) / SAMPLE_RATE_HZ
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 0.25 * t)
    music = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6, 440.0)) * 0.05
    signals = {
        "silence": np.zeros_like(t),
        "white noise": rng.normal(0, 0.05, t.shape),
        "music": music * envelope,
    }
    for name, signal in signals.items():
        result = await translate_audio(signal.astype(np.float32), real_engines, real_settings)
        assert result.translations == [], f"{name} produced {result.translations}"
