"""Grouping of completions decoded side by side (``translate/llama_batch.py``): pure."""

from __future__ import annotations

import pytest

from hudtranslate.translate.llama_batch import common_prefix, cut_at_stop, plan_groups


@pytest.mark.parametrize(("sizes", "room", "sequences", "groups"), [
    ([], 100, 4, []),
    ([10, 10, 10], 100, 4, [[0, 1, 2]]),
    ([10] * 6, 100, 4, [[0, 1, 2, 3], [4, 5]]),  # sequences run out
    ([40, 40, 40, 10], 100, 16, [[0, 1], [2, 3]]),  # KV cells run out
    ([150, 10], 100, 4, [[0], [1]]),  # too large for the room: alone (llama.cpp says why)
    ([10, 150, 10], 100, 4, [[0], [1], [2]]),
    ([5, 5], 10, 1, [[0], [1]]),
])
def test_completions_are_grouped_in_order_by_sequences_and_kv_room(
        sizes: list[int], room: int, sequences: int, groups: list[list[int]]) -> None:
    assert plan_groups(sizes, room, sequences) == groups


def test_a_group_needs_at_least_one_sequence() -> None:
    with pytest.raises(ValueError, match="max_sequences"):
        plan_groups([1], 10, 0)


def test_prefix_and_stops() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert cut_at_stop("Exit (Terms: 出口 = Exit)", ["(Terms:", "\n"]) == ("Exit ", True)
    assert cut_at_stop("Exit", ["\n"]) == ("Exit", False)
