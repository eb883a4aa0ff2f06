"""Completions side by side (``llama_batch``), cuts of the evaluated prompt (``llama_cache``)."""

from __future__ import annotations

import pytest

from hudtranslate.translate.llama_batch import (
    common_prefix,
    cut_at_stop,
    evaluation_start,
    plan_groups,
)
from hudtranslate.translate.llama_cache import find_cut


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


@pytest.mark.parametrize(("cached", "total", "whole", "start"), [
    (100, 112, 16, 96),   # 12 new tokens: 16 evaluated, 4 of them again
    (100, 111, 16, 95),   # 11: the shortest batch that is padded
    (100, 115, 16, 99),   # 15
    (100, 110, 16, 100),  # 10 cost less than 16: as they are
    (100, 105, 16, 100),  # the separate ~5-token prefill between sentences
    (100, 116, 16, 100),  # a whole batch already
    (100, 140, 16, 100),
    (0, 12, 16, 0),       # a prompt shorter than a whole batch: nothing to take again
    (100, 112, 0, 100),   # no AVX-512 kernel: never padded
    (112, 112, 16, 111),  # all cached: the last token again, for its logits
    (112, 112, 0, 111),
])
def test_short_prompt_batches_are_padded_to_a_whole_batch(
        cached: int, total: int, whole: int, start: int) -> None:
    assert evaluation_start(cached, total, whole) == start


def test_a_group_needs_at_least_one_sequence() -> None:
    with pytest.raises(ValueError, match="max_sequences"):
        plan_groups([1], 10, 0)


def test_prefix_and_stops() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert cut_at_stop("Exit (Terms: 出口 = Exit)", ["(Terms:", "\n"]) == ("Exit ", True)
    assert cut_at_stop("Exit", ["\n"]) == ("Exit", False)


@pytest.mark.parametrize(("cached", "tokens", "cut"), [
    # the examples (1, 2), then turns 10-19 and 20-39; turn 10-19 dropped
    ([1, 2, *range(10, 40)], [1, 2, *range(20, 40), 7, 8], (2, 12, 20)),
    ([1, 2, 3], [1, 2, 3, 4], None),  # the prompt only grows
    ([1, 2, *range(10, 40)], [1, 2, 99, 98], None),  # differs otherwise
    ([1, 2, *range(10, 40)], [1, 2, *range(30, 40)], None),  # too little kept (10 < 16)
])
def test_a_span_cut_from_the_evaluated_prompt_is_found(
        cached: list[int], tokens: list[int], cut: tuple[int, int, int] | None) -> None:
    assert find_cut(cached, tokens) == cut
    if cut is not None:
        start, end, kept = cut
        assert cached[:start] + cached[end : end + kept] == tokens[: start + kept]


def test_a_cut_between_turns_that_open_alike() -> None:
    turn = [5, 6, 7, 8]  # every turn opens alike
    cached = [1, *turn, *range(10, 20), *turn, *range(20, 40)]
    tokens = [1, *turn, *range(20, 40)]
    assert find_cut(cached, tokens, min_kept=4) == (5, 19, 20)
