"""Is a catalogue model on disk, and is it the right one?

Hashing the 1.1 GB translator takes seconds, too long for every start. So a full sha256
check writes a stamp (size and mtime of each file, plus the expected digest); later runs
compare the stamp with ``stat()`` and re-hash only when a file changed or the stamp is
missing. A file of the wrong size is never hashed: it is an interrupted download.

A failed check is remembered the same way (``.failed.json``: the files' size and mtime and
the error), so ``models list`` says "corrupt" rather than "installed, not verified" and a
start refuses the model without hashing it again; a successful verify or fetch (which
writes the stamp) forgets it, and so does any change to the files.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import logging
import os
import shlex
from pathlib import Path
from typing import Any

from hudtranslate.errors import ModelError, one_line
from hudtranslate.models.catalogue import ModelSpec

logger = logging.getLogger(__name__)

STAMP_NAME = ".verified.json"
FAILED_NAME = ".failed.json"
PARTIAL_SUFFIX = ".partial"
CHUNK_BYTES = 1 << 20


class ModelState(enum.Enum):
    """What a cheap look (``stat`` only, no hashing) says about an installed model."""

    MISSING = "missing"
    PARTIAL = "partial"
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    CORRUPT = "corrupt"
    """Failed its last full check, and the files have not changed since."""


def fetch_command(name: str, cache_dir: Path | None = None) -> str:
    """The command that installs or repairs model ``name`` (all default ones for "") in
    ``cache_dir``; every error message names it. ``--cache-dir`` is in it unless the
    cache is the default one: followed as printed, the advice had filled the default
    cache while the run that gave it read another."""
    from hudtranslate.config import default_cache_dir

    command = f"hudtranslate models fetch {name}".rstrip()
    if cache_dir is not None and cache_dir.expanduser().resolve() != (
            default_cache_dir().resolve()):
        command += f" --cache-dir {shlex.quote(str(cache_dir))}"
    return command


def sha256_file(path: Path) -> str:
    """Hash in chunks so a 1 GB file never sits in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def partial_path(spec: ModelSpec, cache_dir: Path) -> Path:
    """Where fetch writes before the digest is checked; never loaded by anything."""
    return spec.model_dir(cache_dir) / (spec.filename + PARTIAL_SUFFIX)


def model_state(spec: ModelSpec, cache_dir: Path) -> ModelState:
    """Classify an installed model without reading its contents.

    Raises ModelError when a file stands where the cache needs a folder: no state fits
    it, and ``fetch`` cannot repair it without deleting what may be the user's file."""
    model_dir = spec.model_dir(cache_dir)
    _raise_if_blocked(spec, cache_dir)
    try:
        size = spec.file_path(cache_dir).stat().st_size
    except FileNotFoundError:
        leftovers = [partial_path(spec, cache_dir)]
        leftovers += [model_dir / extra.dest for extra in spec.extra_files]
        if any(path.exists() for path in leftovers):
            return ModelState.PARTIAL
        return ModelState.MISSING
    if size != spec.size_bytes:
        return ModelState.PARTIAL
    for extra in spec.extra_files:
        extra_path = model_dir / extra.dest
        if not extra_path.is_file() or extra_path.stat().st_size != extra.size_bytes:
            return ModelState.PARTIAL
    if _stamp_matches(spec, cache_dir):
        return ModelState.VERIFIED
    if recorded_failure(spec, cache_dir) is not None:
        return ModelState.CORRUPT
    return ModelState.UNVERIFIED


def verify(spec: ModelSpec, cache_dir: Path) -> None:
    """Hash every file of ``spec`` in full; on success write the stamp, else raise ModelError.

    A corrupt model keeps its files (``fetch`` replaces them) but loses its stamp, and
    the failure is recorded (``recorded_failure``) where the cache can be written.
    """
    model_dir = spec.model_dir(cache_dir)
    _raise_if_absent(spec, cache_dir)
    stats = _current_stats(spec, cache_dir)
    checks = [(spec.filename, spec.sha256)]
    checks += [(extra.dest, extra.sha256) for extra in spec.extra_files]
    for relname, expected in checks:
        path = model_dir / relname
        logger.info("verifying %s (sha256)", path)
        actual = sha256_file(path)
        if actual != expected:
            message = (f"model '{spec.name}' is corrupt: {path} has sha256 {actual[:16]}..., "
                       f"expected {expected[:16]}...; run: {fetch_command(spec.name, cache_dir)}")
            with contextlib.suppress(OSError):  # a read-only cache: the stamp is stale anyway
                clear_stamp(spec, cache_dir)
                _write_record(spec, cache_dir, FAILED_NAME,
                              {"model": spec.name, "sha256": spec.sha256, "files": stats,
                               "error": message})
            raise ModelError(message)
    try:
        write_stamp(spec, cache_dir, stats)
    except OSError as exc:  # a read-only or full cache: the model is fine, only unstamped
        logger.warning("model %s is intact, but %s cannot keep a note of that (%s): it is "
                       "hashed again at every start", spec.name, model_dir, one_line(exc))


