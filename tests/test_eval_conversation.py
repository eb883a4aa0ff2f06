"""The converse benchmark's plumbing: turns placed in time, finals matched to turns,
direction and order scored; a whole run on fakes."""

from __future__ import annotations

import numpy as np
import pytest

from hudtranslate.config import Settings
from hudtranslate.eval.conversation import (
    Turn,
    alternate,
    conversation_markdown,
    conversation_targets,
    run_conversation,
    score_conversation,
    summarise_conversation,
)
from hudtranslate.events import SAMPLE_RATE_HZ, Translation
from hudtranslate.pipeline import Engines
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, tone_and_silence

pytestmark = pytest.mark.timeout(60)


def turn(id_: str, language: str, seconds: float) -> Turn:
    return Turn(id_, language, f"said {id_}", f"reference {id_}",
                np.ones(round(seconds * SAMPLE_RATE_HZ), dtype=np.float32))


def final(start_s: float, end_s: float, text: str, source_language: str) -> Translation:
    return Translation(0, "src", text, "", start_s, end_s, True, end_s + 1.0, "fake",
                       source_language=source_language)


def test_turns_alternate_mandarin_first_with_gaps_placed_in_time() -> None:
    turns, audio = alternate([turn("z1", "zh", 1.0), turn("z2", "zh", 2.0)],
                             [turn("e1", "en", 0.5)], gap_s=1.0)
    assert [t.id for t in turns] == ["z1", "e1", "z2"]
    assert [(t.start_s, t.end_s) for t in turns] == [(1.0, 2.0), (3.0, 3.5), (4.5, 6.5)]
    assert len(audio) == round(7.5 * SAMPLE_RATE_HZ)
    assert audio[: SAMPLE_RATE_HZ].max() == 0.0 and audio[SAMPLE_RATE_HZ] == 1.0


def test_finals_belong_to_the_turn_they_overlap_most_and_are_scored_by_direction() -> None:
    turns, _ = alternate([turn("z1", "zh", 2.0), turn("z2", "zh", 2.0)],
                         [turn("e1", "en", 2.0)], gap_s=1.0)
    finals = [final(0.9, 3.1, "reference z1", "zh"),
              final(4.0, 6.0, "参考", "zh"),  # the wearer's English taken as Mandarin
              final(7.0, 9.0, "reference z2", "zh")]
    rows, order = score_conversation(turns, finals)
    assert order == [0, 1, 2]
    assert [row["direction_correct"] for row in rows] == [True, False, True]
    assert rows[0]["chrf"] == 100.0 and rows[1]["directions"] == ["zh-en"]
    summary = summarise_conversation(rows, order)
    assert summary["turns"] == 3 and summary["direction_correct"] == 2
    assert summary["in_order"] is True and summary["chrf_zh_en"] == 100.0
    assert summary["final_delay_s_median_zh_en"] == 1.05  # median of 1.1 and 1.0 s
    targets = conversation_targets(summary)
    assert targets["converse turns in the right direction"]["met"] is False
    assert targets["converse finals in turn order"]["met"] is True
    assert any("参考" in line for line in conversation_markdown(summary, rows))


def test_a_later_turn_shown_first_is_out_of_order_and_a_silent_turn_is_untranslated() -> None:
    turns, _ = alternate([turn("z1", "zh", 2.0)], [turn("e1", "en", 2.0)], gap_s=1.0)
    rows, order = score_conversation(turns, [final(4.0, 6.0, "参考 e1", "en"),
                                             final(1.0, 3.0, "x", "zh")])
    summary = summarise_conversation(rows, order)
    assert order == [1, 0] and summary["in_order"] is False
    rows, order = score_conversation(turns, [final(4.0, 6.0, "参考", "en")])
    assert not rows[0]["translated"] and not rows[0]["direction_correct"]
    assert summarise_conversation(rows, order)["translated"] == 1


async def test_a_whole_conversation_runs_through_converse_mode_on_fakes() -> None:
    pattern = [(0.5, False), (1.0, True), (1.0, False), (1.0, True), (1.0, False)]
    audio = tone_and_silence(pattern)
    turns = [Turn("z", "zh", "你好", "hello", audio[8000:24000], 0.5, 1.5),
             Turn("e", "en", "thanks", "谢谢", audio[40000:56000], 2.5, 3.5)]
    engines = Engines(asr=FakeDecoder(["你好。", "thanks."], line_languages=("zh", "en")),
                      translator=FakeBackend(), vad_factory=FakeVad)
    finals = await run_conversation(audio, engines, Settings.load(env={}), realtime=False)
    rows, order = score_conversation(turns, finals)
    assert [row["directions"] for row in rows] == [["zh-en"], ["en-zh"]]
    assert summarise_conversation(rows, order)["in_order"] is True
