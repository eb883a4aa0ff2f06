"""The llama.cpp that setup compiled: built for this CPU, without Intel AMX.

llama.cpp's AMX matrix kernel crashed the first decode of the translator on an AMX
machine (SIGSEGV in ``ggml_backend_amx_mul_mat``; ggml-org/llama.cpp#20824), so
``scripts/setup.sh`` compiles with ``-mno-amx-*``. A wheel from another cache would bring
AMX back unnoticed until the first real-model test crashed the whole run.
"""

from __future__ import annotations

import platform

import pytest

llama_cpp = pytest.importorskip("llama_cpp")


@pytest.mark.skipif(platform.machine() != "x86_64", reason="AMX is an x86-64 extension")
def test_llama_cpp_is_built_without_amx() -> None:
    features = llama_cpp.llama_print_system_info().decode()
    assert "AMX_INT8 = 1" not in features, features

