"""Derive a GGUF file of another quantization type with llama.cpp's own quantizer.

Why: the published Qwen2.5 1.5B file is Q4_K_M, which keeps half of the layers'
``ffn_down`` and ``attn_v`` weights in Q6_K. llama.cpp's CPU backend repacks Q4_K weights
for its fast matrix kernels but runs Q6_K through a slower dot product, so re-encoding
those tensors as Q4_K (the file type Q4_K_S; the other tensors are copied unchanged)
makes a 16-token prompt batch ~11 % cheaper and one wearer's whole pipeline 0.92× the
CPU, at the same quality (docs/benchmark.md, "Eleventh session"). Only the registry's
verified file is read; the result is checked against the catalogue's sha256 like any
download.

llama.cpp writes a line per tensor to stderr and a failure inside it could end the
process, so it runs in a child process: ``python -m hudtranslate.models.requantize SRC
DEST TYPE``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hudtranslate.errors import ModelFetchError

QUANTIZER_THREADS = 2
"""Threads for the quantizer; the bytes it writes do not depend on it."""


def requantize_gguf(source: Path, dest: Path, file_type: str) -> None:
    """Write ``source`` re-encoded as llama.cpp file type ``file_type`` (e.g. "Q4_K_S",
    a ``LLAMA_FTYPE_MOSTLY_*`` name) to ``dest``.

    Raises ModelFetchError with llama.cpp's last message (and leaves no ``dest``) when it
    fails or writes nothing.
    Takes ~10 s for the 1.1 GB translator on two cores.
    """
    command = [sys.executable, "-m", __name__, str(source), str(dest), file_type]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ModelFetchError(f"could not start the llama.cpp quantizer: {exc}") from exc
    if result.returncode != 0 or not dest.is_file():
        dest.unlink(missing_ok=True)
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else f"it exited with status {result.returncode}"
        raise ModelFetchError(
            f"llama.cpp could not re-encode {source.name} as {file_type}: {last}")


def _quantize(source: str, dest: str, file_type: str) -> int:
    import ctypes

    try:
        import llama_cpp
    except ImportError as exc:
        sys.stderr.write(f"llama-cpp-python is not installed: {exc}\n")
        return 2
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{file_type.upper()}", None)
    if ftype is None:
        sys.stderr.write(f"llama.cpp has no file type {file_type!r}\n")
        return 2
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = QUANTIZER_THREADS
    status = llama_cpp.llama_model_quantize(source.encode(), dest.encode(),
                                            ctypes.byref(params))
    if status != 0:
        sys.stderr.write(f"llama_model_quantize returned {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.stderr.write("usage: python -m hudtranslate.models.requantize SRC DEST TYPE\n")
        sys.exit(2)
    sys.exit(_quantize(*sys.argv[1:]))
