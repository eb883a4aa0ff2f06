"""OS errors reach the user as one line through ``errors.one_line``: an OSError raised
without an errno has no ``strerror`` (it was written "None"), and a library's message may
span lines (it was written as it came)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from hudtranslate.captions.replay import write_replay
from hudtranslate.errors import HudTranslateError
from hudtranslate.events import Translation
from hudtranslate.models.resolve import resolve_model
from hudtranslate.transcripts.store import TranscriptWriter, write_text_atomic

pytestmark = pytest.mark.timeout(30)


def fail(*args: object, **kwargs: object) -> None:
    raise OSError("quota of this\n   user exceeded")  # no errno: strerror is None


def append(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with TranscriptWriter(tmp_path / "talk.jsonl") as writer:
        monkeypatch.setattr(os, "fsync", fail)
        writer.append(Translation(1, "你好", "Hello", "", 0.0, 1.0, True, 1.5))


def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", fail)
    write_text_atomic(tmp_path / "talk.srt", "")


def replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image.Image, "save", fail)
    write_replay([(0.0, Image.new("RGB", (4, 4)))], 1.0, tmp_path / "out.gif")


def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setattr(Path, "open", fail)
    resolve_model(model, "translate", tmp_path)


@pytest.mark.parametrize("action", [append, export, replay, model_file])
def test_os_errors_are_one_line_with_their_text(
        action: Callable[[Path, pytest.MonkeyPatch], None], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(HudTranslateError) as raised:
        action(tmp_path, monkeypatch)
    assert str(raised.value).endswith(": quota of this user exceeded"), str(raised.value)
