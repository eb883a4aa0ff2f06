"""Loads the models named in the settings, once, with the core budget split between them."""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from hudtranslate.asr.whisper import WhisperEngine
from hudtranslate.config import Settings
from hudtranslate.errors import ModelError
from hudtranslate.heap import limit_arenas
from hudtranslate.models import CATALOGUE, resolve_model
from hudtranslate.pipeline import Engines, text_repairs
from hudtranslate.translate.glossary import Glossary, load_glossary, warm_copied_word_glosses
from hudtranslate.translate.llama import LlamaBackend, LlamaEngine
from hudtranslate.translate.llama_batch import has_avx512
from hudtranslate.translate.prompts import DRAFT_MESSAGE, ENGLISH_SPEECH, SPEECH, PromptSet
from hudtranslate.vad.silero import SileroVad

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadBudget:
    """How the ``threads`` budget is split. Recognition and translation run at the same
    time; llama.cpp spins its threads, so oversubscribing the cores collapses its speed.
    ``translate`` threads evaluate prompts (many tokens at once); ``decode`` threads write
    the answer one token at a time. How many pay depends on the CPU (docs/benchmark.md):
    with AVX-512 a token cost ~45 ms on one thread and ~32 ms on two, and the second
    thread beside the recogniser cost more CPU than it saved time (dev talks 0.83 → 0.76
    CPU-s per audio second with one, StreamLAAL 2.73 → 2.75 s); on an AVX2-only CPU a
    token costs 91-128 ms on one thread and 54-69 ms on two, and two cost no more CPU
    (0.99 / 1.00 s/s) while the English comes sooner (StreamLAAL 3.36 → 3.20 s, nonstop
    speech's final p95 6.2 → 5.3 s)."""

    asr: int
    translate: int
    decode: int

    @classmethod
    def split(cls, threads: int, *, one_decode_thread: bool | None = None) -> ThreadBudget:
        """``one_decode_thread``: decode on half the threads (default: where llama.cpp was
        built with AVX-512, ``has_avx512``), else on all of them."""
        half = max(1, threads // 2)
        if one_decode_thread is None:
            one_decode_thread = has_avx512()
        return cls(asr=half, translate=threads, decode=half if one_decode_thread else threads)


def limit_blas_threads() -> None:
    """Run numpy's BLAS (OpenBLAS) on the calling thread only, for the whole process.

    Our matrix products are small (Whisper's mel filter bank on a few seconds of audio),
    but OpenBLAS hands each to a worker thread that then spins for a while before it
    sleeps: on two cores that worker took ~6.5 CPU-s of an 84-s talk (0.08 CPU-s per
    audio second, per-thread CPU from /proc) from the cores the models need. Whisper and
    llama.cpp keep their own thread pools; only the ``blas`` API is limited
    (threadpoolctl, BSD-3-Clause)."""
    threadpool_limits(limits=1, user_api="blas")


def load_translator(settings: Settings, threads: int, decode_threads: int | None = None,
                    *, warm: bool = True) -> tuple[LlamaBackend, Glossary]:
    """Resolve (and verify) the translation model and load it with ``threads`` threads
    (``decode_threads`` for one token at a time, default the same), its fixed prompt
    prefilled unless not ``warm``, with the session glossary. Errors name the fix."""
    glossary = load_glossary(Path(settings.translate.glossary) if settings.translate.glossary
                             else None, cedict_names=settings.translate.cedict_names)
    mt_path = resolve_model(settings.translate.model, "translate", settings.cache_path)
    log.info("loading translator from %s (%d threads)", mt_path, threads)
    try:
        llama = LlamaEngine(mt_path, threads=threads, decode_threads=decode_threads,
                            context_tokens=settings.translate.context_tokens,
                            name=settings.translate.model if "/" not in settings.translate.model
                            else mt_path.stem)
    except ModelError as exc:  # the repair that applies: a catalogue copy, or the user's file
        fix = ("run: hudtranslate models verify (and models fetch to repair)"
               if settings.translate.model in CATALOGUE else
               "is the file a complete GGUF model? (a download or copy may have stopped)")
        raise ModelError(f"{exc}; {fix}") from None
    backend = LlamaBackend(llama, glossary_example=bool(glossary))
    if warm:
        backend.warm_up()
    return backend, glossary


def load_overflow_translator(settings: Settings, beside: LlamaEngine | None,
                             model: str = "") -> LlamaBackend:
    """Load ``settings.overload.overflow_model`` (``translate/overflow.py``) with the same
    thread split as the main translator, sharing ``beside``'s lock (the main local model:
    the two never run at once, the fixed prompt's prefill included: a server loads it
    while wearers talk). ``model`` names it instead of the setting (``"auto"`` resolved).
    Errors name the fix, as for any model."""
    small = dataclasses.replace(settings, translate=dataclasses.replace(
        settings.translate, model=model or settings.overload.overflow_model))
    budget = ThreadBudget.split(settings.threads)
    backend, _ = load_translator(small, budget.translate, budget.decode, warm=False)
    if beside is not None:
        backend.engine.share_cores_with(beside)
    backend.warm_up()
    return backend


def warm_beside_speech(backend: LlamaBackend, *prompts: PromptSet) -> None:
    """Evaluate each of ``prompts`` before anyone needs it, kept beside the speech prompt
    (a saved state of ~20 MB each), which is made current again: a prompt family's first
    use otherwise waits 3-6 s for it (``scripts/prompt_first_use.py``; docs/benchmark.md,
    twentieth and twenty-first sessions). ``serve`` warms the photo prompt, converse mode
    the en→zh and draft ones."""
    for prompt_set in prompts:
        backend.warm_up(prompt_set)
    backend.warm_up(SPEECH)


def warm_conversation_prompts(backend: LlamaBackend, settings: Settings) -> None:
    """In converse mode, the en→zh and draft prompts (``warm_beside_speech``): the
    wearer's first English sentence waited ~5 s for its prompt (``mixed.wav``, real time:
    end of speech → translation median 5.6 → 2.1 s), a first draft as long for its own."""
    if settings.conversation.mode == "converse":
        warm_beside_speech(backend, ENGLISH_SPEECH, DRAFT_MESSAGE)


def load_engines(settings: Settings) -> Engines:
    """Resolve (and verify) the models, then load Whisper and Qwen. Errors name the fix.
    numpy's BLAS runs on one thread from here on (``limit_blas_threads``) and glibc keeps
    two heap arenas (``heap.limit_arenas``).

    The dictionaries the text clean-up needs load meanwhile (CC-CEDICT's glosses for
    Chinese the model copies: ~3 s, in a child process), not while a wearer talks."""
    limit_blas_threads()
    limit_arenas()
    glosses = threading.Thread(target=warm_copied_word_glosses, name="glosses", daemon=True)
    glosses.start()
    budget = ThreadBudget.split(settings.threads)
    asr_path = resolve_model(settings.asr.model, "asr", settings.cache_path)
    resolve_model(settings.translate.model, "translate", settings.cache_path)
    log.info("loading Whisper from %s (%d threads)", asr_path, budget.asr)
    asr = WhisperEngine(asr_path, cpu_threads=budget.asr, language=settings.asr.language)
    backend, glossary = load_translator(settings, budget.translate, budget.decode)
    warm_conversation_prompts(backend, settings)
    engines = Engines(asr=asr, translator=backend, vad_factory=SileroVad, glossary=glossary)
    text_repairs(engines, settings)  # jieba's dictionary now, not while the first wearer talks
    glosses.join()
    return engines
