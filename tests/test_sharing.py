"""Fair turns at the shared models and the shared load, on the event loop (no models)."""

from __future__ import annotations

import asyncio
import time

import pytest

from hudtranslate.config import OverloadOptions
from hudtranslate.overload import LoadLevel, ShedKind
from hudtranslate.sharing import FairTurns, SessionLoad, SharedLoad

pytestmark = pytest.mark.timeout(30)

FAST = OverloadOptions(partial_translations_lag_s=0.1, partial_decodes_lag_s=0.2,
                       final_beam_lag_s=0.3, raise_hold_s=0.0, recover_hold_s=0.1,
                       check_interval_ms=10)


async def test_turns_go_to_finals_first_then_session_by_session() -> None:
    turns = FairTurns()
    order: list[str] = []
    assert await turns.acquire(1, urgent=False)  # free: granted at once
    assert turns.busy

    async def want(name: str, session: int, urgent: bool) -> None:
        assert await turns.acquire(session, urgent=urgent)
        order.append(name)
        await asyncio.sleep(0.01)
        turns.release()

    waiters = [asyncio.create_task(want("partial 2", 2, False)),
               asyncio.create_task(want("final 1", 1, True)),
               asyncio.create_task(want("final 3", 3, True)),
               asyncio.create_task(want("final 2", 2, True))]
    await asyncio.sleep(0.01)
    assert turns.waiting == 4
    turns.release()
    await asyncio.gather(*waiters)
    # finals first: 2 and 3 were never served, then 1 (served at the start); the partial last
    assert order == ["final 3", "final 2", "final 1", "partial 2"]
    assert not turns.busy and turns.waiting == 0


async def test_finals_together_hold_the_model_at_once_and_optional_work_waits() -> None:
    """The local model writes finals that reach it together side by side: their turns are
    held together; optional work waits until none is held, and a final that arrives while
    optional work holds it waits for that, then goes with every other waiting final."""
    turns = FairTurns()
    turns.finals_together = True
    assert await turns.acquire(1, urgent=True)
    assert await turns.acquire(2, urgent=True)  # beside the first: no waiting
    partial = asyncio.create_task(turns.acquire(3, urgent=False))
    await asyncio.sleep(0.01)
    assert not partial.done() and turns.waiting == 1
    turns.release()
    await asyncio.sleep(0.01)
    assert not partial.done()  # one final still holds the model
    turns.release()
    assert await partial
    finals = [asyncio.create_task(turns.acquire(session, urgent=True)) for session in (1, 2)]
    await asyncio.sleep(0.01)
    assert turns.waiting == 2  # optional work holds the model: finals wait
    turns.release()
    assert await asyncio.gather(*finals) == [True, True]  # granted together
    turns.release()
    turns.release()
    assert not turns.busy and turns.waiting == 0


async def test_a_waiter_gives_up_or_is_cancelled_without_holding_the_turn() -> None:
    turns = FairTurns()
    assert await turns.acquire(1, urgent=True)
    newer = asyncio.Event()
    giving_up = asyncio.create_task(turns.acquire(2, urgent=False, give_up=newer.is_set))
    cancelled = asyncio.create_task(turns.acquire(3, urgent=True))
    await asyncio.sleep(0.05)
    newer.set()
    assert await giving_up is False
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert turns.waiting == 0
    turns.release()
    assert not turns.busy  # nobody left to pass it to
    # cancelled just as it was granted: the turn passes on
    assert await turns.acquire(1, urgent=True)
    granted_then_cancelled = asyncio.create_task(turns.acquire(2, urgent=True))
    after = asyncio.create_task(turns.acquire(3, urgent=True))
    await asyncio.sleep(0.01)
    turns.release()  # grants session 2 (never served) ...
    granted_then_cancelled.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await granted_then_cancelled
    assert await asyncio.wait_for(after, 1.0) is True
    turns.release()


async def test_backlog_is_the_worst_session_and_each_session_sums_its_stages() -> None:
    now = [100.0]
    load = SharedLoad(FAST, clock=lambda: now[0])
    first, second = load.join(), load.join()
    first.watch("asr", lambda: 99.0)       # 1 s behind
    first.watch("mt", lambda: 99.5)        # and 0.5 s
    second.watch("asr", lambda: None)      # idle
    second.watch("mt", lambda: 98.0)       # 2 s behind
    assert first.backlog_s(now[0]) == pytest.approx(1.5)
    assert load.backlog_s() == pytest.approx(2.0)
    second.close()
    second.close()  # twice is fine
    assert load.sessions == 1 and load.backlog_s() == pytest.approx(1.5)
    first.close()
    assert load.backlog_s() == 0.0


