"""An output folder the user did not give is named as what it is in error lines, not as
an ``--out …`` they never typed."""

from pathlib import Path

import pytest

from hudtranslate import runner
from hudtranslate.cli import main
from hudtranslate.errors import ConfigError


def test_demo_names_its_default_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hudtranslate-demo").write_text("a file where the demo writes its folder")
    assert main(["demo", "--fast"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert ("the demo's folder (where --out defaults to) hudtranslate-demo is a file, "
            "not a folder") in err


def test_demo_names_out_when_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    given = tmp_path / "taken"
    given.write_text("a file")
    assert main(["demo", "--fast", "--out", str(given)]) == 1
    assert f"--out {given} is a file" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(("argv", "label"), [
    ([], "the current folder (where --out defaults to)"),
    (["--out", "kept"], "--out"),
])
def test_live_names_its_output_folder(argv: list[str], label: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def unwritable(name: str, folder: object, *, create: bool = True) -> None:
        raise ConfigError(f"{name} {folder}: cannot write there: read-only file system")

    monkeypatch.setattr(runner, "check_microphone", lambda settings: None)
    monkeypatch.setattr(runner, "ensure_writable_folder", unwritable)
    assert main(["live", *argv]) == 1
    assert f"{label} " in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(("audio_s", "cpu_s", "shown"), [
    (0.0, 1.5, "1.5 CPU-s"),  # a one-sample file had reported 23.15 CPU-s per audio-s
    (3.0, 2.4, "2.4 CPU-s"),
    (60.0, 48.0, "0.80 CPU-s per audio-s"),
])
def test_the_cpu_cost_is_a_ratio_only_over_enough_audio(audio_s: float, cpu_s: float,
                                                        shown: str) -> None:
    import io

    from rich.console import Console

    from hudtranslate.config import Settings
    from hudtranslate.pipeline import PipelineResult

    out = io.StringIO()
    runner._report(PipelineResult(duration_s=audio_s, cpu_s=cpu_s), Settings(),
                   Console(file=out, width=200), realtime=False)
    line = out.getvalue()
    assert f"· {shown}" in line and line.count("CPU-s") == 1
