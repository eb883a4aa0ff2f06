"""Graceful overload, the pure part: load levels, what each one sheds, the governor that
picks the level from the sessions' backlog, and whose turn it is at a shared model.

Two cores shared by several wearers cannot always keep up. Final English is what a
wearer waits for; everything else is optional and goes first, in this order:

=====  ======================  ===========================================================
level  name                    shed (on top of the levels before)
=====  ======================  ===========================================================
0      ``NORMAL``              nothing: exactly what one wearer alone gets
1      ``NO_PARTIAL_ENGLISH``  partial translations (tentative English, mid-sentence
                               commits) and prompt prefills between sentences
2      ``FINALS_ONLY``         partial re-decodes of the sentence in progress
3      ``GREEDY_FINALS``       final decodes' beam search (beam 1 instead of 3)
=====  ======================  ===========================================================

The order is by what the work buys the wearer per CPU-second: a partial translation
costs a llama.cpp generation (and, with several wearers, re-evaluating that wearer's
context after another one's) for English that is replaced within a second or two;
partial decodes cost a Whisper decode a second per wearer and give the Chinese line and
the early sentence finals; the final beam costs about twice a greedy decode and buys a
little recognition accuracy on every sentence, so it is the last to go.

``LoadGovernor`` is a state machine over ``(now_s, backlog_s)`` samples with hysteresis
(``OverloadOptions``): up a level once the backlog has stayed over its threshold for
``raise_hold_s``, down one level once it has stayed under ``recover_share`` × the
level's threshold for ``recover_hold_s``. ``next_turn`` picks who goes next at a shared
model: finals before optional work, then the session served longest ago (round-robin),
then first come. Both are pure and tested table-driven; ``sharing.py`` runs them.
"""

from __future__ import annotations

import collections
import enum
import statistics
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hudtranslate.config import OverloadOptions


class LoadLevel(enum.IntEnum):
    """How much optional work is shed now (see the module doc's table)."""

    NORMAL = 0
    NO_PARTIAL_ENGLISH = 1
    FINALS_ONLY = 2
    GREEDY_FINALS = 3


class ShedKind(enum.StrEnum):
    """Kinds of optional work (the ``kind`` label of ``hudtranslate_shed_total``)."""

    PARTIAL_TRANSLATION = "partial_translation"
    PREPARE = "prepare"
    PARTIAL_DECODE = "partial_decode"
    BEAM = "beam"


SHED_FROM: Mapping[ShedKind, LoadLevel] = {
    ShedKind.PARTIAL_TRANSLATION: LoadLevel.NO_PARTIAL_ENGLISH,
    ShedKind.PREPARE: LoadLevel.NO_PARTIAL_ENGLISH,
    ShedKind.PARTIAL_DECODE: LoadLevel.FINALS_ONLY,
    ShedKind.BEAM: LoadLevel.GREEDY_FINALS,
}
"""The level from which each kind of work is shed."""


def sheds(level: LoadLevel, kind: ShedKind) -> bool:
    """Is work of ``kind`` shed at ``level``?"""
    return level >= SHED_FROM[kind]


def thresholds_s(options: OverloadOptions) -> tuple[float, float, float]:
    """The backlog (seconds) that raises the load to levels 1, 2 and 3."""
    return (options.partial_translations_lag_s, options.partial_decodes_lag_s,
            options.final_beam_lag_s)


