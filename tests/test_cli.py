"""The command line as a user meets it: help, and one clear error line for bad input."""

import io
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile
from tests.conftest import fake_file_run

from hudtranslate.cli import build_parser, main


@pytest.mark.parametrize(
    "argv", [[], ["file"], ["live"], ["demo"], ["models"], ["models", "fetch"]]
)
def test_help_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: hudtranslate" in capsys.readouterr().out


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def test_missing_file_is_one_clear_line(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["file", str(tmp_path / "nope.wav")], capsys)
    assert code == 1
    assert "audio file not found" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"this is not audio at all", "not an audio file"), (b"", "audio file is empty")],
)
def test_non_audio_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        content: bytes, message: str) -> None:
    path = tmp_path / "fake.wav"
    path.write_bytes(content)
    code, err = run_cli(["file", str(path)], capsys)
    assert code == 1 and message in err and "Traceback" not in err


def test_empty_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np
    import soundfile

    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros(0, dtype=np.float32), 16000)
    code, err = run_cli(["file", str(path)], capsys)
    assert code == 1 and "empty" in err


def test_bad_setting_and_unknown_model(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = run_cli(["file", "talk.wav", "--threads", "0"], capsys)
    assert code == 1 and "threads must be between" in err
    monkeypatch.setenv("HUDTRANSLATE_CACHE_DIR", str(tmp_path))
    code, err = run_cli(["models", "fetch", "no-such-model"], capsys)
    assert code == 1 and "no-such-model" in err


def test_missing_model_names_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = Path(__file__).resolve().parents[1] / "src" / "hudtranslate" / "assets" / "demo_zh.wav"
    code, err = run_cli(["file", str(wav), "--cache-dir", str(tmp_path), "--out",
                         str(tmp_path / "out")], capsys)
    assert code == 1
    assert "hudtranslate models fetch whisper-base" in err


def test_serve_names_a_missing_overflow_model_before_loading_the_others(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["serve", "--port", "0", "--cache-dir", str(tmp_path), "--data-dir",
                         str(tmp_path / "sessions"), "--overflow-model", "qwen9"], capsys)
    assert code == 1 and "unknown translate model 'qwen9'" in err
    code, err = run_cli(["serve", "--port", "0", "--cache-dir", str(tmp_path), "--data-dir",
                         str(tmp_path / "sessions"), "--overflow-model", "qwen2.5-0.5b-q4_0"],
                        capsys)
    assert code == 1 and "hudtranslate models fetch qwen2.5-0.5b-q4_0" in err


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_a_wrong_overflow_model_is_named_as_the_overflow_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        how: str) -> None:
    """"unknown translate model 'qwen9'" (or "model path not found") sent a user who set
    the overflow model to look at the translation model, which was right."""
    flags = ["serve", "--port", "0", "--cache-dir", str(tmp_path), "--data-dir",
             str(tmp_path / "sessions")]
    for wrong in ("qwen9", str(tmp_path / "none.gguf")):
        if how == "flag":
            code, err = run_cli([*flags, "--overflow-model", wrong], capsys)
        else:
            monkeypatch.setenv("HUDTRANSLATE_OVERLOAD_OVERFLOW_MODEL", wrong)
            code, err = run_cli(flags, capsys)
        assert code == 1
        assert " ".join(err.split()).startswith(
            "error: overflow model (--overflow-model, overload.overflow_model): "), err


def test_serve_refuses_the_translation_model_as_its_own_overflow_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    code, err = run_cli(["serve", "--port", "0", "--cache-dir", str(tmp_path), "--data-dir",
                         str(tmp_path / "sessions"), "--mt-model", str(model),
                         "--overflow-model", str(tmp_path / "." / "model.gguf")], capsys)
    assert code == 1 and "is the translation model itself" in err


