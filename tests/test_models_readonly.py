"""A model cache that cannot be written (read-only mount, full disk): an intact model still
loads, and fetch and verify fail with one line naming the folder, never a traceback; and
``models verify`` reports each model on one line."""

from __future__ import annotations

import argparse
import errno
import io
import os
import pathlib
import shlex
import tempfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from tests.test_models import _corrupt_in_place, _gguf_spec, _install

from hudtranslate.cli import main
from hudtranslate.errors import ModelError, ModelFetchError
from hudtranslate.models import ModelState, model_state, resolve_model, verify
from hudtranslate.models import commands as commands_module
from hudtranslate.models import resolve as resolve_module
from hudtranslate.models.commands import run_verify


def _read_only(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Writes under ``root`` fail as on a read-only mount (chmod does not stop root)."""

    def inside(path: Any) -> bool:
        return Path(os.fspath(path)).absolute().is_relative_to(root.absolute())

    def refuse(path: Any) -> OSError:
        return OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    def guard(name: str) -> None:
        real = getattr(pathlib.Path, name)

        def guarded(self: Path, *args: Any, **kwargs: Any) -> Any:
            mode = args[0] if args and name == "open" else kwargs.get("mode", "r")
            if inside(self) and (name != "open" or any(c in mode for c in "wax+")):
                raise refuse(self)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, name, guarded)

    for name in ("mkdir", "open", "write_text", "write_bytes", "unlink", "touch"):
        guard(name)
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        if inside(source) or inside(target):
            raise refuse(target)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    real_temporary = tempfile.NamedTemporaryFile

    def temporary(*args: Any, **kwargs: Any) -> Any:
        folder = kwargs.get("dir")
        if folder is not None and inside(folder):
            raise refuse(folder)
        return real_temporary(*args, **kwargs)

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", temporary)


def _unverified(path: Path) -> None:
    """The stamp no longer vouches for the file (as after a copy or a restore)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_an_intact_model_in_a_read_only_cache_verifies_and_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    spec, data = _gguf_spec()
    cache = tmp_path / "cache"
    _install(spec, data, tmp_path, cache)
    _unverified(spec.file_path(cache))
    monkeypatch.setattr(resolve_module, "CATALOGUE", {spec.name: spec})
    _read_only(monkeypatch, cache)
    verify(spec, cache)
    assert resolve_model(spec.name, "translate", cache) == spec.file_path(cache)
    assert "hashed again at every start" in caplog.text
    assert model_state(spec, cache) is ModelState.UNVERIFIED


def test_a_corrupt_model_in_a_read_only_cache_is_a_model_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, data = _gguf_spec()
    cache = tmp_path / "cache"
    _install(spec, data, tmp_path, cache)
    _corrupt_in_place(spec.file_path(cache))
    _read_only(monkeypatch, cache)
    with pytest.raises(ModelError, match="corrupt"):
        verify(spec, cache)


def test_fetch_into_a_read_only_cache_names_the_folder_and_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, data = _gguf_spec()
    cache = tmp_path / "cache"
    cache.mkdir()
    _read_only(monkeypatch, cache)
    with pytest.raises(ModelFetchError) as info:
        _install(spec, data, tmp_path, cache)
    message = str(info.value)
    assert str(spec.model_dir(cache)) in message and "Read-only file system" in message
    assert "--cache-dir" in message and "\n" not in message


def test_models_fetch_in_a_read_only_cache_is_one_error_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _read_only(monkeypatch, cache)
    assert main(["models", "fetch", "whisper-base", "--no-progress",
                 "--cache-dir", str(cache)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot install model 'whisper-base'")
    assert "Traceback" not in err


def test_models_verify_says_each_failure_on_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A piped ``models verify`` keeps one line per model (rich wraps at 80 columns
    otherwise), so ``grep`` finds the model's path and the fix together."""
    spec, data = _gguf_spec()
    cache = tmp_path / "a deep folder" / ("long-name-" * 6) / "cache"
    _install(spec, data, tmp_path, cache)
    _corrupt_in_place(spec.file_path(cache))
    monkeypatch.setattr(commands_module, "CATALOGUE", {spec.name: spec})
    monkeypatch.setattr(commands_module, "get_spec", lambda name: spec)
    out = io.StringIO()
    args = argparse.Namespace(names=[spec.name])
    assert run_verify(args, cache, Console(file=out, width=80)) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and str(spec.file_path(cache)) in lines[0]
    assert lines[0].endswith(f"run: hudtranslate models fetch {spec.name} --cache-dir "
                             f"{shlex.quote(str(cache))}")