@dataclass
class LoadGovernor:
    """Picks the load level from backlog samples, with hysteresis (see the module doc).

    Feed it ``update(now_s, backlog_s)`` regularly (``sharing.SharedLoad`` does, every
    ``check_interval_ms``); ``now_s`` is any monotonic clock in seconds, ``backlog_s``
    the worst session's backlog in seconds. With ``options.shed`` off it stays NORMAL.
    """

    options: OverloadOptions
    level: LoadLevel = LoadLevel.NORMAL
    _above_since: dict[int, float] = field(default_factory=dict)
    """For each level, since when the backlog has been at or over its threshold."""
    _calm_since: float | None = None
    """Since when the backlog has been under the current level's recovery threshold."""

    def update(self, now_s: float, backlog_s: float) -> LoadLevel:
        """Take one sample; returns the level from now on."""
        if not self.options.shed:
            return self.level
        for level, threshold in enumerate(thresholds_s(self.options), start=1):
            if backlog_s >= threshold:
                self._above_since.setdefault(level, now_s)
            else:
                self._above_since.pop(level, None)
        held = [level for level, since in self._above_since.items()
                if now_s - since >= self.options.raise_hold_s]
        target = max(held, default=0)
        if target > self.level:
            self.level = LoadLevel(target)
            self._calm_since = None
            return self.level
        if self.level == LoadLevel.NORMAL:
            return self.level
        recover_s = self.options.recover_share * thresholds_s(self.options)[self.level - 1]
        if backlog_s >= recover_s:
            self._calm_since = None
        elif self._calm_since is None:
            self._calm_since = now_s
        elif now_s - self._calm_since >= self.options.recover_hold_s:
            self.level = LoadLevel(self.level - 1)
            self._calm_since = now_s  # the next level down needs its own calm spell
        return self.level

    def reset(self) -> None:
        """Back to NORMAL with no history (the last session has gone)."""
        self.level = LoadLevel.NORMAL
        self._above_since.clear()
        self._calm_since = None


DEMAND_WINDOW_S = 20.0
"""The translator work ``TranslatorDemand`` looks back over (a few sentences a wearer)."""
MEDIAN_OF_CALLS = 20
"""Each model's seconds per call is the median of its last this many (a cold prompt, a
sentence cut off, do not count more than one call each)."""
KEEP_UP_SHARE = 0.9
"""The main model takes over again only if it would be busy at most this share of the time:
a queue given more work than time (utilisation ρ ≥ 1) grows without bound, and at
``ENTER_SHARE`` it would be taken over again at the next backlog. Measured with the
overflow model writing (2 cores, AVX-512): three wearers 1.2-1.8 (once 0.98 in a quieter
stretch, and behind again 10 s after taking over), two wearers 0.65-0.94, whom the 1.5B
alone serves at final p95 2.5-3.1 s (docs/benchmark.md, "Thirtieth session" and
"Thirty-first session"). A return that falls behind again is damped by
``OverflowSwitch``."""
ENTER_SHARE = 0.9
"""The overflow model takes over at ``overflow_lag_s`` of backlog only if the main model
has been busy at least this share of the last ``ENTER_WINDOW_S`` (``TranslatorDemand.
main_share``; while it writes everything its share cannot pass 1): a backlog it has the
time to clear is a burst, and its English is better than the small model's (document BLEU
~20 against ~15 on the dev talks). From ``STALL_LAGS`` × ``overflow_lag_s`` of backlog it
takes over at any share."""
ENTER_WINDOW_S = 8.0
"""How far back saturation is judged for taking over, a window this long from the start
(no shorter share of a few seconds since the first translation, which is near 1 whenever
one is under way): a burst (two wearers ending their sentences at once, or the overflow
model loading as the second joins) keeps the main model busy a few seconds; three wearers
keep it busy from their first sentences, whose share of a 20-s window
(``DEMAND_WINDOW_S``) still held the silent start: 0.70-0.81 at 3 s of backlog, and p95
3.0-3.4 s instead of 2.2-2.5 s (docs/benchmark.md, "Thirty-first session")."""
STALL_LAGS = 2.0
"""A backlog this many times ``overflow_lag_s`` is a stall: the overflow model writes."""
RELAPSE_WINDOW_S = 30.0
"""The main model falling behind again this soon after taking over is a relapse."""
MAX_RELAPSES = 3
"""Relapses counted at most: the recovery hold grows to 2³ × ``recover_hold_s`` (40 s)."""


