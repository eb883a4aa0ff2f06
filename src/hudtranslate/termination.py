"""SIGTERM handled like Ctrl-C: what the user produced is saved before the process ends.

``timeout``, systemd, Docker and ``kill`` stop a process with SIGTERM, whose default action
ends Python at once, with no ``finally`` run. Cancelling the main task instead lets every
``finally`` write its files (the transcript is already on disk; the subtitles are written
from it), the same way asyncio turns Ctrl-C into a cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

EXIT_TERMINATED = 128 + signal.SIGTERM
"""The shell's status for a process ended by SIGTERM (143)."""

T = TypeVar("T")


async def run_until_terminated(main: Coroutine[Any, Any, T]) -> T | None:
    """``main``'s result, or None when SIGTERM cancelled it (after its cleanup ran).

    A cancellation that did not come from SIGTERM propagates as usual.
    """
    task = asyncio.ensure_future(main)
    terminated = False

    def stop() -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, stop)
    try:
        return await task
    except asyncio.CancelledError:
        if terminated:
            return None
        raise
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)
