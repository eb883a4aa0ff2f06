"""scripts/thread_cpu.py reports the CPU a command's threads used."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "thread_cpu.py"


def test_a_busy_thread_is_reported_with_its_cpu_seconds() -> None:
    busy = "import time\nend = time.process_time() + 1.5\nwhile time.process_time() < end: pass"
    result = subprocess.run([sys.executable, str(SCRIPT), "--", sys.executable, "-c", busy],
                            capture_output=True, text=True, timeout=60, check=True)
    seconds = [float(value) for value in re.findall(r"thread\s+\d+\s+([\d.]+) CPU-s",
                                                    result.stdout)]
    assert seconds and max(seconds) >= 0.5
    assert "exit status 0" in result.stdout