@dataclass
class OverflowSwitch:
    """Whether finals go to the overflow model (``translate/overflow.py``): on at once
    from ``overflow_lag_s`` of backlog (every late sentence counts) while the main model is
    saturated (``ENTER_SHARE``), or from ``STALL_LAGS`` times that at any share; off once
    the backlog has stayed under ``recover_share`` × ``overflow_lag_s`` for the recovery
    hold.

    The hold is ``recover_hold_s`` × 2^relapses: it doubles each time the main model
    falls behind again within ``RELAPSE_WINDOW_S`` of taking over, and is back to
    ``recover_hold_s`` once the main model has kept up that long or ``forgive`` is called
    (a wearer left: the cores are less loaded). Flap damping as for Internet routes
    (RFC 2439): with three wearers on two cores the 1.5B fell behind again 4-8 s after
    each return, and the sentences of those seconds were the slowest of the run
    (docs/benchmark.md, "Thirtieth session"). ``update`` takes ``(now_s, backlog_s)``
    samples, seconds on any monotonic clock; pure, like ``LoadGovernor``.
    """

    options: OverloadOptions
    on: bool = False
    relapses: int = 0
    _calm_since: float | None = None
    _returned_at: float | None = None
    """When the main model last took over again (None: never, or forgiven)."""

    @property
    def hold_s(self) -> float:
        """How long the backlog must stay low before the main model takes over again."""
        return self.options.recover_hold_s * float(2 ** self.relapses)

    def update(self, now_s: float, backlog_s: float, main_share: float | None = None,
               recent_share: float | None = None) -> bool:
        """Take one sample; returns whether the overflow model translates from now on.
        ``main_share``: how busy the main model would be with the translations of the last
        ``DEMAND_WINDOW_S`` (``TranslatorDemand.main_share``): over ``KEEP_UP_SHARE`` it
        does not take over, however low the backlog the faster model keeps;
        ``recent_share``: the same over ``ENTER_WINDOW_S``: under ``ENTER_SHARE`` a backlog
        short of a stall is left to it, unless it took over less than ``RELAPSE_WINDOW_S``
        ago (it has just shown it cannot keep up). None: not known, no veto."""
        options = self.options
        relapsed = (not self.on and self._returned_at is not None
                    and now_s - self._returned_at < RELAPSE_WINDOW_S)
        if backlog_s >= options.overflow_lag_s and (
                self.on or relapsed or recent_share is None or recent_share >= ENTER_SHARE
                or backlog_s >= STALL_LAGS * options.overflow_lag_s):
            if not self.on:
                self.relapses = min(self.relapses + 1, MAX_RELAPSES) if relapsed else 0
            self.on, self._calm_since = True, None
        elif (not self.on or backlog_s >= options.recover_share * options.overflow_lag_s
              or (main_share is not None and main_share > KEEP_UP_SHARE)):
            self._calm_since = None
        elif self._calm_since is None:
            self._calm_since = now_s
        elif now_s - self._calm_since >= self.hold_s:
            self.on, self._calm_since, self._returned_at = False, None, now_s
        return self.on

    def forgive(self) -> None:
        """Forget the relapses (a session has left: the main model may keep up now)."""
        self.relapses, self._returned_at = 0, None

    def reset(self) -> None:
        """Off, with no history (the last session has gone)."""
        self.on, self._calm_since = False, None
        self.forgive()


