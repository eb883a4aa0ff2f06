"""The C heap's arena limit and periodic trim (``hudtranslate.heap``)."""

from __future__ import annotations

import platform

import pytest

from hudtranslate import heap

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")


@glibc
def test_the_arena_limit_is_set_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert heap.limit_arenas() is True


def test_an_arena_limit_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert heap.limit_arenas() is False


@glibc
def test_the_heap_is_trimmed_at_most_once_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_last_trim", [float("-inf")])
    assert heap.release_free_heap(now=1000.0) is True
    assert heap.release_free_heap(now=1000.0 + heap.TRIM_EVERY_S - 1) is False
    assert heap.release_free_heap(now=1000.0 + heap.TRIM_EVERY_S) is True


def test_other_c_libraries_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_glibc", lambda: None)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert heap.limit_arenas() is False
    assert heap.release_free_heap(now=0.0) is False
