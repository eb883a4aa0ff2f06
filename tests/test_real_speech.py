"""Real people's speech and speech without pauses, on the real models (issue 9).

Assertions are on meaning-bearing content (numbers, names, a question kept a question)
and on what segmentation must guarantee (units of at most 8 s, no words lost or said
twice at a cut), never on exact strings.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import jiwer
import pytest
from tests.conftest import read_jsonl

from hudtranslate.audio import file_chunks, read_audio_file
from hudtranslate.config import Settings
from hudtranslate.eval.cer import corpus_cer, normalize_for_cer
from hudtranslate.pipeline import PipelineResult, run_pipeline
from hudtranslate.translate.glossary import Glossary
from hudtranslate.translate.text import has_cjk

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]

REAL_CLIPS = {
    # clip: patterns the English must carry (what the speaker meant, any wording)
    # real-006 and real-011 need the same-sound repair (压碎钱 → 压岁钱, 偏章 → 篇章)
    "real-006": [r"\bNew Year"],
    "real-011": [r"\bchapter\b"],
    # real-016 needs the same-sound repairs heard by Whisper (华学 → 滑雪 "skiing", 加荡 →
    # 家当 "belongings": 5-7 nats as words, under the 10-nat margin of the word model alone;
    # 家当 is also checked in the Chinese, below). The 1.5B writes 全部家当 "all one owns" as
    # "all their belongings" or as "everything" depending on one character elsewhere in
    # the sentence (带著 / 带着, twenty-third session): either carries it
    "real-016": [r"\bski", r"\b(belongings|possessions|everything)\b"],
    "real-012": [r"\brun(ning)?\b", r"\bhealth"],
    "real-018": [r"\b7:30\b|\bseven[- ]thirty\b|\bhalf past seven\b",
                 r"\b9:30\b|\bnine[- ]thirty\b|\bhalf past nine\b", r"\bMonday\b",
                 r"\bFriday\b"],
    "real-027": [r"\bgift|present\b", r"\b(mom|mother|mum)\b", r"\baquarium|ocean\b", r"\?\s*$"],
}

HEARD_WORDS = {
    # clip: words that only a same-sound repair writes (what Whisper base heard: 加荡)
    "real-016": ["家当"],
}


async def run(samples: Any, engines: Any, settings: Settings) -> PipelineResult:
    return await run_pipeline(file_chunks(samples, 100, False), engines, settings)


def english(result: PipelineResult) -> str:
    return " ".join(t.committed for t in result.translations)


@pytest.mark.parametrize("clip", sorted(REAL_CLIPS))
async def test_real_recordings_keep_their_meaning(
    clip: str, shared_data: Path, real_engines: Any, real_settings: Settings
) -> None:
    row = next(r for r in read_jsonl(shared_data / "real" / "real.jsonl") if r["id"] == clip)
    result = await run(read_audio_file(shared_data / "real" / row["wav"]), real_engines,
                       real_settings)
    text = english(result)
    assert not has_cjk(text), text
    for pattern in REAL_CLIPS[clip]:
        assert re.search(pattern, text, re.IGNORECASE), f"{clip}: {pattern!r} not in {text!r}"
    chinese = "".join(t.text for t in result.transcripts)
    assert corpus_cer([row["zh"]], [chinese]) <= 0.2, chinese
    for word in HEARD_WORDS.get(clip, ()):
        assert word in chinese, f"{clip}: {word} not in {chinese!r}"


async def test_nonstop_speech_is_cut_into_short_units_without_losing_or_repeating_words(
    shared_data: Path, real_engines: Any, real_settings: Settings
) -> None:
    cases = shared_data.parent / "cases"
    case = next(c for c in read_jsonl(cases / "cases.jsonl") if c["id"] == "06-nonstop-speech")
    result = await run(read_audio_file(cases / case["file"]), real_engines, real_settings)
    units = [t.end_s - t.start_s for t in result.transcripts]
    assert len(units) >= 12 and max(units) <= 8.0 + 0.05, units
    reference = normalize_for_cer(case["zh"])
    heard = normalize_for_cer("".join(t.text for t in result.transcripts))
    words = jiwer.process_characters(reference, heard)
    # words said twice at a cut are insertions, words lost at a cut are deletions
    assert words.insertions <= 0.03 * len(reference), (words.insertions, heard)
    assert words.deletions <= 0.05 * len(reference), (words.deletions, heard)
    text = english(result)
    # Four sentences name 汤姆; Whisper base hears it as 汤墓 or 汤木 in one or two of them
    # and the translator restores "Tom" from context in some (a coin flip between model
    # files): three of four is what a cut that lost or garbled a sentence would break.
    assert text.count("Tom") >= 3 and not has_cjk(text), text


async def test_names_in_the_glossary_are_heard_as_written(
    shared_data: Path, real_engines: Any, real_settings: Settings
) -> None:
    """In the first 30 s of the nonstop case Whisper base writes 汤墓, 汤木 and 马利 for
    three of the six names; with the names in the glossary they are restored by their
    sound (``translate/heard_terms.py``) and each is translated."""
    cases = shared_data.parent / "cases"
    case = next(c for c in read_jsonl(cases / "cases.jsonl") if c["id"] == "06-nonstop-speech")
    audio = read_audio_file(cases / case["file"])[: 30 * 16_000]
    said = "".join(row["zh"] for row in case["segments"] if row["start_s"] < 29.0)
    names = {"汤姆": "Tom", "玛丽": "Mary", "约翰": "John"}
    assert [said.count(name) for name in names] == [4, 1, 1]
    engines = dataclasses.replace(real_engines, glossary=Glossary(terms=names))
    result = await run(audio, engines, real_settings)
    heard = "".join(t.text for t in result.transcripts)
    text = english(result)
    for chinese, name in names.items():
        assert heard.count(chinese) >= said.count(chinese), heard
        assert name in text, text
