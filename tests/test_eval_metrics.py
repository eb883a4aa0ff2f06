"""Benchmark metrics on hand-computed cases: erasure, emission times, latency, LAAL, BLEU."""

from __future__ import annotations

import pytest

from hudtranslate.eval.metrics import (
    RefSentence,
    Span,
    WordTrack,
    align_words,
    committed_track,
    corpus_quality,
    displayed_track,
    final_latencies,
    normalized_erasure,
    percentile,
    resegment,
    sentence_laal,
    stream_laal,
)
from hudtranslate.events import Translation


def tr(uid: int, committed: str, tentative: str, end_s: float, emitted_s: float,
       final: bool = False) -> Translation:
    return Translation(uid, "", committed, tentative, 0.0, end_s, final, emitted_s)


TALK = [
    tr(0, "", "I am", 1.0, 1.2),
    tr(0, "", "I was going", 2.0, 2.3),  # "am" erased
    tr(0, "I was going home", "", 2.5, 3.0, final=True),
    tr(1, "", "Good", 4.0, 4.4),
    tr(1, "Nice day", "", 4.5, 5.0, final=True),  # "Good" erased
]


def test_displayed_track_counts_suffix_erasures_and_keeps_first_times() -> None:
    track = displayed_track(TALK)
    assert track.words == ["I", "was", "going", "home", "Nice", "day"]
    assert track.erased == 2
    assert track.emitted_s == [1.2, 2.3, 2.3, 3.0, 5.0, 5.0]
    assert track.audio_s == [1.0, 2.0, 2.0, 2.5, 4.5, 4.5]
    assert normalized_erasure(track.erased, len(track.words)) == pytest.approx(2 / 6)


def test_committed_track_ignores_tentative_text() -> None:
    track = committed_track(TALK)
    assert track.words == ["I", "was", "going", "home", "Nice", "day"]
    assert track.erased == 0
    assert track.emitted_s == [3.0, 3.0, 3.0, 3.0, 5.0, 5.0]


def test_a_changed_word_counts_as_erased_and_everything_after_it() -> None:
    events = [tr(0, "", "a b c d", 1, 1), tr(0, "", "a x c d e", 2, 2),
              tr(0, "a x c d e", "", 3, 3, final=True)]
    track = displayed_track(events)
    assert track.erased == 3  # b c d
    assert track.emitted_s == [1, 2, 2, 2, 2]


def test_text_of_an_utterance_that_never_finished_counts_as_erased() -> None:
    events = [tr(0, "Hello", "", 1, 1, final=True), tr(1, "", "lost words", 2, 2)]
    track = displayed_track(events)
    assert track.words == ["Hello"]
    assert track.erased == 2
    assert normalized_erasure(0, 0) is None


def test_final_latency_uses_the_final_that_covers_the_sentence_end() -> None:
    segments = [(0.0, 2.0), (3.0, 5.0), (5.2, 6.0), (7.0, 8.0), (9.0, 10.0)]
    finals = [
        Span(0.0, 2.2, 2.9),    # covers segment 1
        Span(3.0, 4.0, 4.6),    # first half of segment 2 ...
        Span(4.3, 6.3, 7.1),    # ... its end, and all of segment 3 (merged by the VAD)
        Span(6.9, 7.85, 8.5),   # ends 0.15 s early: within the tolerance
        Span(8.95, 9.02, 9.5),  # touches segment 5 by 0.02 s only: not a translation of it
    ]
    assert final_latencies(segments, finals) == pytest.approx([0.9, 2.1, 1.1, 0.5, None])


def test_final_latency_of_a_sentence_never_finished_takes_the_last_piece() -> None:
    latencies = final_latencies([(0.0, 4.0)], [Span(0.0, 1.5, 2.0), Span(1.6, 3.0, 3.5)])
    assert latencies == pytest.approx([-0.5])


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([], 50) is None


def test_sentence_laal_on_toy_cases() -> None:
    # one word per second, as long as the reference: a constant lag of 1 s
    assert sentence_laal([1.0, 2.0, 3.0], 3.0, 3) == pytest.approx(1.0)
    # everything after the sentence ended: the first delay
    assert sentence_laal([4.0, 4.0], 3.0, 2) == pytest.approx(4.0)
    # gamma = max(4, 2) / 3; stops at the first word at/after the end (4.0)
    expected = (0.5 + (1.0 - 0.75) + (4.0 - 1.5)) / 3
    assert sentence_laal([0.5, 1.0, 4.0, 5.0], 3.0, 2) == pytest.approx(expected)


def test_stream_laal_resegments_the_stream_into_reference_sentences() -> None:
    track = WordTrack(words=["hello", "world", "good", "morning"],
                      audio_s=[0.5, 1.0, 2.5, 3.0], emitted_s=[1.0, 1.5, 3.0, 3.5])
    refs = [RefSentence(("Hello world.",), 0.0, 2.0),
            RefSentence(("Good morning.", "Morning!"), 2.0, 4.0)]
    cut = resegment(track, refs)
    assert cut.hypotheses == ["hello world", "good morning"]
    scores = stream_laal([(cut, refs)])
    # aware: delays [1.0, 1.5] in a 2 s sentence of 2 words: ((1 - 0) + (1.5 - 1)) / 2
    assert scores.computation_aware_s == pytest.approx(0.75)
    assert scores.ideal_s == pytest.approx(((0.5 - 0) + (1.0 - 1)) / 2)
    assert (scores.sentences, scores.empty) == (2, 0)


def test_sentences_without_output_are_skipped_and_counted() -> None:
    track = WordTrack(words=["hello", "world"], audio_s=[1.0, 1.0], emitted_s=[2.0, 2.0])
    refs = [RefSentence(("Hello world.",), 0.0, 2.0),
            RefSentence(("Something else entirely.",), 2.0, 4.0)]
    scores = stream_laal([(resegment(track, refs), refs)])
    assert (scores.sentences, scores.empty) == (1, 1)


def test_alignment_keeps_every_word_and_survives_odd_input() -> None:
    assert align_words([], ["a b", "c"]) == [[], []]
    assert align_words(["x"], []) == []
    words = ["###", "Cook", "the", "fish.", "She", "left"]
    pieces = align_words(words, ["Cook the fish.", "She ### left."])
    assert [w for piece in pieces for w in piece] == words
    assert len(pieces) == 2


def test_quality_uses_every_reference() -> None:
    perfect = corpus_quality(["It is raining today ."], [("It is raining today .",)])
    assert perfect.bleu == pytest.approx(100.0) and perfect.chrf == pytest.approx(100.0)
    second = corpus_quality(["Is it raining today?", "Let's go."],
                            [("Does it rain today?", "Is it raining today?"), ("Let's go.",)])
    assert second.bleu == pytest.approx(100.0)
    wrong = corpus_quality(["Completely different words here."], [("Let's go now.",)])
    assert wrong.bleu < 20 and wrong.chrf < 30
    with pytest.raises(ValueError):
        corpus_quality(["a"], [])
