#!/usr/bin/env python3
"""Run a command and report the CPU seconds each of its threads used (Linux ``/proc``).

Every half second the threads' user+system time is read from
``/proc/PID/task/TID/stat``; the last reading of each thread is printed at the end,
largest first (the command's standard output is discarded so that the report stays
readable; its standard error is shown). Native threads (BLAS, OpenMP, CTranslate2
workers) all carry the process's name, so ``--stacks-at S`` also writes every thread's
native stack to ``--stacks`` once, S seconds in (``gdb -batch``; gdb must be installed):
that is how the sixteenth session found OpenBLAS's worker thread among them.

    .venv/bin/python scripts/thread_cpu.py --stacks-at 50 -- \\
        .venv/bin/hudtranslate file ../shared/data/audio/talks/dev-talk1.wav --realtime --out /tmp/x
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each live thread of ``pid``; threads that end
    between listing and reading are skipped."""
    seconds: dict[int, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return seconds
    for tid in tids:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / TICKS_PER_S
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks-at", type=float, default=0.0,
                        help="seconds after the start to write all native stacks once (0: never)")
    parser.add_argument("--stacks", type=Path, default=Path("thread-stacks.txt"))
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    started = time.monotonic()
    process = subprocess.Popen(args.command, stdout=subprocess.DEVNULL)
    last: dict[int, float] = {}
    stacks_done = args.stacks_at <= 0
    while process.poll() is None:
        last.update(thread_cpu(process.pid))
        if not stacks_done and time.monotonic() - started >= args.stacks_at:
            with args.stacks.open("w") as out:
                subprocess.run(["gdb", "-batch", "-ex", "thread apply all bt 12",
                                "-p", str(process.pid)], stdout=out,
                               stderr=subprocess.STDOUT, check=False)
            stacks_done = True
        time.sleep(0.5)
    for tid, seconds in sorted(last.items(), key=lambda item: -item[1]):
        if seconds >= 0.5:
            sys.stdout.write(f"thread {tid:>8}  {seconds:7.1f} CPU-s\n")
    sys.stdout.write(f"all threads {sum(last.values()):7.1f} CPU-s "
                     f"(exit status {process.returncode})\n")
    return int(process.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
