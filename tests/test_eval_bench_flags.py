"""``hudtranslate bench`` given options it would not use: one error line, nothing run, no
empty ``--out-dir`` left behind."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hudtranslate.cli import main
from hudtranslate.eval import cli as bench_cli
from hudtranslate.eval import runner

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> int:
        raise AssertionError("nothing may run for a refused command line")

    for name in ("run_language_bench", "run_converse_bench", "run_image_bench"):
        monkeypatch.setattr(bench_cli, name, refuse)
    monkeypatch.setattr(runner, "load_bench_engines", refuse)


def test_language_id_and_converse_together_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bench", "--utterances", "u.jsonl", "--text", "t.jsonl", "--language-id",
              "--converse", "--out-dir", str(tmp_path / "out")])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("extra, named", [
    (["--voice"], "--voice"),
    (["--talks", "talks.jsonl"], "--talks"),
    (["--images", "images.jsonl"], "--images"),
    (["--systems", "hudtranslate"], "--systems"),
    (["--direction", "en-zh"], "--direction"),
])
@pytest.mark.parametrize("alone", ["--language-id", "--converse"])
def test_a_benchmark_of_its_own_refuses_what_it_would_ignore(
        alone: str, extra: list[str], named: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["bench", alone, "--utterances", "u.jsonl", "--text", "t.jsonl", *extra,
                 "--out-dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{alone} is a benchmark of its own: run {named}" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("extra, message", [
    (["--repeat", "3"], "--repeat applies to the talks: give --talks too"),
    (["--creep-minutes", "5"], "--creep-minutes applies to the talks: give --talks too"),
])
def test_talk_options_without_talks_are_refused(
        extra: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--utterances", "u.jsonl", *extra,
                 "--out-dir", str(tmp_path / "out")]) == 1
    assert message in capsys.readouterr().err


def test_systems_without_a_system_input_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--images", "images.jsonl", "--systems", "hudtranslate",
                 "--out-dir", str(tmp_path / "out")]) == 1
    assert "--systems applies to --talks, --utterances and --text" in capsys.readouterr().err


def test_bad_input_leaves_no_empty_out_dir(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "bench-out"
    assert main(["bench", "--utterances", str(tmp_path / "missing.jsonl"),
                 "--out-dir", str(out)]) == 1
    assert "manifest not found" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_the_out_dir_is_made_when_the_report_is_written(tmp_path: Path) -> None:
    args = argparse.Namespace(out_dir=tmp_path / "new" / "bench-out")
    bench_cli._publish(args, {"metadata": {"date": "2026-12-03", "machine": {"cpu_cores": 2},
                                           "git_commit": None},
                              "systems": {}, "targets": {}})
    assert (tmp_path / "new" / "bench-out" / "report.json").is_file()



def test_a_report_file_name_as_out_dir_is_refused(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    assert main(["bench", "--utterances", "u.jsonl", "--out-dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert "a folder for report.json and report.md" in err and str(tmp_path / "results") in err
    assert not out.exists()


def test_an_existing_folder_with_a_dotted_name_is_kept(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.md"
    out.mkdir()
    assert main(["bench", "--utterances", str(tmp_path / "missing.jsonl"),
                 "--out-dir", str(out)]) == 1
    assert "manifest not found" in capsys.readouterr().err
