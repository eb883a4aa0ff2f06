import re
from pathlib import Path

import pytest

from hudtranslate.config import Settings, VadOptions
from hudtranslate.errors import ConfigError


def test_defaults_are_valid() -> None:
    settings = Settings.load(env={})
    assert settings.threads == 2
    assert settings.vad.min_silence_ms > 0
    assert settings.asr.model == "whisper-base"


def test_precedence_toml_env_cli(tmp_path: Path) -> None:
    toml = tmp_path / "hud.toml"
    toml.write_text("threads = 4\n[vad]\nmin_silence_ms = 500\nthreshold = 0.6\n")
    env = {"HUDTRANSLATE_VAD_MIN_SILENCE_MS": "400", "HUDTRANSLATE_ASR_BEAM_SIZE": "2"}
    settings = Settings.load(toml, env=env, overrides={"threads": 3, "vad.threshold": None})
    assert settings.threads == 3  # CLI beats TOML
    assert settings.vad.min_silence_ms == 400  # env beats TOML
    assert settings.vad.threshold == 0.6  # TOML beats default; None override is skipped
    assert settings.asr.beam_size == 2


def test_boolean_from_environment() -> None:
    env = {"HUDTRANSLATE_TRANSLATE_TRANSLATE_PARTIALS": "false"}
    assert Settings.load(env=env).translate.translate_partials is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUDTRANSLATE_THREADS": "zero"}, "threads must be an integer"),
        ({"HUDTRANSLATE_THREADS": "0"}, "threads must be between"),
        ({"HUDTRANSLATE_VAD_THRESHOLD": "2"}, "vad.threshold must be between"),
        ({"HUDTRANSLATE_AUDIO_REALTIME": "maybe"}, "must be true or false"),
        ({"HUDTRANSLATE_ASR_SAME_SOUND_MARGIN": "-1"}, "asr.same_sound_margin must be between"),
    ],
)
def test_bad_values_give_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(env=env)