@pytest.mark.parametrize(("main_bytes", "overflow_bytes", "refused"), [
    (2_000_000, 1_000_000, False),
    (2_000_000, 2_000_000, True),  # a copy, or another quantisation of the same size
    (1_000_000, 2_000_000, True),  # bigger: slower than the model it would stand in for
])
def test_serve_refuses_an_overflow_model_no_smaller_than_the_translation_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        main_bytes: int, overflow_bytes: int, refused: bool) -> None:
    import hudtranslate.engines

    def loaded(settings: object) -> None:
        raise SystemExit("the checks passed: the models would load now")

    monkeypatch.setattr(hudtranslate.engines, "load_engines", loaded)
    main_model, overflow = tmp_path / "main.gguf", tmp_path / "small.gguf"
    main_model.write_bytes(b"GGUF" + bytes(main_bytes - 4))
    overflow.write_bytes(b"GGUF" + bytes(overflow_bytes - 4))
    flags = ["serve", "--port", "0", "--cache-dir", str(tmp_path), "--data-dir",
             str(tmp_path / "sessions"), "--mt-model", str(main_model),
             "--overflow-model", str(overflow)]
    if refused:
        code, err = run_cli(flags, capsys)
        assert code == 1 and "is no smaller than the translation model" in err, err
    else:
        with pytest.raises(SystemExit, match="the checks passed"):
            run_cli(flags, capsys)


@pytest.mark.parametrize(("flags", "message"), [
    (["--mic", "--file", "talk.wav"], "--mic and --file cannot be used together"),
    (["--loop"], "--loop plays a --file again and again"),
    (["--max-photo-mb", "-1"], "--max-photo-mb must be between 0.001 and 500, got -1"),
])
def test_serve_refuses_flags_that_contradict_or_mean_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    code, err = run_cli(["serve", "--port", "0", "--cache-dir", str(tmp_path), "--data-dir",
                         str(tmp_path / "sessions"), *flags], capsys)
    assert code == 1 and message in err


def test_flags_map_to_settings() -> None:
    from hudtranslate.cli import settings_from_args

    args = build_parser().parse_args(
        ["file", "x.wav", "--threads", "3", "--min-silence-ms", "400", "--no-partials",
         "--mt-model", "qwen2.5-0.5b"])
    settings = settings_from_args(args)
    assert settings.threads == 3
    assert settings.vad.min_silence_ms == 400
    assert settings.translate.translate_partials is False
    assert settings.translate.model == "qwen2.5-0.5b"


def test_a_rerun_keeps_the_earlier_transcript(tmp_path: Path) -> None:
    from rich.console import Console

    from hudtranslate.runner import keep_previous

    jsonl = tmp_path / "talk.jsonl"
    jsonl.write_text('{"old": 1}\n')
    assert keep_previous(jsonl, Console(file=io.StringIO())) == jsonl
    assert not jsonl.exists()
    (kept,) = tmp_path.glob("talk.*.jsonl")
    assert kept.read_text() == '{"old": 1}\n'
    jsonl.write_text('{"again": 1}\n')
    keep_previous(jsonl, Console(file=io.StringIO()))
    assert len(list(tmp_path.glob("talk.*.jsonl"))) == 2
    srt = tmp_path / "talk.srt"
    srt.write_text("1\nedited by hand\n")
    keep_previous(srt, Console(file=io.StringIO()))
    (kept_srt,) = tmp_path.glob("talk.*.srt")
    assert kept_srt.read_text() == "1\nedited by hand\n" and not srt.exists()


