"""Loading a GGUF model leaves the process's stdout and stderr alone, and stays quiet.

llama-cpp-python (``verbose=False``) points file descriptors 1 and 2 at /dev/null, and
swaps ``sys.stdout``/``sys.stderr``, while a model file loads: process-wide. A server loads
the overflow model on a thread while wearers talk, so every line the other threads logged
during the load was lost, and a server stopped (SIGTERM, Ctrl-C) during it exited without
its "session ended" and "stopped" lines.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from hudtranslate.config import Settings
from hudtranslate.models import resolve_model
from hudtranslate.translate.llama import LlamaEngine
from hudtranslate.translate.overflow import AUTO_OVERFLOW_MODEL

llama_low = pytest.importorskip("llama_cpp.llama_cpp")

pytestmark = [pytest.mark.real, pytest.mark.timeout(120)]


def _stderr_file() -> tuple[int, int]:
    status = os.fstat(2)
    return status.st_dev, status.st_ino


def test_a_model_loads_without_taking_the_process_stderr(
        real_settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    path = resolve_model(AUTO_OVERFLOW_MODEL, "translate", real_settings.cache_path)
    before = (sys.stdout, sys.stderr, _stderr_file())
    during: list[tuple[Any, Any, tuple[int, int]]] = []
    load = llama_low.llama_model_load_from_file

    def watched(*args: Any) -> Any:
        during.append((sys.stdout, sys.stderr, _stderr_file()))
        return load(*args)

    monkeypatch.setattr(llama_low, "llama_model_load_from_file", watched)
    engine = LlamaEngine(path, threads=1, context_tokens=512, name="small")
    del engine
    assert during == [before]  # what other threads log while it loads still shows
    out, err = capfd.readouterr()
    assert "llama_model_loader" not in out + err  # llama.cpp's own chatter stays hidden
