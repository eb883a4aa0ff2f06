"""Shared fixtures: the development data folder, the real engines (loaded once) and a
headless Chromium for the web pages."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hudtranslate.config import Settings

CHROMIUM = os.environ.get("HUDTRANSLATE_CHROMIUM") or shutil.which("chromium") or ""
"""Debian's ``chromium`` (Playwright cannot fetch its own browser here)."""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--force-color-profile=srgb"]
needs_chromium = pytest.mark.skipif(not CHROMIUM or not Path(CHROMIUM).exists(),
                                    reason="needs Chromium: apt-get install chromium")
"""Mark for the browser tests (they also skip without Playwright: ``.[test]``)."""


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium driven by Playwright, closed after the test."""
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                    args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


def shared_data_dir() -> Path:
    override = os.environ.get("HUDTRANSLATE_SHARED_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not (path / "audio" / "utterances.jsonl").exists():
        pytest.skip(f"shared evaluation data not found at {path} (set HUDTRANSLATE_SHARED_DATA)")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def real_settings() -> Settings:
    return Settings.load(env={k: v for k, v in os.environ.items() if k == "HUDTRANSLATE_CACHE_DIR"})


@pytest.fixture(scope="session")
def real_engines(real_settings: Settings) -> Iterator[Any]:
    """Whisper + Silero + Qwen for real. Missing models fail loudly (CI fetches them)."""
    from hudtranslate.engines import load_engines

    yield load_engines(real_settings)


def forbid_look_models(monkeypatch: pytest.MonkeyPatch, why: str) -> None:
    """Make ``look``'s model loading fail the test with ``why``: input that cannot be read
    must be refused before the models load (~40 s for nothing)."""
    from hudtranslate.vision import commands

    def never(settings: object) -> object:
        raise AssertionError(why)

    monkeypatch.setattr(commands, "load_looker", never)


def fake_file_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """A short clip named ``name`` in ``tmp_path`` (a tone between silences) and fake
    models for ``hudtranslate file`` (one sentence, "我们走吧。"): for what the command
    prints and writes."""
    import soundfile

    from hudtranslate.pipeline import Engines
    from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, tone_and_silence

    wav = tmp_path / name
    soundfile.write(wav, tone_and_silence([(0.3, False), (1.0, True), (0.8, False)]), 16_000)
    monkeypatch.setattr("hudtranslate.runner.load_engines", lambda settings: Engines(
        asr=FakeDecoder(["我们走吧。"], chars_per_s=8.0), translator=FakeBackend(),
        vad_factory=FakeVad))
    return wav


@pytest.fixture
def ctrl_c_interrupts() -> Iterator[None]:
    """Ctrl-C as in a terminal: a test run in the background (``nohup``, ``&``, as CI may
    be) starts with SIGINT ignored, and a program must keep ignoring it there."""
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)
