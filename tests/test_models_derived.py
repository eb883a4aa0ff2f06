"""Derived catalogue models: made on this machine from a verified download (re-encoded by
llama.cpp's quantizer), checked by their own sha256; and a file moved from its former
catalogue name instead of downloaded again."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from tests.test_models import FakeDownloader, _gguf_spec, _leftovers, _write_wheels

from hudtranslate.errors import ModelFetchError
from hudtranslate.models import (
    CATALOGUE,
    DEFAULT_MODELS,
    ModelSpec,
    ModelState,
    fetch,
    model_state,
)
from hudtranslate.models.requantize import requantize_gguf


def _reencode(data: bytes) -> bytes:
    """What the fake quantizer writes: a stand-in for the re-encoded file."""
    return b"GGUF" + hashlib.sha256(data).digest() * 8


class FakeQuantizer:
    """Writes ``_reencode(source)``; records each call's source, dest and file type."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, source: Path, dest: Path, file_type: str) -> None:
        self.calls.append((source.name, dest.name, file_type))
        dest.write_bytes(_reencode(source.read_bytes()))


def _derived(tmp_path: Path, *, digest: str | None = None) -> tuple[ModelSpec, ModelSpec,
                                                                   FakeDownloader, bytes]:
    source, data = _gguf_spec()
    _write_wheels(source, data, tmp_path / "wheels")
    made = _reencode(data)
    spec = dataclasses.replace(
        source, name="fake-derived", parts=(), filename="fake-q4ks.gguf",
        size_bytes=len(made), sha256=digest or hashlib.sha256(made).hexdigest(),
        derived_from=source, quantization="Q4_K_S")
    return spec, source, FakeDownloader(tmp_path / "wheels"), made


@pytest.mark.parametrize("progress", [False, True])
def test_a_derived_model_is_made_from_its_verified_source(tmp_path: Path,
                                                          progress: bool) -> None:
    cache = tmp_path / "cache"
    spec, source, downloader, made = _derived(tmp_path)
    quantizer = FakeQuantizer()

    path = fetch(spec, cache, progress=progress, downloader=downloader, requantizer=quantizer)

    assert path.read_bytes() == made
    assert quantizer.calls == [("fake.gguf", "fake-q4ks.gguf.partial", "Q4_K_S")]
    assert model_state(spec, cache) is ModelState.VERIFIED
    assert model_state(source, cache) is ModelState.VERIFIED
    assert _leftovers(spec, cache) == [".verified.json", "fake-q4ks.gguf"]

    again = fetch(spec, cache, progress=False, downloader=downloader, requantizer=quantizer)
    assert again == path and len(quantizer.calls) == 1 and len(downloader.calls) == 3


def test_a_derived_file_with_another_digest_is_refused_and_removed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    spec, source, downloader, _made = _derived(tmp_path, digest="0" * 64)

    with pytest.raises(ModelFetchError, match=r"re-encoded fake\.gguf .*--mt-model fake-gguf"):
        fetch(spec, cache, progress=False, downloader=downloader, requantizer=FakeQuantizer())

    assert _leftovers(spec, cache) == []
    assert model_state(spec, cache) is ModelState.MISSING
    assert model_state(source, cache) is ModelState.VERIFIED  # the download is kept


def test_a_file_installed_under_the_former_name_is_moved_not_downloaded(
        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    source, data = _gguf_spec()
    source = dataclasses.replace(source, former_name="old-name")
    (cache / "models" / "old-name").mkdir(parents=True)
    (cache / "models" / "old-name" / source.filename).write_bytes(data)
    downloader = FakeDownloader(tmp_path / "no-wheels")

    path = fetch(source, cache, progress=False, downloader=downloader)

    assert path.read_bytes() == data and downloader.calls == []
    assert not (cache / "models" / "old-name" / source.filename).exists()


def test_a_former_file_of_the_wrong_size_is_left_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    source, data = _gguf_spec()
    source = dataclasses.replace(source, former_name="old-name")
    _write_wheels(source, data, tmp_path / "wheels")
    former = cache / "models" / "old-name" / source.filename
    former.parent.mkdir(parents=True)
    former.write_bytes(data[:100])
    downloader = FakeDownloader(tmp_path / "wheels")

    fetch(source, cache, progress=False, downloader=downloader)

    assert len(downloader.calls) == 3 and former.read_bytes() == data[:100]


def test_the_default_translator_is_the_q4_k_m_download_re_encoded_as_q4_k_s() -> None:
    default, published = CATALOGUE["qwen2.5-1.5b"], CATALOGUE["qwen2.5-1.5b-q4km"]
    assert "qwen2.5-1.5b" in DEFAULT_MODELS and not published.default
    assert default.derived_from is published and default.quantization == "Q4_K_S"
    assert default.parts == () and len(published.parts) == 22
    assert published.former_name == "qwen2.5-1.5b"  # where the Q4_K_M was installed before
    assert default.filename != published.filename


def test_the_quantizer_names_an_unknown_file_type(tmp_path: Path) -> None:
    source = tmp_path / "in.gguf"
    source.write_bytes(b"GGUF")
    with pytest.raises(ModelFetchError, match="no file type 'Q9_X'"):
        requantize_gguf(source, tmp_path / "out.gguf", "Q9_X")


def test_the_quantizer_reports_a_file_it_cannot_read(tmp_path: Path) -> None:
    source = tmp_path / "in.gguf"
    source.write_bytes(b"GGUF not really")
    with pytest.raises(ModelFetchError, match=r"could not re-encode in\.gguf as Q4_K_S"):
        requantize_gguf(source, tmp_path / "out.gguf", "Q4_K_S")
    assert not (tmp_path / "out.gguf").exists()
