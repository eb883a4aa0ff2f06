"""Routes each sentence to the remote model while it is healthy, else to the local one.

One ``FallbackBackend`` is shared by every session (it is part of the loaded engines), so
what one session learns about the remote spares the others: after a failure (timeout,
connection error, HTTP error) the remote is marked down and every session translates
locally at once, with no more waiting on it; a background thread probes it every
``probe_interval_s`` and sends sentences back to it once it answers.

A failed request costs at most the remote's own timeout, then the same sentence is
translated locally: every sentence still gets its English.

An answer the remote did send but that cannot be used (``RejectedAnswerError``: cut off,
empty, chatter, far too long) is not a failure of the remote: that sentence alone is
translated locally and the remote stays in use; only ``REJECTIONS_BEFORE_DOWN`` such
answers in a row mark it down like a failure, so a remote that keeps answering badly does
not double every sentence's latency (the probe then brings it back after
``probe_interval_s``, as it does answer).

Which model translated: ``name`` is read by ``SessionTranslator`` during (for streamed
words) and right after its call to ``translate``, on the same worker thread, while other
sessions' threads may be using the other backend. So ``name`` is per thread: the model
now translating, or that produced this thread's last translation (the preferred
backend's name for a thread that has not translated yet).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hudtranslate.errors import BackendError, RejectedAnswerError
from hudtranslate.translate.prompts import SPEECH, PromptSet
from hudtranslate.translate.translator import TranslationBackend

log = logging.getLogger(__name__)

REJECTIONS_BEFORE_DOWN = 3
"""Unusable remote answers in a row that mark the remote down (see the module doc)."""


class ProbedBackend(TranslationBackend, Protocol):
    """A backend that can say cheaply whether it is reachable."""

    def probe(self) -> bool: ...


@dataclass
class RouterStats:
    """Counts since start; read by ``/metrics``."""

    primary_ok: int = 0
    primary_errors: int = 0
    fallbacks: int = 0
    """Sentences the remote failed or answered unusably, translated locally instead."""
    rejected: int = 0
    """Remote answers refused (``RejectedAnswerError``); each is also a fallback."""
    recoveries: int = 0
    healthy: bool = True


class ThreadModelName:
    """``name`` per thread, for a backend that hands each sentence to one of several
    models (see the module doc): the model now translating on this thread, or behind
    its last translation; ``default_name`` before its first."""

    def __init__(self) -> None:
        self._thread_model = threading.local()

    @property
    def default_name(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return str(getattr(self._thread_model, "name", self.default_name))

    @name.setter
    def name(self, value: str) -> None:
        self._thread_model.name = value


class FallbackBackend(ThreadModelName):
    """``TranslationBackend``: ``primary`` (remote) when healthy, else ``fallback`` (local)."""

    def __init__(self, primary: ProbedBackend, fallback: TranslationBackend, *,
                 probe_interval_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.primary, self.fallback = primary, fallback
        self.probe_interval_s = probe_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stats = RouterStats()
        self._rejected_in_row = 0
        self._stop = threading.Event()
        self._prober: threading.Thread | None = None

    # --- TranslationBackend ---------------------------------------------------------------

    @property
    def default_name(self) -> str:
        """The model that would translate now: the remote while healthy."""
        return self.primary.name if self.healthy else self.fallback.name

    def translate(
        self,
        source: str,
        context: Sequence[tuple[str, str]],
        *,
        forced_prefix: str,
        max_new_tokens: int,
        cancelled: Callable[[], bool],
        on_text: Callable[[str], None] | None = None,
        prompts: PromptSet = SPEECH,
    ) -> str | None:
        """The primary's answer, or the fallback's when the primary is down, fails or
        sends an answer that cannot be used. The primary shows nothing before its answer
        is checked, so the fallback's English never follows broken words."""
        if self.healthy:
            started = self._clock()
            self.name = self.primary.name
            try:
                text = self.primary.translate(source, context, forced_prefix=forced_prefix,
                                              max_new_tokens=max_new_tokens,
                                              cancelled=cancelled, on_text=on_text,
                                              prompts=prompts)
            except RejectedAnswerError as exc:
                self._rejected(exc, self._clock() - started)
            except BackendError as exc:
                self._mark_down(exc, self._clock() - started)
            else:
                with self._lock:
                    self._stats.primary_ok += 1
                    self._rejected_in_row = 0
                return text
        self.name = self.fallback.name
        return self.fallback.translate(source, context, forced_prefix=forced_prefix,
                                       max_new_tokens=max_new_tokens, cancelled=cancelled,
                                       on_text=on_text, prompts=prompts)

    @property
    def prefill_pays(self) -> bool:
        """Whether the local model's ``prepare`` is worth calling between sentences (as
        ``SessionTranslator.can_prepare`` assumes: yes, unless it says otherwise)."""
        return bool(getattr(self.fallback, "prefill_pays", True))

    def prepare(self, context: Sequence[tuple[str, str]], prompts: PromptSet = SPEECH) -> None:
        """Warm the local model's prompt cache while it is the one answering."""
        prepare = getattr(self.fallback, "prepare", None)
        if not self.healthy and callable(prepare):
            prepare(context, prompts)

    def forget_owner(self, owner: Hashable) -> None:
        """A stream has ended: the local model may free its cached prompt."""
        forget = getattr(self.fallback, "forget_owner", None)
        if callable(forget):
            forget(owner)

    # --- health ---------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        with self._lock:
            return self._stats.healthy

    def stats(self) -> RouterStats:
        with self._lock:
            return RouterStats(**vars(self._stats))

    def check(self) -> bool:
        """Probe the remote now (e.g. at start-up); mark it up or down accordingly."""
        if self.primary.probe():
            self._mark_up()
            return True
        why = getattr(self.primary, "probe_error", "") or "remote did not answer the probe"
        self._mark_down(BackendError(why), 0.0, count=False)
        return False

    def close(self) -> None:
        """Stop probing. Safe to call twice."""
        self._stop.set()
        prober = self._prober
        if prober is not None and prober is not threading.current_thread():
            prober.join(timeout=5)

    def _rejected(self, exc: RejectedAnswerError, waited_s: float) -> None:
        with self._lock:
            self._stats.rejected += 1
            self._stats.fallbacks += 1
            self._rejected_in_row += 1
            too_many = self._rejected_in_row >= REJECTIONS_BEFORE_DOWN
            if too_many:
                self._rejected_in_row = 0
        log.warning("remote model %s: %s after %.2f s; this sentence is translated with %s",
                    self.primary.name, exc, waited_s, self.fallback.name,
                    extra={"event": "remote_rejected", "model": self.primary.name,
                           "reason": exc.reason})
        if too_many:
            self._mark_down(exc, waited_s, count=False)

    def _mark_down(self, exc: BaseException, waited_s: float, *, count: bool = True) -> None:
        with self._lock:
            was_healthy = self._stats.healthy
            self._stats.healthy = False
            if count:
                self._stats.primary_errors += 1
                self._stats.fallbacks += 1
            if self._prober is None and not self._stop.is_set():
                self._prober = threading.Thread(target=self._probe_loop, name="remote-probe",
                                                daemon=True)
                self._prober.start()
        if was_healthy:
            log.warning("remote model %s failed after %.2f s (%s): translating with %s until "
                        "it answers again", self.primary.name, waited_s, exc, self.fallback.name,
                        extra={"event": "remote_down", "model": self.primary.name})

    def _mark_up(self) -> None:
        with self._lock:
            recovered = not self._stats.healthy
            self._stats.healthy = True
            self._stats.recoveries += recovered
        if recovered:
            log.warning("remote model %s answers again: translating with it",
                        self.primary.name,
                        extra={"event": "remote_up", "model": self.primary.name})

    def _probe_loop(self) -> None:
        """Runs while the remote is down; the lock makes "exit" and "mark down" exclusive,
        so a remote that fails again always has a prober."""
        while not self._stop.wait(self.probe_interval_s):
            if self.primary.probe():
                self._mark_up()
            with self._lock:
                if self._stats.healthy:
                    self._prober = None
                    return
