"""What a new user meets first with ``live``, ``demo`` and ``file`` (and their voice and
HUD frames): bad input, a missing device, a full disk, each one clear line and nothing
the run produced lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tests.test_cli import _sounddevice, run_cli

pytestmark = pytest.mark.timeout(60)


def test_live_without_a_microphone_says_what_to_do_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`live` on a machine with no microphone named the problem but not what to do."""
    monkeypatch.setitem(sys.modules, "sounddevice", _sounddevice(0))
    code, err = run_cli(["live", "--out", str(tmp_path)], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "no audio input device is connected" in err
    assert "connect a microphone" in err and "hudtranslate file" in err


def test_live_with_a_device_that_does_not_exist_lists_the_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`live --device headset` with no such input said only "No input device matching
    'headset'": not which devices there are."""
    fake = _sounddevice(2)

    def check_input_settings(device: object = None, **kwargs: object) -> None:
        if device not in (None, 0, 1):
            raise ValueError(f"No input device matching {device!r}")

    fake.check_input_settings = check_input_settings
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    code, err = run_cli(["live", "--device", "headset", "--out", str(tmp_path)], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "No input device matching 'headset'" in err
    assert "0: mic 0 (48000 Hz)" in err and "1: mic 1 (48000 Hz)" in err
