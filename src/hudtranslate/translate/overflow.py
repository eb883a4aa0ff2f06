"""A smaller local model for the finals of a server that has fallen behind its wearers.

Shedding optional work (``overload.py``) is not always enough: three wearers in dense
speech need ~100 final sentences in 83 s of the 1.5B translator, which keeps two cores
busy on its own, so finals queue and the captions drift 7-21 s behind
(docs/benchmark.md, "Twelfth session"). With ``serve --overflow-model qwen2.5-0.5b-q4_0``
the sentences that reach the translator while the server is behind (``SharedLoad.behind``:
from ``overflow_lag_s`` of backlog, until the main model would keep up again: see
``overload.OverflowSwitch``) are written by that model instead
(a one-token step 27 ms against 72 ms on one thread): the captions stay near real time,
and the sentences of those moments are translated less well (three wearers: p95 2.8-3.4 s
instead of 6.8-20.7 s, document BLEU 15 instead of 21). Each caption names its model.

The two models share one lock (``LlamaEngine.share_cores_with``), so they never run at
the same time on the same cores. Each model is shown only the context turns it wrote
itself (or that were written before the server knew): a turn the other one wrote is not
in its KV cache, and evaluating a session's missed turns when the main model took over
again cost 3-7 s a sentence with three wearers, which stalled every caption.
``behind`` is set by the server's ``SessionManager``; until then it is always False.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence

from hudtranslate.errors import HudTranslateError, one_line
from hudtranslate.overload import TranslatorDemand
from hudtranslate.translate.llama import LlamaBackend, LlamaEngine
from hudtranslate.translate.llama_cache import current_owner
from hudtranslate.translate.prompts import SPEECH, PromptSet
from hudtranslate.translate.router import FallbackBackend, ThreadModelName
from hudtranslate.translate.translator import TranslationBackend

log = logging.getLogger(__name__)

AUTO_OVERFLOW = "auto"
"""``overload.overflow_model``'s default: ``AUTO_OVERFLOW_MODEL`` for a server of several
wearers (``serve``), if it is installed."""
AUTO_OVERFLOW_MODEL = "qwen2.5-0.5b-q4_0"
NO_OVERFLOW = ("", "off")
"""``overload.overflow_model`` values for none."""

RETRY_LOAD_AFTER_S = 60.0
"""A small model that failed to load (memory short while another wearer's audio was
decoded, a model fetched meanwhile) is tried again by the next ``load_small_soon`` this
long after: each wearer who joins calls it, and a load takes ~2.5 s of both cores."""

REMEMBERED_TURNS = 1024
"""Messages whose translating model is remembered (for all sessions together: far more
than their context windows hold)."""


def _never() -> bool:
    return False


class OverflowBackend(ThreadModelName):
    """``TranslationBackend``: ``main`` normally, ``small`` while ``behind()``.

    ``name`` is per thread (``router.ThreadModelName``): the model behind this thread's
    last translation (``main``'s name before its first); ``/metrics`` counts translations
    by that name."""

    def __init__(self, main: TranslationBackend, small: TranslationBackend | None,
                 load_small: Callable[[], TranslationBackend] | None = None) -> None:
        super().__init__()
        self.main, self.small = main, small
        """``small`` is None until ``load_small`` (given) has run: ``main`` writes all."""
        self._load_small = load_small
        self._loading: threading.Thread | None = None
        self._failed_s: float | None = None
        """``time.monotonic()`` of the last failed load; None when none failed."""
        self.on_small_loaded: Callable[[], None] | None = None
        """Runs on the loading thread once ``small`` is in use (set by the server)."""
        self.behind: Callable[[], bool] = _never
        self._writers: collections.OrderedDict[tuple[Hashable | None, str], str] = (
            collections.OrderedDict())
        """Which model translated each recent message of each stream (``kv_owner``), the
        newest ``REMEMBERED_TURNS``."""
        self._writers_lock = threading.Lock()
        self.demand = TranslatorDemand()
        """Each translation's seconds, for whether ``main`` would keep up (``main_share``)."""

    @property
    def default_name(self) -> str:
        return self.main.name

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
        """The answer of ``small`` while the server is behind, else of ``main``; each
        given only the turns of ``context`` the other did not write."""
        small = self.small
        backend, other = ((small, self.main) if small is not None and self.behind()
                          else (self.main, small))
        self.name = backend.name
        owner = current_owner()
        with self._writers_lock:
            own = [turn for turn in context if other is None
                   or self._writers.get((owner, turn[0])) != other.name]
            self._writers[owner, source] = backend.name
            self._writers.move_to_end((owner, source))
            while len(self._writers) > REMEMBERED_TURNS:
                self._writers.popitem(last=False)
        started_s = time.monotonic()
        call = self.demand.begin(started_s, by_small=backend is small)
        try:
            return backend.translate(source, own, forced_prefix=forced_prefix,
                                     max_new_tokens=max_new_tokens, cancelled=cancelled,
                                     on_text=on_text, prompts=prompts)
        finally:
            ended_s = time.monotonic()
            self.demand.record(ended_s, ended_s - started_s, by_small=backend is small,
                               call=call)

    def load_small_soon(self) -> None:
        """Load ``small`` on a thread of its own, once (a server of two wearers loads it
        when the second joins: one wearer never needs it, and it costs ~0.5 GB of memory
        and ~2.5 s of both cores to load). A model that fails to load is logged and left
        out: ``main`` keeps writing everything until a call ``RETRY_LOAD_AFTER_S`` later
        tries again."""
        if self.small is not None or self._load_small is None:
            return
        if self._loading is not None and (self._loading.is_alive() or self._failed_s is None
                                          or time.monotonic() - self._failed_s
                                          < RETRY_LOAD_AFTER_S):
            return
        self._loading = threading.Thread(target=self._load, args=(self._load_small,),
                                         name="overflow-model", daemon=True)
        self._loading.start()

    def _load(self, load_small: Callable[[], TranslationBackend]) -> None:
        try:
            small = load_small()
        except (HudTranslateError, OSError, RuntimeError, ValueError) as exc:
            self._failed_s = time.monotonic()
            log.warning("overflow model not loaded, the main model writes every sentence "
                        "(tried again when a wearer joins %.0f s from now): %s",
                        RETRY_LOAD_AFTER_S, one_line(exc),
                        extra={"event": "overflow_model_failed"})
            return
        self.small = small
        log.info("overflow model %s loaded", small.name, extra={"event": "overflow_model"})
        if self.on_small_loaded is not None:
            self.on_small_loaded()

    def wait_loaded(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for a load ``load_small_soon`` began; whether ``small``
        is in use (for tests: a server never waits for it)."""
        if self._loading is not None:
            self._loading.join(timeout_s)
        return self.small is not None

    def main_share(self, now_s: float, window_s: float | None = None) -> float | None:
        """How busy ``main`` would have been writing every translation of the last
        ``window_s`` (``TranslatorDemand.main_share``; ``now_s`` on ``time.monotonic``'s
        clock)."""
        return self.demand.main_share(now_s, window_s)

    @property
    def prefill_pays(self) -> bool:
        return bool(getattr(self.main, "prefill_pays", True))

    def prepare(self, context: Sequence[tuple[str, str]], prompts: PromptSet = SPEECH) -> None:
        """Evaluate ``main``'s next prompt ahead (not while behind: that is optional work)."""
        prepare = getattr(self.main, "prepare", None)
        if callable(prepare) and not self.behind():
            prepare(context, prompts)

    def forget_owner(self, owner: Hashable) -> None:
        """A stream has ended: both models may free its cached prompt."""
        for backend in (self.main, self.small):
            forget = getattr(backend, "forget_owner", None)
            if callable(forget):
                forget(owner)


def main_backend(backend: TranslationBackend) -> TranslationBackend:
    """The backend that translates when the server is not behind (``backend`` itself
    unless it is an ``OverflowBackend``)."""
    return backend.main if isinstance(backend, OverflowBackend) else backend


def local_engine(backend: TranslationBackend) -> LlamaEngine | None:
    """The local llama.cpp model behind ``backend``'s main translator (itself, or a
    router's fallback); None for a remote-only or fake backend."""
    backend = main_backend(backend)
    if isinstance(backend, FallbackBackend):
        backend = backend.fallback
    return backend.engine if isinstance(backend, LlamaBackend) else None
