"""Turn what a user typed for ``--model`` into a path that is safe to load.

Accepts a local path (checked for the right format), or a catalogue name (checked for
size, and sha256 unless a stamp vouches for it). Anything else fails with a message that
says what to do, because a bad file handed to llama.cpp fails far less helpfully.
"""

from __future__ import annotations

import re
from pathlib import Path

from hudtranslate.errors import ModelError
from hudtranslate.models.catalogue import CATALOGUE, ROLES, Role
from hudtranslate.models.store import ensure_installed

GGUF_MAGIC = b"GGUF"
CT2_REQUIRED_FILES = ("model.bin", "config.json")

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_FILE_SUFFIXES = {".gguf", ".bin"}


def resolve_model(name_or_path: str | Path, role: Role, cache_dir: Path) -> Path:
    """Return the path to load for ``role``: a GGUF file (translate) or a model dir (asr)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    text = str(name_or_path).strip()
    if not text:
        raise ModelError(f"no {role} model given; use one of: {_names(role)}, or a local path")
    path = Path(text).expanduser()
    if isinstance(name_or_path, Path) or path.exists():
        return _check_local(path, role)
    spec = CATALOGUE.get(text)
    if spec is not None:
        if spec.role != role:
            raise ModelError(
                f"model '{text}' is a {spec.role} model; for {role} use one of: {_names(role)}"
            )
        return ensure_installed(spec, cache_dir)
    if _HUB_ID.match(text) and path.suffix.lower() not in _FILE_SUFFIXES:
        raise ModelError(
            f"'{text}' is neither a local path nor a catalogue model. If it is a model hub "
            f"id: hudtranslate runs offline and does not download from model hubs; download "
            f"it yourself and pass its local path ({_expected(role)}), or use one of: "
            f"{_names(role)}"
        )
    looks_like_path = "/" in text or "\\" in text or text.startswith(("~", "."))
    if looks_like_path or path.suffix.lower() in _FILE_SUFFIXES:
        raise ModelError(f"model path not found: {path}")
    raise ModelError(
        f"unknown {role} model '{text}'; known models: {_names(role)} "
        f"(or pass a local path: {_expected(role)})"
    )


def _check_local(path: Path, role: Role) -> Path:
    if not path.exists():
        raise ModelError(f"model path not found: {path}")
    if role == "translate":
        _check_gguf(path)
    else:
        _check_ct2_dir(path)
    return path


def _check_gguf(path: Path) -> None:
    if path.is_dir():
        raise ModelError(f"{path} is a directory; translation needs a GGUF model file")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"{path} is not a GGUF model file (it starts with {magic!r}, expected "
            f"{GGUF_MAGIC!r}); llama.cpp needs a .gguf file"
        )


def _check_ct2_dir(path: Path) -> None:
    if not path.is_dir():
        raise ModelError(
            f"{path} is not a directory; speech recognition needs a CTranslate2 model "
            f"directory containing {' and '.join(CT2_REQUIRED_FILES)}"
        )
    missing = [name for name in CT2_REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise ModelError(
            f"{path} is not a CTranslate2 model directory: missing {', '.join(missing)}"
        )


def _names(role: Role) -> str:
    return ", ".join(sorted(name for name, spec in CATALOGUE.items() if spec.role == role))


def _expected(role: Role) -> str:
    if role == "translate":
        return "a .gguf file"
    return "a CTranslate2 directory with model.bin and config.json"
