"""The C heap of a long-running process: few glibc arenas, free pages handed back.

Why: a wearer's process runs for hours with threads of its own (asyncio's executor, the
stage workers) and of its libraries (CTranslate2, llama.cpp, onnxruntime). glibc's
allocator gives threads that contend for the heap arenas of their own, up to eight per
core, and keeps what is freed in them for reuse, so the resident size of a process that
leaks nothing steps up for most of an hour: +99 MB between minutes 10 and 60 of a looped
talk (twenty-fifth session, ``hudtranslate bench --talks … --creep-minutes 60``). Two
arenas and a periodic ``malloc_trim`` are glibc's own remedies (glibc manual, "Memory
Allocation Tunables", ``glibc.malloc.arena_max``; mallopt(3); malloc_trim(3)).

Elsewhere than glibc (macOS, musl) both calls do nothing. A ``MALLOC_ARENA_MAX`` the user
set in the environment wins over ours.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import platform
import threading
import time

log = logging.getLogger(__name__)

ARENAS = 2
"""Arenas glibc may use: one for the event loop's thread, one shared by the workers."""

TRIM_EVERY_S = 60.0
"""Seconds between two hand-backs at most (a trim walks the free lists of every arena)."""

_M_ARENA_MAX = -8  # <malloc.h>
_trim_lock = threading.Lock()
_last_trim = [float("-inf")]


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc, else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None)
    except OSError:  # a static or unusual interpreter: nothing to tune
        return None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Let glibc create at most ``arenas`` heap arenas from now on (threads that already
    have one keep it: call this before the models start their threads).

    Returns True when the limit was set; False on other C libraries or when the
    environment already sets ``MALLOC_ARENA_MAX``."""
    libc = _glibc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))


def release_free_heap(now: float | None = None) -> bool:
    """Hand the heap's free pages back to the system (``malloc_trim(0)``), at most once
    every ``TRIM_EVERY_S`` seconds; meant for a quiet moment such as after a final.

    Returns True when a trim ran."""
    libc = _glibc()
    if libc is None:
        return False
    clock = time.monotonic() if now is None else now
    with _trim_lock:
        if clock - _last_trim[0] < TRIM_EVERY_S:
            return False
        _last_trim[0] = clock
    started = time.perf_counter()
    libc.malloc_trim(0)
    log.debug("heap trimmed in %.1f ms", (time.perf_counter() - started) * 1000)
    return True
