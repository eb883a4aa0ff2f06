"""The speech queue's policy, as scripts of (action, time) steps and what each answers."""

from __future__ import annotations

from typing import Any

import pytest

from hudtranslate.speech_out.queue import SpeechItem, SpeechQueue


def item(utterance_id: int, arrived_s: float, text: str = "") -> SpeechItem:
    return SpeechItem(utterance_id, text or f"sentence {utterance_id}", "en", arrived_s)


def run(queue: SpeechQueue, script: list[tuple[Any, ...]]) -> list[Any]:
    """Steps: ("add", id, t) → accepted?; ("next", t) → id or None;
    ("cut", t) → should_cut; ("stale", t) → is the current item stale; ("done",)."""
    answers: list[Any] = []
    for step in script:
        if step[0] == "add":
            answers.append(queue.add(item(step[1], step[2])))
        elif step[0] == "next":
            said = queue.next(step[1])
            answers.append(said.utterance_id if said else None)
        elif step[0] == "cut":
            answers.append(queue.should_cut(step[1]))
        elif step[0] == "stale":
            current = queue.current
            answers.append(current is None or queue.is_stale(current, step[1]))
        else:
            queue.done()
            answers.append(None)
    return answers


SCRIPTS = {
    "in order when nothing is late": (
        [("add", 1, 0.0), ("next", 0.1), ("done",), ("add", 2, 2.0), ("next", 2.1)],
        [True, 1, None, True, 2]),
    "more than one caption behind is skipped": (
        [("add", 1, 0.0), ("add", 2, 0.5), ("add", 3, 1.0), ("next", 1.1)],
        [True, True, True, 2]),
    "too old is skipped": (
        [("add", 1, 0.0), ("add", 2, 7.0), ("next", 8.5), ("done",), ("next", 8.6)],
        [True, True, 2, None, None]),
    "an utterance is said once": (
        [("add", 1, 0.0), ("next", 0.1), ("add", 1, 0.5), ("done",), ("add", 1, 1.0),
         ("next", 1.1)],
        [True, 1, False, None, False, None]),
    "a repeated final replaces the waiting one": (
        [("add", 1, 0.0), ("add", 1, 0.4), ("next", 0.5)],
        [True, True, 1]),
    "no cut without a newer caption": (
        [("add", 1, 0.0), ("next", 0.0), ("cut", 30.0)],
        [True, 1, False]),
    "cut after talking over a newer caption for cut_after_s": (
        [("add", 1, 0.0), ("next", 0.0), ("add", 2, 1.0), ("cut", 3.9), ("cut", 4.0)],
        [True, 1, True, False, True]),
    "talking over counts from the start of the current item": (
        [("add", 1, 0.0), ("add", 2, 0.2), ("next", 1.0), ("cut", 3.9), ("cut", 4.0)],
        [True, True, 1, False, True]),
    "two newer captions cut at once": (
        [("add", 1, 0.0), ("next", 0.0), ("add", 2, 1.0), ("add", 3, 1.5), ("cut", 1.5)],
        [True, 1, True, True, True]),
    "synthesis that took too long makes the item stale": (
        [("add", 1, 0.0), ("next", 0.0), ("stale", 0.5), ("add", 2, 0.6), ("add", 3, 0.7),
         ("stale", 0.8)],
        [True, 1, False, True, True, True]),
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_queue_scripts(name: str) -> None:
    script, expected = SCRIPTS[name]
    assert run(SpeechQueue(max_wait_s=8.0, max_captions_behind=1, cut_after_s=3.0),
               script) == expected


def test_counts_dropped_and_cut() -> None:
    queue = SpeechQueue(max_wait_s=8.0, max_captions_behind=1, cut_after_s=3.0)
    for number in range(1, 5):
        queue.add(item(number, 0.0))
    said = queue.next(0.1)
    assert said is not None and said.utterance_id == 3 and queue.dropped == 2
    queue.done(cut=True)
    assert queue.cut == 1 and queue.current is None
    assert [waiting.utterance_id for waiting in queue.waiting] == [4]


def test_zero_behind_says_only_the_newest() -> None:
    queue = SpeechQueue(max_wait_s=8.0, max_captions_behind=0, cut_after_s=3.0)
    assert run(queue, [("add", 1, 0.0), ("add", 2, 0.1), ("next", 0.2), ("add", 3, 0.3),
                       ("cut", 0.3)]) == [True, True, 2, True, True]
