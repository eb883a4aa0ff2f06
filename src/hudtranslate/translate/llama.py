"""llama.cpp backend (llama-cpp-python): one loaded GGUF model shared by all sessions.

llama-cpp-python keeps the last evaluated tokens and re-evaluates only what differs, so
prompts that grow append-only (see ``prompts.py``) cost only their new tokens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hudtranslate.errors import DependencyError, ModelError
from hudtranslate.translate.prompts import STOP_SEQUENCES

log = logging.getLogger(__name__)


class LlamaEngine:
    """A loaded GGUF chat model. Generations are serialised by a lock."""

    def __init__(self, model_path: Path, *, threads: int, context_tokens: int = 2048,
                 name: str = "") -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise DependencyError(f"llama-cpp-python is not installed: {exc}") from exc
        try:
            self._llm: Any = Llama(
                model_path=str(model_path), n_ctx=context_tokens, n_threads=threads,
                n_threads_batch=threads, n_batch=256, verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"cannot load translation model {model_path}: {exc}; "
                "run: hudtranslate models verify (and models fetch to repair)"
            ) from None
        self.name = name or model_path.stem
        self.context_tokens = context_tokens
        self.lock = threading.Lock()

    def prefill(self, prompt: str) -> None:
        """Evaluate a prompt once so its tokens sit in the KV cache before speech starts."""
        with self.lock:
            self._llm.create_completion(prompt, max_tokens=1, temperature=0.0)

    def stream(self, prompt: str, *, max_new_tokens: int,
               cancelled: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield text pieces of a greedy completion; stops early once ``cancelled()``.

        Call with ``self.lock`` held by the caller's worker thread (one generation at a time).
        """
        pieces = self._llm.create_completion(
            prompt, max_tokens=max_new_tokens, temperature=0.0, top_k=1,
            repeat_penalty=1.0, stop=list(STOP_SEQUENCES), stream=True,
        )
        for piece in pieces:
            yield piece["choices"][0]["text"]
            if cancelled():
                log.debug("generation cancelled")
                break
