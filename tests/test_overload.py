"""Graceful overload, the pure policy: levels, what they shed, hysteresis, whose turn."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hudtranslate.config import OverloadOptions, Settings
from hudtranslate.errors import ConfigError
from hudtranslate.overload import (
    LoadGovernor,
    LoadLevel,
    OverflowSwitch,
    ShedKind,
    TranslatorDemand,
    TurnRequest,
    next_turn,
    sheds,
    thresholds_s,
)

# Thresholds 1 / 2 / 3 s, raised after 0.5 s over, lowered after 2 s under half of them.
OPTIONS = OverloadOptions(partial_translations_lag_s=1.0, partial_decodes_lag_s=2.0,
                          final_beam_lag_s=3.0, raise_hold_s=0.5, recover_share=0.5,
                          recover_hold_s=2.0)

N, P, F, G = (LoadLevel.NORMAL, LoadLevel.NO_PARTIAL_ENGLISH, LoadLevel.FINALS_ONLY,
              LoadLevel.GREEDY_FINALS)


@pytest.mark.parametrize(("level", "shed"), [
    (N, set()),
    (P, {ShedKind.PARTIAL_TRANSLATION, ShedKind.PREPARE}),
    (F, {ShedKind.PARTIAL_TRANSLATION, ShedKind.PREPARE, ShedKind.PARTIAL_DECODE}),
    (G, set(ShedKind)),
])
def test_each_level_sheds_the_work_of_the_levels_below_and_its_own(
        level: LoadLevel, shed: set[ShedKind]) -> None:
    assert {kind for kind in ShedKind if sheds(level, kind)} == shed


def ramp(start_s: float, stop_s: float, backlog_s: float,
         step_s: float = 0.25) -> list[tuple[float, float]]:
    """Samples every ``step_s`` from ``start_s`` up to (not including) ``stop_s``."""
    count = round((stop_s - start_s) / step_s)
    return [(start_s + i * step_s, backlog_s) for i in range(count)]


SCENARIOS = {
    # name: (samples (now_s, backlog_s), the level after each sample)
    "quiet machine": (
        [(0.0, 0.0), (1.0, 0.5), (2.0, 0.99), (3.0, 0.2)], [N, N, N, N]),
    "one slow sentence is not overload": (
        [(0.0, 0.0), (0.1, 1.5), (0.4, 1.9), (0.55, 0.1), (2.0, 0.0)], [N, N, N, N, N]),
    "a standing backlog raises after the hold": (
        [(0.0, 1.2), (0.25, 1.3), (0.5, 1.4), (0.75, 1.5)], [N, N, P, P]),
    "a big backlog goes straight to the level it calls for": (
        [(0.0, 3.5), (0.25, 3.6), (0.5, 3.7)], [N, N, G]),
    "a growing backlog climbs level by level": (
        [(0.0, 1.0), (0.5, 1.5), (1.0, 2.2), (1.5, 2.8), (2.0, 3.1), (2.5, 3.3)],
        [N, P, P, F, F, G]),
    "backlog between recovery and threshold keeps the level": (
        [(0.0, 1.5), (0.5, 1.5), *ramp(1.0, 20.0, 0.6)], [N, P, *[P] * 76]),
    "recovery needs the backlog low for the hold": (
        [(0.0, 1.5), (0.5, 1.5), (1.0, 0.3), (2.0, 0.3), (2.9, 0.3), (3.0, 0.3)],
        [N, P, P, P, P, N]),
    "a short lull does not recover": (
        [(0.0, 1.5), (0.5, 1.5), (1.0, 0.3), (2.5, 0.3), (2.75, 0.9), (3.5, 0.3),
         (5.0, 0.3), (5.5, 0.3)],
        [N, P, P, P, P, P, P, N]),
    "recovery steps down one level per hold": (
        [(0.0, 4.0), (0.5, 4.0), (1.0, 0.1), (3.0, 0.1), (4.0, 0.1), (5.0, 0.1),
         (7.0, 0.1), (9.0, 0.1)],
        [N, G, G, F, F, P, N, N]),
    "flapping around a threshold never raises": (
        [(i * 0.25, 1.1 if i % 2 == 0 else 0.9) for i in range(40)], [N] * 40),
    "flapping around the recovery threshold never lowers": (
        [(0.0, 1.5), (0.5, 1.5), *[(1.0 + i * 0.25, 0.4 if i % 2 == 0 else 0.6)
                                   for i in range(40)]], [N, P, *[P] * 40]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_governor_levels_with_hysteresis(name: str) -> None:
    samples, expected = SCENARIOS[name]
    governor = LoadGovernor(OPTIONS)
    levels = [governor.update(now_s, backlog_s) for now_s, backlog_s in samples]
    assert levels == expected


def test_governor_with_shedding_off_stays_normal_and_reset_forgets() -> None:
    off = LoadGovernor(OverloadOptions(shed=False, raise_hold_s=0.0))
    assert [off.update(t, 100.0) for t in (0.0, 1.0, 2.0)] == [N, N, N]
    governor = LoadGovernor(OPTIONS)
    governor.update(0.0, 5.0)
    assert governor.update(1.0, 5.0) == G
    governor.reset()
    assert governor.level == N
    assert governor.update(1.1, 5.0) == N  # the hold starts again after a reset


def test_default_thresholds_leave_room_for_a_normal_sentence() -> None:
    """One wearer's normal work (a final decode and translation, ~1-2 s of backlog at
    most, README) must never reach level 1 with the defaults."""
    defaults = OverloadOptions()
    assert thresholds_s(defaults) == (2.5, 4.0, 6.0)
    governor = LoadGovernor(defaults)
    samples = [(t * 0.25, 2.4 if t % 8 < 6 else 0.0) for t in range(400)]
    assert {governor.update(now, backlog) for now, backlog in samples} == {N}


def test_overload_settings_are_checked_and_come_from_the_environment() -> None:
    settings = Settings.load(env={"HUDTRANSLATE_OVERLOAD_SHED": "false",
                                  "HUDTRANSLATE_OVERLOAD_FINAL_BEAM_LAG_S": "9"})
    assert settings.overload.shed is False and settings.overload.final_beam_lag_s == 9.0
    with pytest.raises(ConfigError, match="must grow"):
        OverloadOptions(partial_translations_lag_s=5.0, partial_decodes_lag_s=4.0)
    with pytest.raises(ConfigError, match="recover_share"):
        OverloadOptions(recover_share=0.0)
    with pytest.raises(ConfigError, match="check_interval_ms"):
        OverloadOptions(check_interval_ms=0)


def request(session: int, urgent: bool, ticket: int) -> TurnRequest:
    return TurnRequest(session, urgent, ticket)


TURNS: dict[str, tuple[Sequence[TurnRequest], dict[int, int], int]] = {
    # name: (waiting, last turn of each session, index served next)
    "first come": ([request(1, False, 1), request(2, False, 2)], {1: 4, 2: 4}, 0),
    "finals before optional work": ([request(1, False, 1), request(2, True, 2)], {}, 1),
    "a final waits for no partial of any session": (
        [request(1, False, 1), request(2, False, 2), request(3, True, 9)], {3: 99}, 2),
    "the session served longest ago first": (
        [request(1, True, 1), request(2, True, 2)], {1: 7, 2: 3}, 1),
    "a session never served before any other": (
        [request(1, True, 1), request(2, True, 2), request(3, True, 3)], {1: 1, 2: 2}, 2),
    "round-robin only among equals: urgency first": (
        [request(1, True, 5), request(2, False, 1)], {1: 9, 2: 0}, 0),
}


@pytest.mark.parametrize("name", TURNS)
def test_next_turn(name: str) -> None:
    waiting, last_served, expected = TURNS[name]
    assert next_turn(waiting, last_served) == expected


def test_next_turn_needs_someone_waiting() -> None:
    with pytest.raises(ValueError):
        next_turn([], {})


# Overflow from 1.5 s of backlog; back to the main model after 5 s under 0.75 s, the hold
# doubling with each relapse (the main model behind again < 30 s after taking over).
OVERFLOW = OverloadOptions(overflow_lag_s=1.5, recover_share=0.5, recover_hold_s=5.0)

OVERFLOW_SCENARIOS = {
    # name: (samples (now_s, backlog_s), on after each sample, hold_s after the last)
    "under the lag the main model translates": (
        [(0.0, 0.0), (1.0, 1.4), (2.0, 0.2)], [False, False, False], 5.0),
    "on at once, off after the hold": (
        [(0.0, 1.5), (1.0, 1.0), (2.0, 0.5), (6.9, 0.5), (7.0, 0.5)],
        [True, True, True, True, False], 5.0),
    "behind again soon after the return: the hold doubles": (
        [(0.0, 1.5), (1.0, 0.5), (6.0, 0.5), (10.0, 1.6), (11.0, 0.5), (20.9, 0.5),
         (21.0, 0.5)],
        [True, True, False, True, True, True, False], 10.0),
    "each relapse doubles it again, up to eight times": (
        [(0.0, 1.5), (1.0, 0.5), (6.0, 0.5),
         (7.0, 1.5), (8.0, 0.5), (18.0, 0.5),
         (19.0, 1.5), (20.0, 0.5), (40.0, 0.5),
         (41.0, 1.5), (42.0, 0.5), (82.0, 0.5),
         (83.0, 1.5), (84.0, 0.5), (123.9, 0.5)],
        [True, True, False, True, True, False, True, True, False, True, True, False,
         True, True, True], 40.0),
    "the main model kept up 30 s: the hold is back to its own": (
        [(0.0, 1.5), (1.0, 0.5), (6.0, 0.5), (10.0, 1.5), (11.0, 0.5), (21.0, 0.5),
         (51.0, 1.5)],
        [True, True, False, True, True, False, True], 5.0),
}


@pytest.mark.parametrize("name", OVERFLOW_SCENARIOS)
def test_overflow_switch_damps_flapping(name: str) -> None:
    samples, expected, hold_s = OVERFLOW_SCENARIOS[name]
    switch = OverflowSwitch(OVERFLOW)
    assert [switch.update(now_s, backlog_s) for now_s, backlog_s in samples] == expected
    assert switch.hold_s == hold_s


def test_overflow_switch_forgives_when_a_wearer_leaves_and_reset_forgets() -> None:
    switch = OverflowSwitch(OVERFLOW)
    for now_s, backlog_s in [(0.0, 1.5), (1.0, 0.5), (6.0, 0.5), (7.0, 1.5)]:
        switch.update(now_s, backlog_s)
    assert (switch.on, switch.hold_s) == (True, 10.0)
    switch.forgive()
    assert (switch.on, switch.hold_s) == (True, 5.0)  # still behind, the hold its own
    switch.update(8.0, 0.5)
    assert not switch.update(13.0, 0.5)
    switch.update(14.0, 1.5)
    switch.reset()
    assert (switch.on, switch.hold_s) == (False, 5.0)


def test_overflow_switch_keeps_the_small_model_while_the_main_one_could_not_keep_up() -> None:
    switch = OverflowSwitch(OVERFLOW)
    assert switch.update(0.0, 1.5, main_share=0.95)
    # the small model keeps the backlog low, but the main one would need 120 % of the time
    assert all(switch.update(now_s, 0.1, main_share=1.2) for now_s in range(1, 60))
    assert switch.update(60.0, 0.1, main_share=0.9)  # could keep up: the hold starts now
    assert switch.update(64.9, 0.1, main_share=0.9)
    assert not switch.update(65.0, 0.1, main_share=0.9)
    assert not switch.update(66.0, 0.1, main_share=1.5)  # a veto only ever delays a return


def test_translator_demand_scales_the_small_models_seconds_to_the_main_ones() -> None:
    demand = TranslatorDemand(window_s=20.0)
    assert demand.main_share(0.0) is None
    for end_s in (1.0, 2.0, 3.0):  # the main model: 1 s a sentence
        demand.record(end_s, 1.0, by_small=False)
    assert demand.main_share(3.0) == pytest.approx(1.0)  # its own: busy since 0 s
    for end_s in (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0):  # the small one: 0.4 s a sentence
        demand.record(end_s, 0.4, by_small=True)
    # 3 s of the main model's + 7 × 0.4 s × 2.5 of the small one's, over the 10 s seen
    assert demand.main_share(10.0) == pytest.approx((3.0 + 7.0) / 10.0)
    demand.record(25.0, 0.4, by_small=True)  # the window is the last 20 s from here on:
    assert demand.main_share(25.0) == pytest.approx(6 * 1.0 / 20.0)  # ended at 6-10 and 25
    assert demand.main_share(60.0) == 0.0  # nothing translated of late


def test_translator_demand_takes_each_models_median_call() -> None:
    demand = TranslatorDemand(window_s=20.0)
    for seconds in (9.0, 1.0, 1.0):  # one cold prompt does not make the main model slow
        demand.record(0.0 + seconds, seconds, by_small=False)
    demand.record(12.0, 0.5, by_small=True)
    assert demand.main_share(12.0) == pytest.approx((9.0 + 1.0 + 1.0 + 0.5 * 2.0) / 12.0)


# backlog, the main model's share of the last seconds, whether the overflow model takes over
OVERFLOW_ENTRY = [
    (1.4, 1.0, False),   # no backlog to speak of
    (1.5, 0.95, True),   # behind and saturated
    (1.5, 0.9, True),
    (1.5, 0.89, False),  # a burst the main model has the time to clear
    (2.9, 0.3, False),
    (3.0, 0.3, True),    # a stall: at any share
    (1.5, None, True),   # nothing timed yet: no veto
]


@pytest.mark.parametrize(("backlog_s", "share", "expected"), OVERFLOW_ENTRY)
def test_overflow_switch_takes_over_from_a_saturated_main_model_or_a_stall(
        backlog_s: float, share: float | None, expected: bool) -> None:
    switch = OverflowSwitch(OVERFLOW)
    assert switch.update(0.0, backlog_s, main_share=1.0, recent_share=share) is expected


def test_a_burst_left_to_the_main_model_does_not_start_the_recovery_hold() -> None:
    switch = OverflowSwitch(OVERFLOW)
    assert not switch.update(0.0, 2.0, recent_share=0.5)
    assert switch.update(1.0, 2.0, recent_share=0.95)  # saturated now
    assert switch.update(2.0, 1.0, recent_share=0.5)  # on: left only by the hold


def test_translator_demand_cannot_scale_the_small_models_seconds_without_the_main_ones(
        ) -> None:
    demand = TranslatorDemand(window_s=20.0)
    demand.record(1.0, 0.4, by_small=True)
    assert demand.main_share(1.0) is None


def test_translator_demand_counts_a_translation_under_way_and_a_shorter_window() -> None:
    demand = TranslatorDemand(window_s=20.0)
    demand.record(1.0, 1.0, by_small=False)  # 0-1 s
    call = demand.begin(12.0, by_small=False)  # under way from 12 s
    assert demand.main_share(16.0) == pytest.approx((1.0 + 4.0) / 16.0)
    assert demand.main_share(16.0, 8.0) == pytest.approx(4.0 / 8.0)  # 8-16 s
    assert demand.main_share(16.0, 60.0) == pytest.approx(5.0 / 20.0)  # at most the kept 20 s
    demand.record(17.0, 5.0, by_small=False, call=call)
    assert demand.main_share(17.0, 8.0) == pytest.approx(5.0 / 8.0)  # counted once


def test_a_relapse_goes_to_the_small_model_without_waiting_for_saturation() -> None:
    switch = OverflowSwitch(OVERFLOW)
    assert switch.update(0.0, 1.5, recent_share=0.95)
    assert switch.update(1.0, 0.5, main_share=0.5)  # calm: the hold starts
    assert not switch.update(6.0, 0.5, main_share=0.5)  # the main model takes over
    assert switch.update(20.0, 1.5, recent_share=0.5)  # behind again 14 s later
    assert switch.hold_s == 10.0
    switch.update(21.0, 0.1, main_share=0.5)
    assert not switch.update(31.0, 0.1, main_share=0.5)
    assert not switch.update(70.0, 1.5, recent_share=0.5)  # long after: a burst again


def test_translator_demand_over_a_fixed_window_counts_the_start_as_idle() -> None:
    demand = TranslatorDemand(window_s=20.0)
    assert demand.main_share(5.0, 8.0) == 0.0  # nothing translated: idle
    demand.begin(4.0, by_small=False)  # the first translation, under way
    assert demand.main_share(5.0) is None  # over the kept window: none timed yet
    assert demand.main_share(5.0, 8.0) == pytest.approx(1.0 / 8.0)
    demand.record(6.0, 0.5, by_small=True)  # the small model's, no main call timed yet
    assert demand.main_share(6.0, 8.0) == pytest.approx((2.0 + 0.5) / 8.0)
