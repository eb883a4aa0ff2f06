"""What a new user meets first with ``live``, ``demo`` and ``file`` (and their voice and
HUD frames): bad input, a missing device, a full disk, each one clear line and nothing
the run produced lost."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.conftest import fake_file_run
from tests.test_cli import _sounddevice, run_cli

from hudtranslate.cli import main

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


def test_a_frames_folder_that_fills_up_stops_the_frames_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`file --frames DIR` on a disk that filled up mid-run ended with a traceback
    (OSError: No space left on device) and, the first frames coming before the first
    sentence, an empty transcript."""
    wav = fake_file_run(tmp_path, monkeypatch, "talk.wav")
    frames = tmp_path / "frames"
    save = Image.Image.save

    def full_after_one(image: Image.Image, fp: Any, *args: Any, **kwargs: Any) -> None:
        path = Path(str(fp))
        if path.parent == frames and path.name != "frame_00001.png":
            path.write_bytes(b"\x89PNG half")  # what a write cut short leaves
            raise OSError(errno.ENOSPC, "No space left on device")
        save(image, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", full_after_one)
    monkeypatch.setenv("COLUMNS", "400")
    code, err = run_cli(["file", str(wav), "--frames", str(frames)], capsys)
    assert code == 0 and "Traceback" not in err
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "frame_00002.png" in warning and "No space left on device" in warning
    assert sorted(p.name for p in frames.iterdir()) == ["frame_00001.png", "frames.jsonl"]
    assert (tmp_path / "talk.jsonl").read_text().count("\n") == 1  # the sentence is kept
    assert (tmp_path / "talk.srt").read_text().strip()


def test_file_speak_plays_the_file_at_real_time_pace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`file talk.wav --speak` read the file as fast as it could: the voice, which skips
    what has gone stale to keep up with the captions, said 2 of a talk's 9 sentences."""
    from hudtranslate import runner
    from hudtranslate.speech_out import sinks

    wav = fake_file_run(tmp_path, monkeypatch, "talk.wav")
    paces: list[bool] = []
    read = runner.file_chunks

    def recorded(samples: Any, chunk_ms: int, realtime: bool) -> Any:
        paces.append(realtime)
        return read(samples, chunk_ms, False)  # the test itself need not wait

    monkeypatch.setattr(runner, "file_chunks", recorded)
    monkeypatch.setattr(sinks, "device_speech_sink", lambda options: None)
    assert run_cli(["file", str(wav), "--speak"], capsys)[0] == 0
    assert run_cli(["file", str(wav)], capsys)[0] == 0
    assert paces == [True, False]
    assert (tmp_path / "talk.jsonl").read_text().count("\n") == 1


def test_demo_fast_with_speak_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`demo --fast --speak` asked for two things that cannot both be had."""
    out = tmp_path / "demo"
    code, err = run_cli(["demo", "--fast", "--speak", "--out", str(out)], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--fast" in err and "--speak" in err
    assert not out.exists()


def test_video_named_as_the_input_wav_suggests_a_replay_it_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`file talk.wav --video talk.wav` suggested "talk-hud.wav", itself refused next."""
    wav = fake_file_run(tmp_path, monkeypatch, "talk.wav")
    code, err = run_cli(["file", str(wav), "--video", str(wav)], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "-hud.wav" not in err and ".mp4" in err


@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_ctrl_c_still_names_the_replay_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`file --video replay.gif` stopped with Ctrl-C wrote the replay but never said so
    (only the transcript's files were named)."""
    from hudtranslate import runner

    wav = fake_file_run(tmp_path, monkeypatch, "talk.wav")
    read = runner.file_chunks

    async def then_ctrl_c(samples: Any, chunk_ms: int, realtime: bool) -> Any:
        async for chunk in read(samples, chunk_ms, False):
            yield chunk
        await asyncio.sleep(1.0)  # the sentence is translated meanwhile
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(30)

    monkeypatch.setattr(runner, "file_chunks", then_ctrl_c)
    monkeypatch.setenv("COLUMNS", "400")
    replay = tmp_path / "replay.gif"
    assert main(["file", str(wav), "--video", str(replay)]) == 130
    assert replay.is_file() and (tmp_path / "talk.srt").is_file()
    assert f"wrote the display replay {replay}" in capsys.readouterr().out
