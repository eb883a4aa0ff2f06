"""Graceful overload, the running part: the sessions of one server share the cores fairly
and shed optional work together when the cores fall behind (policy: ``overload.py``).

One ``SharedLoad`` per server (``SessionManager`` makes it); each stream joins it for
a ``SessionLoad``, which its stages use three ways:

* ``watch``: the recognition and translation stages report their input queues
  (``stages.Batches.pending_since``); a session's *backlog* is how long the oldest
  unfinished input of each stage has waited, summed over the stages (wall-clock
  seconds). A task samples the worst session's backlog into the ``LoadGovernor`` every
  ``check_interval_ms`` while any session is open;
* ``admit(kind)``: asked before each piece of optional work; False means shed it (and it
  is counted, for ``hudtranslate_shed_total``);
* ``turn(model, urgent=…)``: a turn at the shared Whisper (``"asr"``) or llama.cpp
  (``"mt"``) model, granted by ``FairTurns`` finals first and then session by session.
  Without turns, whichever session's thread grabs the model's lock goes next: one
  session's partial work could hold up another's finals. Remote translation (a healthy
  ``FallbackBackend``) takes no turns: it does not use the local cores and serves
  sessions in parallel.

Everything here runs on the event loop thread (the sessions of one server share it):
turns are futures, never a blocked worker thread, so a partial translation waiting for
its turn gives up as soon as newer input for it arrives. Times are ``time.monotonic``
seconds, the clock of ``Batches``' stamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

from hudtranslate.config import OverloadOptions
from hudtranslate.overload import (
    ENTER_WINDOW_S,
    LoadGovernor,
    LoadLevel,
    OverflowSwitch,
    ShedKind,
    TurnRequest,
    next_turn,
    sheds,
)

log = logging.getLogger(__name__)

Model = Literal["asr", "mt"]

_GIVE_UP_POLL_S = 0.02
"""How often a waiter that may give up asks whether it should."""


def _unknown_share(now_s: float, window_s: float | None) -> float | None:
    return None


def _always() -> bool:
    return True


class FairTurns:
    """Turns at one shared model for the sessions of one event loop, in ``next_turn``
    order. The model's own lock still makes its calls thread-safe; the turns decide whose
    call comes next. A free model is granted at once, without yielding to the loop.

    ``finals_together`` (``SharedLoad`` sets it): urgent turns (finals) are held by every
    session that wants one at the same time, as long as only finals hold the model: the
    local translation model writes the sentences that reach it together side by side
    (``LlamaEngine.generate``), so they are not made to queue here one by one.
    """

    def __init__(self) -> None:
        self.finals_together = False
        self._holders = 0
        self._optional_held = False
        self._waiting: list[tuple[TurnRequest, asyncio.Future[None]]] = []
        self._last_served: dict[int, int] = {}
        self._served = 0
        self._tickets = 0

    @property
    def busy(self) -> bool:
        return self._holders > 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _joins(self, urgent: bool) -> bool:
        """May a request be granted now, beside whoever holds the model?"""
        if self._holders == 0:
            return not self._waiting
        return self.finals_together and urgent and not self._optional_held

    async def acquire(self, session: int, *, urgent: bool,
                      give_up: Callable[[], bool] | None = None) -> bool:
        """Wait for this session's turn; True once it holds it (call ``release`` after),
        False if ``give_up()`` turned true while it waited (it holds nothing then)."""
        if self._joins(urgent):
            self._grant(session, urgent)
            return True
        self._tickets += 1
        entry = (TurnRequest(session, urgent, self._tickets),
                 asyncio.get_running_loop().create_future())
        self._waiting.append(entry)
        future = entry[1]
        try:
            while not future.done():
                # asyncio.wait never cancels the future: a cancelled waiter is cleaned up below.
                await asyncio.wait({future}, timeout=_GIVE_UP_POLL_S if give_up else None)
                if not future.done() and give_up is not None and give_up():
                    self._waiting.remove(entry)
                    return False
        except asyncio.CancelledError:
            if entry in self._waiting:
                self._waiting.remove(entry)
            elif future.done():  # granted as it was cancelled: pass the turn on
                self.release()
            raise
        return True

    def release(self) -> None:
        """End one holder's turn; once nobody holds the model, grant the next one (and,
        with ``finals_together``, every final waiting beside it)."""
        self._holders -= 1
        if self._holders > 0:
            return
        self._optional_held = False
        if not self._waiting:
            return
        index = next_turn([request for request, _ in self._waiting], self._last_served)
        request, future = self._waiting.pop(index)
        self._grant(request.session, request.urgent)
        future.set_result(None)
        if self.finals_together and request.urgent:
            for entry in [entry for entry in self._waiting if entry[0].urgent]:
                self._waiting.remove(entry)
                self._grant(entry[0].session, True)
                entry[1].set_result(None)

    def forget(self, session: int) -> None:
        """The session has ended: drop its round-robin history."""
        self._last_served.pop(session, None)

    def _grant(self, session: int, urgent: bool) -> None:
        self._holders += 1
        self._optional_held = self._optional_held or not urgent
        self._served += 1
        self._last_served[session] = self._served


class SharedLoad:
    """The load of one server's sessions: the governor, the turns, the shed counts.

    ``translates_locally()`` says whether translation runs on this machine now (False
    while a remote model answers: no turns are taken for it). ``on_shed`` hears every
    piece of work shed (the server's metrics); ``on_sessions`` the number of open
    sessions each time it changes. ``on_behind``: a local translation model that can
    write finals reaching it at the same time side by side; while the sessions are behind
    (load level 1 and up) ``on_behind(True)`` tells it to, and their turns are held
    together (``FairTurns``). On time, one after another is faster
    for each sentence (two wearers: p95 2.1-2.4 s against 2.7-2.9 s side by side,
    docs/benchmark.md); behind, side by side serves more sentences a second.
    """

    def __init__(self, options: OverloadOptions, *,
                 translates_locally: Callable[[], bool] = _always,
                 on_shed: Callable[[ShedKind], None] | None = None,
                 on_sessions: Callable[[int], None] | None = None,
                 on_behind: Callable[[bool], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self._on_sessions = on_sessions
        self._on_behind = on_behind
        self.governor = LoadGovernor(options)
        self.turns: dict[Model, FairTurns] = {"asr": FairTurns(), "mt": FairTurns()}
        self.translates_locally = translates_locally
        self.shed_counts: dict[ShedKind, int] = dict.fromkeys(ShedKind, 0)
        self._on_shed = on_shed
        self._clock = clock
        self._sessions: dict[int, SessionLoad] = {}
        self._joined = 0
        self._ticker: asyncio.Task[None] | None = None
        self.overflow = OverflowSwitch(options)
        """Whether finals go to the overflow model now (``behind``); fed by ``check``."""
        self.has_overflow = False
        """Whether an overflow model is in use and follows ``behind`` (set by the server
        once it has loaded)."""
        self.main_share: Callable[[float, float | None], float | None] = _unknown_share
        """How busy the main translation model would be writing every translation of a
        window of late (``OverflowBackend.main_share``, given ``clock``'s now and the
        window's seconds, None for its longest); set by the server."""

    @property
    def level(self) -> LoadLevel:
        return self.governor.level

    @property
    def sessions(self) -> int:
        return len(self._sessions)

    def backlog_s(self) -> float:
        """The worst open session's backlog now, in seconds (0 with none open)."""
        now = self._clock()
        return max((session.backlog_s(now) for session in self._sessions.values()),
                   default=0.0)

    def behind(self) -> bool:
        """Should finals go to the overflow model (``translate/overflow.py``) now? From the
        worst backlog, with a recovery hold that grows while the main model keeps falling
        behind again (``overload.OverflowSwitch``: going back to the main model costs it
        each session's context turns written meanwhile, so it must not flap), and only
        while translation runs on this machine's cores. Safe from any thread."""
        return self.overflow.on and self.translates_locally()

    def _follow_overflow(self, now_s: float, backlog_s: float) -> None:
        was = self.overflow.on
        main_share = self.main_share(now_s, None)
        recent_share = self.main_share(now_s, ENTER_WINDOW_S)
        if (self.overflow.update(now_s, backlog_s, main_share, recent_share) != was
                and self.has_overflow):
            log.info("%s: worst backlog %.2f s", "behind: the overflow model translates"
                     if self.overflow.on else "caught up: the main model translates again",
                     backlog_s, extra={"event": "overflow", "on": self.overflow.on,
                                       "backlog_s": round(backlog_s, 3),
                                       "hold_s": self.overflow.hold_s,
                                       "main_share": main_share,
                                       "recent_share": recent_share})

    def check(self) -> LoadLevel:
        """Sample the backlog into the governor now (the ticker does this regularly)."""
        before = self.governor.level
        backlog, now_s = self.backlog_s(), self._clock()
        self._follow_overflow(now_s, backlog)
        level = self.governor.update(now_s, backlog)
        if level != before:
            log.info("load level %d (%s): worst backlog %.2f s over %d sessions", level,
                     level.name.lower(), backlog, len(self._sessions),
                     extra={"event": "load_level", "level": int(level),
                            "backlog_s": round(backlog, 3), "sessions": len(self._sessions)})
            self._level_changed(level)
        return level

    def _level_changed(self, level: LoadLevel) -> None:
        behind = level >= LoadLevel.NO_PARTIAL_ENGLISH
        self.turns["mt"].finals_together = self._on_behind is not None and behind
        if self._on_behind is not None:
            self._on_behind(behind)

    def join(self) -> SessionLoad:
        """A new session (call on the running event loop); ``close`` it when it ends."""
        self._joined += 1
        session = SessionLoad(self, self._joined)
        self._sessions[session.session] = session
        if self._on_sessions is not None:
            self._on_sessions(len(self._sessions))
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return session

    def count_shed(self, kind: ShedKind) -> None:
        self.shed_counts[kind] += 1
        if self._on_shed is not None:
            self._on_shed(kind)

    def _leave(self, session: SessionLoad) -> None:
        self._sessions.pop(session.session, None)
        if self._on_sessions is not None:
            self._on_sessions(len(self._sessions))
        for turns in self.turns.values():
            turns.forget(session.session)
        if not self._sessions:
            if self._ticker is not None:
                self._ticker.cancel()
                self._ticker = None
            self.governor.reset()  # nobody left: no load, and no history to recover from
            self.overflow.reset()
            self._level_changed(self.governor.level)
        else:
            self.overflow.forgive()

    async def _tick(self) -> None:
        interval_s = self.options.check_interval_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            self.check()


class SessionLoad:
    """One session's part of the ``SharedLoad`` (see the module doc)."""

    def __init__(self, shared: SharedLoad, session: int) -> None:
        self.shared = shared
        self.session = session
        self._queues: dict[str, Callable[[], float | None]] = {}
        self._closed = False

    @property
    def level(self) -> LoadLevel:
        return self.shared.level

    def watch(self, stage: str, pending_since: Callable[[], float | None]) -> None:
        """Count ``stage``'s queue in this session's backlog: ``pending_since()`` is the
        monotonic time its oldest unfinished input arrived, None when it has none."""
        self._queues[stage] = pending_since

    def backlog_s(self, now_s: float) -> float:
        """Seconds the oldest unfinished input of each watched stage has waited, summed."""
        total = 0.0
        for pending_since in self._queues.values():
            since = pending_since()
            if since is not None:
                total += max(0.0, now_s - since)
        return total

    def admit(self, kind: ShedKind) -> bool:
        """May optional work of ``kind`` run now? False: shed it (counted)."""
        if sheds(self.shared.level, kind):
            self.shared.count_shed(kind)
            return False
        return True

    @contextlib.asynccontextmanager
    async def turn(self, model: Model, *, urgent: bool,
                   give_up: Callable[[], bool] | None = None) -> AsyncIterator[bool]:
        """Hold a turn at ``model`` for the body; yields False (no turn held: skip the
        work) if ``give_up()`` turned true while waiting. ``urgent``: final work."""
        shared = self.shared
        if not shared.options.fair_turns or (model == "mt" and not shared.translates_locally()):
            yield True
            return
        turns = shared.turns[model]
        granted = await turns.acquire(self.session, urgent=urgent, give_up=give_up)
        try:
            yield granted
        finally:
            if granted:
                turns.release()

    def close(self) -> None:
        """The session has ended (safe to call twice)."""
        if not self._closed:
            self._closed = True
            self.shared._leave(self)