def test_a_rerun_keeps_the_earlier_frames_folder_whole(tmp_path: Path) -> None:
    """A second run's 5 frames written over the first's 21 left frames 6-21 of the first
    run in the folder: the earlier folder is moved aside whole; an empty one is used."""
    from rich.console import Console

    from hudtranslate.runner import keep_previous

    frames = tmp_path / "frames"
    frames.mkdir()
    keep_previous(frames, Console(file=io.StringIO()), folder=True)
    assert frames.is_dir()                         # empty: nothing to keep
    (frames / "frame_00001.png").write_bytes(b"png")
    (frames / "frames.jsonl").write_text("{}\n")
    shown = io.StringIO()
    keep_previous(frames, Console(file=shown), folder=True)
    (kept,) = tmp_path.glob("frames.*")
    assert not frames.exists() and sorted(p.name for p in kept.iterdir()) == [
        "frame_00001.png", "frames.jsonl"]
    assert "kept the earlier frames as" in shown.getvalue()


def test_an_output_that_is_the_input_is_refused(tmp_path: Path) -> None:
    from hudtranslate.errors import ConfigError
    from hudtranslate.runner import check_outputs_spare

    audio = tmp_path / "clip.srt"  # a recording that happens to be named like a subtitle
    audio.write_bytes(b"RIFF")
    with pytest.raises(ConfigError, match="would replace the input"):
        check_outputs_spare(audio, tmp_path, audio.stem)
    check_outputs_spare(audio, tmp_path / "elsewhere", audio.stem)  # --out elsewhere: fine
    check_outputs_spare(tmp_path / "clip.wav", tmp_path, "clip")


@pytest.mark.parametrize("clash", ["--video", "a folder"])
def test_a_video_that_is_the_input_or_an_output_folder_is_refused_before_the_models_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], clash: str) -> None:
    """``file talk.mp4 --video talk.mp4`` moved the recording aside, and a folder called
    ``talk.srt`` failed the run, both once the models had loaded."""
    clip = tmp_path / "talk.mp4"
    soundfile.write(clip, np.zeros(16_000, np.float32), 16_000, format="WAV")
    argv = ["file", str(clip), "--cache-dir", str(tmp_path / "cache")]  # no models there
    if clash == "--video":
        argv += ["--video", str(clip)]
    else:
        (tmp_path / "talk.srt").mkdir()
    code, err = run_cli(argv, capsys)
    assert code == 1
    assert ("is the input: name the replay otherwise" if clash == "--video"
            else "talk.srt is a folder: move it") in err
    assert clip.exists() and list(tmp_path.glob("talk.*.mp4")) == []


@pytest.mark.parametrize("frames", [".", "talks", "talks/"])
def test_a_frames_folder_holding_the_input_or_the_current_folder_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frames: str) -> None:
    """A rerun moves an earlier frames folder aside whole: ``--frames talks`` moved the
    folder of the recording (and all beside it), ``--frames .`` was a ValueError traceback,
    both once the models had loaded."""
    from hudtranslate.errors import ConfigError
    from hudtranslate.runner import check_frames_folder

    talks = tmp_path / "talks"
    talks.mkdir()
    monkeypatch.chdir(talks if frames == "." else tmp_path)
    with pytest.raises(ConfigError, match="give the frames a folder of their own"):
        check_frames_folder(Path(frames), talks / "talk.wav")
    check_frames_folder(tmp_path / "frames", talks / "talk.wav")  # beside it: fine
    check_frames_folder(talks / "frames", talks / "talk.wav")  # inside it: fine


def test_file_refuses_frames_in_the_inputs_folder_before_the_models_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = tmp_path / "clip.wav"
    soundfile.write(clip, np.zeros(16_000, np.float32), 16_000)
    code, err = run_cli(["file", str(clip), "--frames", str(tmp_path),
                         "--cache-dir", str(tmp_path / "cache")], capsys)  # no models there
    assert code == 1 and "give the frames a folder of their own" in err
    assert clip.exists()


def test_the_bench_report_folder_is_checked_before_anything_runs(tmp_path: Path) -> None:
    from hudtranslate.errors import ConfigError, ensure_writable_folder

    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match=r"--out-dir .* which is a file"):
        ensure_writable_folder("--out-dir", a_file / "report")
    ensure_writable_folder("--out-dir", tmp_path / "new" / "report")
    assert (tmp_path / "new" / "report").is_dir()
    assert not list((tmp_path / "new" / "report").iterdir())  # the check leaves nothing