def test_unknown_toml_key_and_bad_toml(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[vad]\nmin_silence = 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting min_silence in \[vad\] "
                                          r"\(did you mean min_silence_ms\?\)"):
        Settings.load(unknown, env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("threads = = 2")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(broken, env={})
    with pytest.raises(ConfigError, match="config file not found"):
        Settings.load(tmp_path / "missing.toml", env={})


def test_every_unknown_key_is_named_at_once(tmp_path: Path) -> None:
    toml = tmp_path / "several.toml"
    toml.write_text("thread = 2\nfoo = 1\n[vad]\nthreshhold = 0.5\n[bogus]\nx = 1\n")
    with pytest.raises(ConfigError) as raised:
        Settings.load(toml, env={})
    message = str(raised.value)
    assert "unknown setting thread in top level (did you mean threads?)" in message
    assert "unknown setting foo in top level" in message
    assert "foo in top level (did you mean" not in message  # nothing is close to foo
    assert "unknown setting threshhold in [vad] (did you mean threshold?)" in message
    assert "unknown section [bogus]" in message


@pytest.mark.parametrize(("content", "message"), [
    (None, "is a folder, not a TOML file"),
    (b"\xff\xfe threads = 2", "is not UTF-8 text"),
])
def test_an_unreadable_config_file_is_one_clear_error(
        tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "hud.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        Settings.load(path, env={})


def test_unrelated_environment_is_ignored() -> None:
    assert Settings.load(env={"HUDTRANSLATE_NOT_A_SETTING": "1", "PATH": "/bin"}).threads == 2


def test_a_mistyped_variable_is_warned_about_with_the_right_name(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        settings = Settings.load(env={"HUDTRANSLATE_VAD_MIN_SILENCE": "500",
                                      "HUDTRANSLATE_TOKEN": "secret"})
    assert settings.vad.min_silence_ms == VadOptions().min_silence_ms
    (record,) = caplog.records
    assert "HUDTRANSLATE_VAD_MIN_SILENCE is not a hudtranslate setting" in record.getMessage()
    assert "did you mean HUDTRANSLATE_VAD_MIN_SILENCE_MS?" in record.getMessage()


@pytest.mark.parametrize(("given", "meant"), [
    ("HUDTRANSLATE_MODE", "HUDTRANSLATE_CONVERSATION_MODE"),
    ("HUDTRANSLATE_SPEAK", "HUDTRANSLATE_VOICE_SPEAK")])
def test_a_variable_without_its_section_names_the_one_it_belongs_to(
        caplog: pytest.LogCaptureFixture, given: str, meant: str) -> None:
    """``HUDTRANSLATE_MODE=converse`` (the flag is ``--mode``) was ignored with no hint:
    the names differ by a whole section, too much for the spelling match."""
    with caplog.at_level("WARNING"):
        Settings.load(env={given: "1"})
    (record,) = caplog.records
    assert f"{given} is not a hudtranslate setting and is ignored (did you mean {meant}?)" \
        in record.getMessage()


def test_a_variable_close_to_nothing_gets_no_suggestion(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        Settings.load(env={"HUDTRANSLATE_FOO": "1"})
    (record,) = caplog.records
    assert "HUDTRANSLATE_FOO is not a hudtranslate setting and is ignored" in record.getMessage()
    assert "did you mean" not in record.getMessage()


def test_a_variable_naming_a_section_is_warned_about_not_called_a_table(
        caplog: pytest.LogCaptureFixture) -> None:
    """``HUDTRANSLATE_VAD=1`` had been the error "[vad] must be a table of settings", which
    speaks of a TOML file the user never wrote."""
    with caplog.at_level("WARNING"):
        assert Settings.load(env={"HUDTRANSLATE_VAD": "1"}) == Settings.load(env={})
    assert "HUDTRANSLATE_VAD is not a hudtranslate setting and is ignored" in caplog.text


@pytest.mark.parametrize(("value", "kind"), [
    ('["a.tsv", "b.tsv"]', "an array"), ("{ name = 'x' }", "a table"),
    ("false", "a boolean"), ("2026-12-03", "a date")])
def test_a_text_setting_given_no_text_is_an_error(tmp_path: Path, value: str, kind: str) -> None:
    """An array had become the glossary "['a.tsv', 'b.tsv']" (an error about a file of
    that name, long after), ``false`` the file "False"."""
    path = tmp_path / "hud.toml"
    path.write_text(f"[translate]\nglossary = {value}\n")
    with pytest.raises(ConfigError, match=f"translate.glossary must be text .*, got {kind}"):
        Settings.load(path, env={})


@pytest.mark.parametrize(("line", "message"), [
    ("[vad]\nthreshold = [0.5]", "vad.threshold must be a number, got an array"),
    ("[vad.threshold]", "vad.threshold must be a number, got a table"),
    ("[vad]\nthreshold = 2026-12-03", "vad.threshold must be a number, got a date"),
    ("threads = [2]", "threads must be an integer, got an array"),
    ("threads = true", "threads must be an integer, got a boolean"),
    ("[captions]\nshow_source = [true]", "captions.show_source must be true or false, got an "
                                         "array")])
def test_a_value_of_the_wrong_toml_type_is_one_error(
        tmp_path: Path, line: str, message: str) -> None:
    """An array, table or date for a number had been float()'s TypeError traceback."""
    path = tmp_path / "hud.toml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.load(path, env={})


def test_a_number_is_taken_as_text_where_text_is_wanted(tmp_path: Path) -> None:
    path = tmp_path / "hud.toml"
    path.write_text("[audio]\ndevice = 3\n")
    assert Settings.load(path, env={}).audio.device == "3"  # an input device's index


def test_a_bad_value_names_the_variable_or_file_that_set_it(tmp_path: Path) -> None:
    """"vad.threshold must be between ..." alone sent a user whose variable was wrong to look
    in a config file, and one with a config file to guess which."""
    toml = tmp_path / "hud.toml"
    toml.write_text("[vad]\nthreshold = 0.5\n[captions]\nmax_chars_per_line = 5\n")
    with pytest.raises(ConfigError, match=r"got 5 \(from .*hud\.toml\)$"):
        Settings.load(toml, env={})
    env = {"HUDTRANSLATE_VAD_THRESHOLD": "2"}
    with pytest.raises(ConfigError, match=r"got 2\.0 \(from HUDTRANSLATE_VAD_THRESHOLD\)$"):
        Settings.load(toml, env=env, overrides={"captions.max_chars_per_line": 42})
    with pytest.raises(ConfigError, match=r"got 4$"):  # typed just now: nothing to add
        Settings.load(toml, env={}, overrides={"captions.max_chars_per_line": 4})


def test_thresholds_out_of_order_name_the_variable_or_file_that_set_them(
        tmp_path: Path) -> None:
    """The one check of several settings together had named no origin."""
    env = {"HUDTRANSLATE_OVERLOAD_FINAL_BEAM_LAG_S": "1"}
    with pytest.raises(ConfigError, match=r"must grow: .* got 2\.5, 4\.0, 1\.0 \(from "
                                          r"HUDTRANSLATE_OVERLOAD_FINAL_BEAM_LAG_S\)$"):
        Settings.load(None, env=env)
    toml = tmp_path / "hud.toml"
    toml.write_text("[overload]\npartial_translations_lag_s = 10\n")
    with pytest.raises(ConfigError, match=r"must grow: .*\(from .*hud\.toml\)$"):
        Settings.load(toml, env={})


def test_an_unknown_key_names_the_config_file(tmp_path: Path) -> None:
    toml = tmp_path / "hud.toml"
    toml.write_text("[vad]\ntreshold = 0.5\n")
    with pytest.raises(ConfigError, match=r"^config file .*hud\.toml: unknown setting "
                                          r"treshold in \[vad\]"):
        Settings.load(toml, env={})


def test_a_cache_dir_from_a_file_or_variable_expands_the_home_folder(tmp_path: Path) -> None:
    """``cache_dir = "~/models"`` had been a folder called "~" in the current folder: the
    models there were listed as missing and fetched again into it."""
    toml = tmp_path / "hud.toml"
    toml.write_text('cache_dir = "~/models"\n')
    assert Settings.load(toml, env={}).cache_path == Path.home() / "models"
    env = {"HUDTRANSLATE_CACHE_DIR": "~/m"}
    assert Settings.load(env=env).cache_path == Path.home() / "m"


def test_a_setting_under_the_wrong_table_names_its_table(tmp_path: Path) -> None:
    """TOML puts every line after ``[vad]`` in [vad]: ``threads`` written there, or
    ``threshold`` at the top, had been an "unknown setting" with no way out."""
    toml = tmp_path / "hud.toml"
    toml.write_text('threshold = 0.5\nmodel = "x"\n[vad]\nthreads = 2\n')
    with pytest.raises(ConfigError) as raised:
        Settings.load(toml, env={})
    message = str(raised.value)
    assert "unknown setting threshold in top level (it belongs in [vad])" in message
    assert "unknown setting model in top level (it belongs in [asr] or [translate])" in message
    assert ("unknown setting threads in [vad] (a top-level setting: put it above the first "
            "[section])") in message


def test_a_config_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows Notepad saves UTF-8 with a BOM: tomllib alone called it "Invalid statement
    (at line 1, column 1)"."""
    path = tmp_path / "hud.toml"
    path.write_bytes("\ufeffthreads = 1\n[vad]\nthreshold = 0.4\n".encode())
    settings = Settings.load(path, env={})
    assert (settings.threads, settings.vad.threshold) == (1, 0.4)