async def test_sessions_shed_together_and_the_level_resets_when_all_have_gone() -> None:
    shed: list[ShedKind] = []
    now = [10.0]
    load = SharedLoad(FAST, on_shed=shed.append, clock=lambda: now[0])
    behind, quiet = load.join(), load.join()
    behind.watch("mt", lambda: 10.0)  # its oldest work has waited since 10.0
    assert load.check() == LoadLevel.NORMAL
    assert behind.admit(ShedKind.PARTIAL_TRANSLATION)  # not behind yet: admitted
    now[0] = 10.25
    assert load.check() == LoadLevel.FINALS_ONLY
    assert not quiet.admit(ShedKind.PARTIAL_TRANSLATION)  # every session sheds the same
    assert not behind.admit(ShedKind.PARTIAL_DECODE)
    assert quiet.admit(ShedKind.BEAM)  # not yet at level 3
    assert shed == [ShedKind.PARTIAL_TRANSLATION, ShedKind.PARTIAL_DECODE]
    assert load.shed_counts[ShedKind.PARTIAL_DECODE] == 1
    behind.close()
    assert load.level == LoadLevel.FINALS_ONLY  # one session left: the level stays
    quiet.close()
    assert load.level == LoadLevel.NORMAL


async def test_finals_are_written_together_only_while_the_sessions_are_behind() -> None:
    behind_calls: list[bool] = []
    now = [10.0]
    load = SharedLoad(FAST, on_behind=behind_calls.append,
                      clock=lambda: now[0])
    late, other = load.join(), load.join()
    late.watch("mt", lambda: 10.0)
    assert load.check() == LoadLevel.NORMAL and not load.turns["mt"].finals_together
    now[0] = 10.15
    assert load.check() == LoadLevel.NO_PARTIAL_ENGLISH
    assert load.turns["mt"].finals_together and behind_calls == [True]
    late.close()
    other.close()  # all gone: back to one after another
    assert not load.turns["mt"].finals_together and behind_calls == [True, False]
    alone = SharedLoad(FAST, clock=lambda: now[0])  # a model that cannot write together
    session = alone.join()
    session.watch("mt", lambda: 0.0)
    assert alone.check() >= LoadLevel.NO_PARTIAL_ENGLISH
    assert not alone.turns["mt"].finals_together
    session.close()


async def test_level_recovers_once_the_backlog_is_gone() -> None:
    load = SharedLoad(FAST)
    session = load.join()
    pending: list[float | None] = [time.monotonic() - 1.0]
    session.watch("asr", lambda: pending[0])
    load.check()
    assert load.level == LoadLevel.GREEDY_FINALS
    pending[0] = None
    for _ in range(200):
        if load.level == LoadLevel.NORMAL:
            break
        await asyncio.sleep(0.01)
    assert load.level == LoadLevel.NORMAL  # one level per 0.1 s of calm
    session.close()


async def test_no_turns_for_a_remote_translator_or_with_fair_turns_off() -> None:
    remote = [True]
    load = SharedLoad(FAST, translates_locally=lambda: not remote[0])
    first, second = load.join(), load.join()
    async with first.turn("mt", urgent=True) as granted, second.turn("mt", urgent=True) as too:
        assert granted and too  # both at once: the remote serves them in parallel
        assert not load.turns["mt"].busy
    remote[0] = False
    async with first.turn("mt", urgent=True):
        assert load.turns["mt"].busy
    unfair = SharedLoad(OverloadOptions(fair_turns=False))
    third = unfair.join()
    async with third.turn("asr", urgent=False) as granted:
        assert granted and not unfair.turns["asr"].busy
    for session in (first, second, third):
        session.close()


async def test_a_partial_waiting_for_its_turn_gives_up_when_newer_input_arrives() -> None:
    load = SharedLoad(FAST)
    final_session, partial_session = load.join(), load.join()
    newer = asyncio.Event()
    async with final_session.turn("mt", urgent=True):
        waiting = asyncio.create_task(_try_turn(partial_session, newer))
        await asyncio.sleep(0.05)
        newer.set()
        assert await waiting is False
    final_session.close()
    partial_session.close()


async def _try_turn(session: SessionLoad, newer: asyncio.Event) -> bool:
    async with session.turn("mt", urgent=False, give_up=newer.is_set) as granted:
        return granted


async def test_with_shedding_off_the_backlog_is_measured_but_nothing_is_shed() -> None:
    now = [10.0]
    load = SharedLoad(OverloadOptions(shed=False, raise_hold_s=0.0), clock=lambda: now[0])
    session = load.join()
    session.watch("mt", lambda: 0.0)
    assert load.check() == LoadLevel.NORMAL and load.backlog_s() == 10.0
    assert all(session.admit(kind) for kind in ShedKind)
    assert sum(load.shed_counts.values()) == 0
    session.close()


async def test_the_number_of_open_sessions_is_reported_as_it_changes() -> None:
    counts: list[int] = []
    load = SharedLoad(FAST, on_sessions=counts.append)
    first, second = load.join(), load.join()
    first.close()
    first.close()  # twice: counted once
    second.close()
    assert counts == [1, 2, 1, 0]


async def test_final_beams_are_for_a_session_alone_on_the_server() -> None:
    from hudtranslate.stages import _beam_allowed

    load = SharedLoad(FAST)
    first = load.join()
    assert _beam_allowed(None) and _beam_allowed(first)
    second = load.join()
    assert not _beam_allowed(first) and not _beam_allowed(second)
    second.close()
    assert _beam_allowed(first)
