"""Language identification scoring with a fake decoder."""

from __future__ import annotations

from hudtranslate.eval.languages import (
    SpokenItem,
    identify,
    language_targets,
    languages_markdown,
    summarise_languages,
)
from hudtranslate.testing import FakeDecoder, tone_and_silence


def test_each_utterance_is_scored_against_the_language_it_was_said_in() -> None:
    # FakeDecoder hears line k from the k-th pitch; line_languages says which language
    lines = tone_and_silence([(1.0, True), (0.5, False), (1.0, True)])
    first, second = lines[:16_000], lines[24_000:]
    decoder = FakeDecoder(["你好", "hello"], line_languages=("zh", "en"))
    items = [SpokenItem("a", "zh", first), SpokenItem("b", "en", second),
             SpokenItem("c", "en", first)]
    rows = identify(decoder, items)
    assert [row["detected"] for row in rows] == ["zh", "en", "zh"]
    assert [row["correct"] for row in rows] == [True, True, False]
    summary = summarise_languages(rows)
    assert summary["accuracy"] == round(2 / 3, 4)
    assert summary["accuracy_zh"] == 1.0 and summary["accuracy_en"] == 0.5
    assert summary["errors"] == ["c (en heard as zh)"]
    assert language_targets(summary)["language-id accuracy"]["met"] is False
    assert any("heard" in line for line in languages_markdown(summary, rows))
    # each item is decoded twice: detecting, then with its language fixed
    assert len(decoder.calls) == 6


def test_no_items_no_accuracy() -> None:
    summary = summarise_languages([])
    assert language_targets(summary)["language-id accuracy"]["met"] is None
    assert summary == {"utterances": 0}
