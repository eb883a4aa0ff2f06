"""How the core budget is split between the recogniser and the translator (pure)."""

from __future__ import annotations

import pytest

from hudtranslate.engines import ThreadBudget


@pytest.mark.parametrize(("threads", "one_decode_thread", "expected"), [
    (2, True, ThreadBudget(asr=1, translate=2, decode=1)),   # AVX-512: one decode thread
    (2, False, ThreadBudget(asr=1, translate=2, decode=2)),  # AVX2 only: both
    (4, True, ThreadBudget(asr=2, translate=4, decode=2)),
    (4, False, ThreadBudget(asr=2, translate=4, decode=4)),
    (1, True, ThreadBudget(asr=1, translate=1, decode=1)),
    (1, False, ThreadBudget(asr=1, translate=1, decode=1)),
])
def test_the_budget_split(threads: int, one_decode_thread: bool,
                          expected: ThreadBudget) -> None:
    assert ThreadBudget.split(threads, one_decode_thread=one_decode_thread) == expected


def test_the_default_follows_llama_cpps_build(monkeypatch: pytest.MonkeyPatch) -> None:
    import hudtranslate.engines as engines

    monkeypatch.setattr(engines, "has_avx512", lambda: True)
    assert ThreadBudget.split(2).decode == 1
    monkeypatch.setattr(engines, "has_avx512", lambda: False)
    assert ThreadBudget.split(2).decode == 2
