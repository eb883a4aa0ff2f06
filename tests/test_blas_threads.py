"""numpy's BLAS runs on the calling thread once the engines load (``limit_blas_threads``)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from hudtranslate.engines import limit_blas_threads


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_blas_runs_on_one_thread_after_the_limit() -> None:
    np.ones((64, 64)) @ np.ones((64, 64))  # numpy's BLAS is loaded
    with threadpool_limits(limits=2, user_api="blas"):  # as on a 2-core machine by default
        limit_blas_threads()
        assert _blas_threads() and all(threads == 1 for threads in _blas_threads())
