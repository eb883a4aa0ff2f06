"""Shared fixtures: the development data folder and the real engines (loaded once)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hudtranslate.config import Settings


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
