"""A file where the model cache needs a folder (``models/`` or a model's own folder made
a file by a stray ``cp``/``mv``): every ``models`` command and a run that loads the model
give one line naming that file and the way out, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hudtranslate.cli import main


@pytest.mark.parametrize("blocked", ["models", "models/whisper-base"])
@pytest.mark.parametrize("command", [
    ["models", "list"],
    ["models", "verify"],
    ["models", "verify", "whisper-base"],
    ["models", "fetch", "whisper-base", "--no-progress"],
])
def test_a_file_in_the_place_of_a_cache_folder_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], blocked: str, command: list[str]
) -> None:
    cache = tmp_path / "cache"
    in_the_way = cache / blocked
    in_the_way.parent.mkdir(parents=True)
    in_the_way.write_text("not a folder\n")

    code = main([*command, "--cache-dir", str(cache)])

    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert f"{in_the_way} is a file" in err.replace("\n", "")
    assert "move it aside" in err
    assert in_the_way.read_text() == "not a folder\n"  # the user's file is left alone