class _PortAudioError(Exception):
    pass


def _sounddevice(inputs: int) -> types.SimpleNamespace:
    """A stand-in for ``sounddevice`` with ``inputs`` microphones that take any format."""
    devices = [{"name": f"mic {n}", "max_input_channels": 1, "default_samplerate": 48_000}
               for n in range(inputs)]
    return types.SimpleNamespace(PortAudioError=_PortAudioError,
                                 query_devices=lambda *args, **kwargs: devices,
                                 check_input_settings=lambda **kwargs: None)


@pytest.mark.parametrize(("inputs", "message"), [
    (0, "no microphone found: no audio input device is connected"),
    (1, "hudtranslate models fetch whisper-base"),
])
def test_live_that_fails_before_recording_makes_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    inputs: int, message: str,
) -> None:
    """`live --out NEWDIR` with no microphone (or a missing model) made an empty NEWDIR
    before failing."""
    monkeypatch.setitem(sys.modules, "sounddevice", _sounddevice(inputs))
    out = tmp_path / "new" / "session"
    code, err = run_cli(["live", "--out", str(out), "--cache-dir", str(tmp_path / "cache")],
                        capsys)
    assert code == 1 and message in err
    assert not (tmp_path / "new").exists()


def test_live_with_a_busy_microphone_makes_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A microphone that is listed but held by another program fails only when opened,
    after the models load: `live --out NEWDIR` had made NEWDIR (and empty exports)."""
    from hudtranslate import runner

    def busy(**kwargs: object) -> None:
        raise _PortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")

    fake = _sounddevice(1)
    fake.InputStream = busy
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    monkeypatch.setattr(runner, "load_engines", lambda settings: object())
    out = tmp_path / "new" / "session"
    code, err = run_cli(["live", "--out", str(out)], capsys)
    assert code == 1 and "no microphone found" in err and "Device unavailable" in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("audio", ["speech", "not audio"])
def test_file_that_fails_before_translating_makes_no_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], audio: str) -> None:
    """`file x.wav --out NEWDIR` with a missing model (or audio it cannot read) made an
    empty NEWDIR before failing; `--video NEWDIR/replay.gif` made its NEWDIR too."""
    clip = tmp_path / "clip.wav"
    if audio == "speech":
        soundfile.write(clip, np.zeros(16_000, np.float32), 16_000)
    else:
        clip.write_bytes(b"not a recording at all")
    out = tmp_path / "new" / "session"
    code, err = run_cli(["file", str(clip), "--out", str(out), "--frames", str(tmp_path / "f"),
                         "--video", str(tmp_path / "v" / "replay.gif"),
                         "--cache-dir", str(tmp_path / "cache")], capsys)
    assert code == 1 and err.strip()
    assert not (tmp_path / "new").exists() and not (tmp_path / "f").exists()
    assert not (tmp_path / "v").exists()


def test_a_folder_made_later_is_checked_now(tmp_path: Path) -> None:
    from hudtranslate.errors import ConfigError, ensure_writable_folder

    ensure_writable_folder("--out", tmp_path / "new" / "session", create=False)
    assert list(tmp_path.iterdir()) == []  # not made, and the check leaves nothing
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match=r"--out .* which is a file"):
        ensure_writable_folder("--out", a_file / "session", create=False)


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_serve_refuses_a_port_out_of_range_before_loading_models(port: str) -> None:
    with pytest.raises(SystemExit) as ended:
        build_parser().parse_args(["serve", "--port", port])
    assert ended.value.code == 2


def test_serve_takes_port_zero_for_a_free_one() -> None:
    assert build_parser().parse_args(["serve", "--port", "0"]).port == 0


def test_a_folder_option_that_is_a_file_is_named_before_anything_runs(tmp_path: Path) -> None:
    from hudtranslate.errors import ConfigError, check_folder

    a_file = tmp_path / "clip.wav"
    a_file.write_bytes(b"RIFF")
    with pytest.raises(ConfigError, match=r"--cache-dir .* is a file, not a folder"):
        check_folder("--cache-dir", a_file)
    with pytest.raises(ConfigError, match=r"is under .*clip\.wav, which is a file"):
        check_folder("--frames", a_file / "frames" / "deeper")
    check_folder("--out", tmp_path / "not" / "made" / "yet")  # creatable: fine
    check_folder("--out", tmp_path)


def test_cli_reports_a_cache_dir_that_is_a_file_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "cache"
    a_file.write_text("x")
    assert main(["models", "list", "--cache-dir", str(a_file)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("origin", ["--cache-dir", "HUDTRANSLATE_CACHE_DIR", "cache_dir",
                                    "XDG_CACHE_HOME"])
def test_a_bad_cache_folder_is_named_where_it_was_set(
        origin: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not always "--cache-dir": a user who set a variable or a config key never typed it."""
    for variable in ("HUDTRANSLATE_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    a_file = tmp_path / "cache"
    a_file.write_text("x")
    argv = ["models", "list"]
    if origin == "--cache-dir":
        argv += ["--cache-dir", str(a_file)]
    elif origin == "cache_dir":
        config = tmp_path / "hud.toml"
        config.write_text(f"cache_dir = {str(a_file)!r}\n", encoding="utf-8")
        argv += ["--config", str(config)]
    else:
        monkeypatch.setenv(origin, str(a_file))
    assert main(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    expected = {"cache_dir": f"cache_dir in {tmp_path / 'hud.toml'} {a_file} is a file",
                "XDG_CACHE_HOME": f"the model cache (XDG_CACHE_HOME) {a_file}/hudtranslate "
                                  f"is under {a_file}, which is a file"}
    assert expected.get(origin, f"{origin} {a_file} is a file, not a folder") in err
    assert origin == "--cache-dir" or "--cache-dir" not in err


def test_a_replay_format_is_checked_before_the_run(tmp_path: Path) -> None:
    from hudtranslate.captions.replay import check_replay_path
    from hudtranslate.errors import ConfigError

    with pytest.raises(ConfigError, match="use one of"):
        check_replay_path(tmp_path / "out.xyz")
    for name in ("out.mp4", "out.GIF", "out.png"):
        check_replay_path(tmp_path / name)
    (tmp_path / "isdir.gif").mkdir()
    with pytest.raises(ConfigError, match="is a folder: name the replay file"):
        check_replay_path(tmp_path / "isdir.gif")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_replay_path(a_file / "out.gif")
    with pytest.raises(ConfigError, match="cannot write there"):
        check_replay_path(Path("/proc/hudtranslate-test/out.gif"))


def test_a_replay_that_cannot_be_written_is_one_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from PIL import Image

    from hudtranslate.captions.replay import write_replay
    from hudtranslate.errors import DataError

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with pytest.raises(DataError, match=r"cannot write the replay .*: No space left"):
        write_replay([(0.0, Image.new("RGB", (4, 4)))], 1.0, tmp_path / "out.gif")


def test_an_unknown_display_profile_is_an_error_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HUDTRANSLATE_DISPLAY_PROFILE", "bogus")
    assert main(["models", "list", "--cache-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "unknown display profile 'bogus'" in err and "HUDTRANSLATE_DISPLAY_PROFILE" in err


@pytest.mark.parametrize("argv", [
    ["file", "talk.wav", "--bogus"],
    ["transcripts", "list", "--bogus"],
    ["models", "fetch", "--bogus"],
])
def test_an_unknown_option_shows_its_command_usage(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    assert ended.value.code == 2
    error = capsys.readouterr().err
    command = " ".join(argv[:-1] if argv[0] != "file" else argv[:1])
    assert f"usage: hudtranslate {command}" in error
    assert f"hudtranslate {command}: error: unrecognized arguments: --bogus" in error


@pytest.mark.parametrize("argv", [["stream", "talk.wav"], ["transcripts", "list"]])
def test_wearer_side_commands_do_not_take_the_servers_settings(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main([*argv, "--asr-model", "whisper-base"])  # would be ignored: refused instead
    assert ended.value.code == 2
    assert "unrecognized arguments: --asr-model" in capsys.readouterr().err


@pytest.mark.parametrize("flag", [["--mt-model", "qwen2.5-0.5b"], ["--asr-model", "x"],
                                  ["--threads", "2"], ["--glossary", "g.toml"], ["--no-source"]])
def test_models_commands_do_not_take_the_pipelines_settings(
        flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``models fetch --mt-model qwen2.5-0.5b`` fetched the default models instead: the
    flag was offered and ignored. Only ``--cache-dir``, ``--config`` and ``-v`` apply."""
    with pytest.raises(SystemExit) as ended:
        main(["models", "fetch", *flag])
    assert ended.value.code == 2
    assert f"unrecognized arguments: {flag[0]}" in capsys.readouterr().err


def test_a_broken_gguf_of_the_users_own_gets_advice_that_applies_to_it(
        tmp_path: Path) -> None:
    from hudtranslate.config import Settings
    from hudtranslate.engines import load_translator
    from hudtranslate.errors import ModelError

    broken = tmp_path / "mine.gguf"
    broken.write_bytes(b"GGUF" + bytes(60))  # the magic, then a copy that stopped
    settings = Settings.load(env={}, overrides={"translate.model": str(broken),
                                                "cache_dir": str(tmp_path / "cache")})
    with pytest.raises(ModelError) as raised:
        load_translator(settings, 1)
    message = str(raised.value)
    assert "cannot load translation model" in message
    assert "complete GGUF model" in message and "models verify" not in message


def test_a_display_that_cannot_fit_is_an_error_before_the_models_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found after 10-22 s of loading before, and named "custom" instead of the profile."""
    config = tmp_path / "hud.toml"
    config.write_text('[display]\nprofile = "even-g1"\nline_height_px = 1\n')
    missing = tmp_path / "nothing.wav"
    assert main(["file", str(missing), "--config", str(config)]) == 1
    error = capsys.readouterr().err
    assert "display even-g1 with your [display] settings: line height 1 px" in error
    assert "not found" not in error   # refused before the audio is even read


def test_ctrl_c_says_what_was_kept(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A caption session has written its transcript as it went; the bench writes its
    report only at the end, so it must not claim anything was saved."""
    from hudtranslate import cli

    parse = cli.parse_command_line

    def interrupted(argv: list[str]) -> object:
        args = parse(argv)

        def handler(*_: object) -> int:
            raise KeyboardInterrupt

        args.handler = handler
        return args

    monkeypatch.setattr(cli, "parse_command_line", interrupted)
    assert main(["bench", "--text", str(tmp_path / "text.jsonl")]) == 130
    assert "no report written" in capsys.readouterr().err
    assert main(["file", str(tmp_path / "talk.wav")]) == 130
    assert "transcript so far was saved" in capsys.readouterr().err


def test_file_names_an_output_folder_with_brackets_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """rich read ``[draft]`` in ``--out`` as a style tag: "wrote …/out /talk.jsonl" named a
    folder that does not exist."""
    wav = fake_file_run(tmp_path, monkeypatch, "talk.wav")
    monkeypatch.setenv("COLUMNS", "400")
    out = tmp_path / "[draft] out"
    assert main(["file", str(wav), "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert f"wrote {out / 'talk.jsonl'}, {out / 'talk.srt'}" in shown
    assert (out / "talk.jsonl").read_text().count("\n") == 1
