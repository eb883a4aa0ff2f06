"""Ctrl-C in `live`: the first press ends the recording and the sentence being spoken is
still translated and written (exit 0); a second press quits at once (exit 130)."""

import asyncio
import json
import os
import signal
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest

from hudtranslate import runner
from hudtranslate.cli import main
from hudtranslate.events import AudioChunk
from hudtranslate.pipeline import Engines
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, tone_and_silence

SENTENCE = "我们明天早上八点在会议室见面。"


pytestmark = pytest.mark.usefixtures("ctrl_c_interrupts")


def microphone(presses: int, slow_translation: bool,
               monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A microphone that hears one sentence spoken on and on, pressing Ctrl-C ``presses``
    times 1 s into it; returns the list the number of chunks it gave is appended to."""
    given: list[int] = []
    speech = tone_and_silence([(0.3, False), (30.0, True)])

    async def chunks(settings: object) -> AsyncGenerator[AudioChunk, None]:
        step = 1600
        for number, begin in enumerate(range(0, len(speech), step)):
            if number == 13:
                for _ in range(presses):
                    os.kill(os.getpid(), signal.SIGINT)
                    await asyncio.sleep(0.2)
            given.append(number)
            await asyncio.sleep(0.002)
            yield AudioChunk(samples=speech[begin:begin + step], start_s=begin / 16_000)

    backend = FakeBackend(delay_s=3.0 if slow_translation else 0.0)
    monkeypatch.setattr(runner, "check_microphone", lambda settings: None)
    monkeypatch.setattr(runner, "microphone_chunks", chunks)
    monkeypatch.setattr(runner, "load_engines", lambda settings: Engines(
        asr=FakeDecoder([SENTENCE], chars_per_s=8.0), translator=backend,
        vad_factory=FakeVad))
    return given


def test_the_first_ctrl_c_still_writes_the_sentence_being_spoken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    given = microphone(1, False, monkeypatch)
    assert main(["live", "--out", str(tmp_path)]) == 0
    assert len(given) < 30  # the recording ended at the press, not at the end of the audio
    assert "finishing the sentence being spoken" in capsys.readouterr().out
    (jsonl,) = tmp_path.glob("hudtranslate-live-*.jsonl")
    (record,) = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert record["zh"] and SENTENCE.startswith(record["zh"].rstrip("。"))
    assert record["en"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_quits_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    microphone(2, True, monkeypatch)
    assert main(["live", "--out", str(tmp_path)]) == 130
    assert "transcript so far was saved" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_run_that_ignores_ctrl_c_goes_on_ignoring_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started under ``nohup`` or with ``&`` in a script, Ctrl-C is ignored: live must not
    take it back (the microphone here runs to the end of its 30 s)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    given = microphone(1, False, monkeypatch)
    assert main(["live", "--out", str(tmp_path)]) == 0
    assert len(given) > 290
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
