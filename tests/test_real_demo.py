"""The bundled demo clip, chosen by ``scripts/choose_demo.py``, still comes out right."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sacrebleu

from hudtranslate.audio import file_chunks, read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.pipeline import run_pipeline
from hudtranslate.runner import demo_clip

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]


async def test_demo_captions_are_right(real_engines: Any, real_settings: Settings) -> None:
    chosen = json.loads(demo_clip().with_suffix(".json").read_text(encoding="utf-8"))
    parts = chosen["parts"]
    result = await run_pipeline(file_chunks(read_audio_file(demo_clip()), 100, False),
                                real_engines, real_settings)
    chinese = "".join(t.text for t in result.transcripts)
    assert corpus_cer(["".join(p["zh"] for p in parts)], [chinese]) <= 0.05, chinese
    english = " ".join(t.committed for t in result.translations)
    references = " ".join(p["en_refs"][0] for p in parts)
    assert sacrebleu.sentence_chrf(english, [references]).score >= 45.0, english
    questions = sum(p["zh"].rstrip().endswith("？") for p in parts)
    assert english.count("?") == questions, english