def ensure_installed(spec: ModelSpec, cache_dir: Path) -> Path:
    """Return the path a runtime should load, hashing only if the stamp is missing or stale."""
    state = model_state(spec, cache_dir)
    if state is ModelState.UNVERIFIED:
        verify(spec, cache_dir)
    elif state is ModelState.CORRUPT:
        raise ModelError(recorded_failure(spec, cache_dir) or f"model '{spec.name}' is "
                         f"corrupt; run: {fetch_command(spec.name, cache_dir)}")
    elif state is not ModelState.VERIFIED:
        _raise_if_absent(spec, cache_dir)
    return spec.load_path(cache_dir)


def write_stamp(
    spec: ModelSpec, cache_dir: Path, stats: dict[str, list[int]] | None = None
) -> None:
    """Record that the files as they are now (size, mtime) hashed to the catalogue digest,
    forgetting a failed check (``recorded_failure``)."""
    record = {
        "model": spec.name,
        "sha256": spec.sha256,
        "files": stats if stats is not None else _current_stats(spec, cache_dir),
    }
    _write_record(spec, cache_dir, STAMP_NAME, record)
    (spec.model_dir(cache_dir) / FAILED_NAME).unlink(missing_ok=True)


def recorded_failure(spec: ModelSpec, cache_dir: Path) -> str | None:
    """The error of the last failed ``verify`` (one line, naming the fix) if the files are
    still as they were then (size, mtime), else None. Reads no model bytes."""
    record = _read_record(spec, cache_dir, FAILED_NAME)
    error = record.get("error") if record is not None else None
    return error if isinstance(error, str) else None


def _write_record(spec: ModelSpec, cache_dir: Path, name: str, record: dict[str, Any]) -> None:
    path = spec.model_dir(cache_dir) / name
    tmp = path.with_name(name + ".tmp")
    try:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def clear_stamp(spec: ModelSpec, cache_dir: Path) -> None:
    """Forget a past verification, e.g. before a fetch starts rewriting the files."""
    (spec.model_dir(cache_dir) / STAMP_NAME).unlink(missing_ok=True)


def _raise_if_blocked(spec: ModelSpec, cache_dir: Path) -> None:
    """Raise ModelError naming the file that stands where ``<cache>/models`` or the
    model's own folder should be (a stray ``cp`` or ``mv``), which would otherwise end
    every command in a NotADirectoryError traceback."""
    model_dir = spec.model_dir(cache_dir)
    for folder in (model_dir.parent, model_dir):
        if folder.exists() and not folder.is_dir():
            raise ModelError(
                f"{folder} is a file where the model cache needs a folder (for model "
                f"'{spec.name}'); move it aside, then run: {fetch_command(spec.name, cache_dir)}")


def _raise_if_absent(spec: ModelSpec, cache_dir: Path) -> None:
    """Raise the missing/partial ModelError that fits; return if every file has its size."""
    model_dir = spec.model_dir(cache_dir)
    state = model_state(spec, cache_dir)
    if state is ModelState.MISSING:
        raise ModelError(
            f"model '{spec.name}' is not installed in {model_dir}; "
            f"run: {fetch_command(spec.name, cache_dir)}"
        )
    if state is ModelState.PARTIAL:
        raise ModelError(
            f"model '{spec.name}' in {model_dir} is incomplete ({_what_is_wrong(spec, cache_dir)}, "
            f"an interrupted download?); run: {fetch_command(spec.name, cache_dir)}"
        )


def _what_is_wrong(spec: ModelSpec, cache_dir: Path) -> str:
    wanted = [(spec.filename, spec.size_bytes)]
    wanted += [(extra.dest, extra.size_bytes) for extra in spec.extra_files]
    for relname, size in wanted:
        path = spec.model_dir(cache_dir) / relname
        if not path.is_file():
            return f"{relname} is missing"
        actual = path.stat().st_size
        if actual != size:
            return f"{relname} has {actual:,} of {size:,} bytes"
    return "files changed while being checked"


def _current_stats(spec: ModelSpec, cache_dir: Path) -> dict[str, list[int]]:
    stats: dict[str, list[int]] = {}
    for relname in [spec.filename, *(extra.dest for extra in spec.extra_files)]:
        st = (spec.model_dir(cache_dir) / relname).stat()
        stats[relname] = [st.st_size, st.st_mtime_ns]
    return stats


def _stamp_matches(spec: ModelSpec, cache_dir: Path) -> bool:
    return _read_record(spec, cache_dir, STAMP_NAME) is not None


def _read_record(spec: ModelSpec, cache_dir: Path, name: str) -> dict[str, Any] | None:
    """The record ``name`` if it is about these files as they are now (size, mtime) and
    this catalogue digest, else None."""
    try:
        record: Any = json.loads((spec.model_dir(cache_dir) / name).read_text(encoding="utf-8"))
        current = _current_stats(spec, cache_dir)
    except (OSError, ValueError):
        return None
    if (isinstance(record, dict) and record.get("sha256") == spec.sha256
            and record.get("files") == current):
        return record
    return None