class TranslatorDemand:
    """How busy the main translation model would be if it wrote every translation of the
    last ``window_s`` (``DEMAND_WINDOW_S``): its own seconds, plus the overflow model's
    scaled by the ratio of their seconds per call (median of each one's last
    ``MEDIAN_OF_CALLS``). The overflow model keeps the backlog low, so a low backlog alone
    does not say the main model would keep up: with three wearers on two cores it fell
    behind again 3-8 s after every return (docs/benchmark.md, "Thirtieth session").
    Thread-safe: translations are recorded from worker threads."""

    def __init__(self, window_s: float = DEMAND_WINDOW_S) -> None:
        self.window_s = window_s
        self._calls: collections.deque[tuple[float, float, bool]] = collections.deque()
        """(end_s, seconds, by the overflow model) of recent translations."""
        self._running: dict[int, tuple[float, bool]] = {}
        """(start_s, by the overflow model) of translations under way, by ``begin``'s id."""
        self._next_call = 0
        self._first_s: float | None = None
        """When the first translation began: a shorter history is a shorter window."""
        self._seconds: dict[bool, collections.deque[float]] = {
            by_small: collections.deque(maxlen=MEDIAN_OF_CALLS) for by_small in (False, True)}
        self._lock = threading.Lock()

    def begin(self, start_s: float, *, by_small: bool) -> int:
        """A translation starts (``start_s``, monotonic seconds): counted as it runs, up to
        ``record``; returns the id to give ``record``."""
        with self._lock:
            if self._first_s is None:
                self._first_s = start_s
            self._next_call += 1
            self._running[self._next_call] = (start_s, by_small)
            return self._next_call

    def record(self, end_s: float, seconds: float, *, by_small: bool,
               call: int | None = None) -> None:
        """One translation (or cancelled attempt) that took ``seconds``, ending at
        ``end_s`` (monotonic seconds), by the overflow model or the main one; ``call``:
        ``begin``'s id, if it was begun."""
        with self._lock:
            if call is not None:
                self._running.pop(call, None)
            if self._first_s is None:
                self._first_s = end_s - seconds
            self._calls.append((end_s, seconds, by_small))
            self._seconds[by_small].append(seconds)
            while self._calls and self._calls[0][0] <= end_s - self.window_s:
                self._calls.popleft()

    def main_share(self, now_s: float, window_s: float | None = None) -> float | None:
        """The share of the time the main model would have been busy, translations under
        way counted up to now: 0 up, over 1 when it could not keep up. Over the whole
        window kept, or the time since the first translation began if shorter: None until
        the main model has a translation timed (before the overflow model's first, the
        main model's own share). Over exactly ``window_s`` if given (at most the window
        kept), the time before the first translation idle: 0 before any (the overflow
        model's seconds unscaled until the main model has a call timed)."""
        with self._lock:
            if window_s is None:
                if not self._seconds[False] or self._first_s is None:
                    return None
                window_s = self.window_s
                span_s = min(window_s, now_s - self._first_s)
            else:
                window_s = span_s = min(window_s, self.window_s)
            main_s = statistics.median(self._seconds[False]) if self._seconds[False] else 0.0
            small_s = statistics.median(self._seconds[True]) if self._seconds[True] else 0.0
            scale = main_s / small_s if main_s > 0 and small_s > 0 else 1.0
            busy_s = sum(seconds * (scale if by_small else 1.0)
                         for end_s, seconds, by_small in self._calls
                         if end_s > now_s - window_s)
            busy_s += sum(min(now_s - start_s, window_s) * (scale if by_small else 1.0)
                          for start_s, by_small in self._running.values())
        return busy_s / span_s if span_s > 0 else None


@dataclass(frozen=True)
class TurnRequest:
    """A session waiting for its turn at a shared model."""

    session: int
    urgent: bool
    """Final work (a final decode or translation): goes before optional work."""
    ticket: int
    """Order of arrival."""


def next_turn(waiting: Sequence[TurnRequest], last_served: Mapping[int, int]) -> int:
    """Index in ``waiting`` (non-empty) of the request to serve next: urgent before
    optional, then the session whose last turn is oldest (never served: first), then
    the earliest ticket. ``last_served`` maps a session to the serial number of its last
    turn. Round-robin among sessions means a session with a long backlog of finals still
    lets every other session's final through between two of its own."""
    if not waiting:
        raise ValueError("nobody is waiting for a turn")
    return min(range(len(waiting)), key=lambda index: (
        not waiting[index].urgent, last_served.get(waiting[index].session, -1),
        waiting[index].ticket))
