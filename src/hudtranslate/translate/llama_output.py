"""llama.cpp's own output kept quiet without taking the process's stdout and stderr.

llama-cpp-python (``verbose=False``) hides llama.cpp's chatter while a model loads by
pointing file descriptors 1 and 2 at /dev/null and swapping ``sys.stdout``/``sys.stderr``
(``llama_cpp._utils.suppress_stdout_stderr``): for the whole process, not the loading
thread. A server loads its overflow model on a thread while wearers talk (~1-3 s on 2
cores), so every line the other threads logged meanwhile was lost, and a server stopped
during the load (SIGTERM, Ctrl-C) ended without its "session ended" and "stopped" lines.
Instead, while a ``Llama`` is made, that redirection does nothing, and llama.cpp's log
goes through a callback of ours (its warnings and errors to this module's debug log, the
rest nowhere): llama.cpp writes its log only through the callback (a model load and a
failed one measured: nothing else reached stderr).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

GGML_LOG_LEVEL_WARN = 3
"""ggml's ``GGML_LOG_LEVEL_WARN`` (DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5);
llama-cpp-python's own table still has the older numbering."""

_callback: Any = None
"""The installed log callback: held here, llama.cpp calls it for the process's life."""


class _LeaveOutputAlone:
    """``suppress_stdout_stderr``'s interface, doing nothing."""

    def __init__(self, disable: bool = True) -> None:
        self.disable = disable

    def __enter__(self) -> _LeaveOutputAlone:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _to_debug_log(level: int, text: bytes, user_data: Any) -> None:
    if level in (GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_WARN + 1):
        log.debug("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())


def route_llama_log() -> None:
    """Send llama.cpp's log through ``_to_debug_log`` (once per process) instead of
    llama-cpp-python's callback, which prints to stderr unless suppressed."""
    global _callback
    if _callback is not None:
        return
    import llama_cpp

    _callback = llama_cpp.llama_log_callback(_to_debug_log)
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


@contextlib.contextmanager
def output_left_alone() -> Iterator[None]:
    """While a ``Llama`` is made: its stdout/stderr redirection does nothing and
    llama.cpp's log is routed (``route_llama_log``)."""
    import llama_cpp._internals as internals
    import llama_cpp.llama as high

    route_llama_log()
    modules: tuple[Any, ...] = (high, internals)  # each imported the name for itself
    saved = [module.suppress_stdout_stderr for module in modules]
    for module in modules:
        module.suppress_stdout_stderr = _LeaveOutputAlone
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.suppress_stdout_stderr = original
