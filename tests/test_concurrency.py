"""Several patients at once: the engine answers from several threads exactly as it does from one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chatbot.answer.render import to_json

QUESTIONS = ["How is CMV transmitted?", "Apakah ada vaksin untuk CMV?", "Why is blood for transfusion irradiated?",
             "Mengapa darah transfusi harus diradiasi?", "What are the signs of NEC in premature babies?",
             "Bayi saya muntah hijau dan perutnya bengkak, apa yang harus saya lakukan?",
             "How do I bake sourdough bread?", "Can CMV cause anemia and low platelets?"]


def test_answers_from_many_threads_equal_answers_from_one(real_bot):
    alone = {q: to_json(real_bot.ask(q)) for q in QUESTIONS}
    real_bot._sentences._cache.clear()  # the threads fill the sentence cache again, concurrently
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda q: (q, to_json(real_bot.ask(q))), QUESTIONS * 3))
    assert len(together) == 3 * len(QUESTIONS)
    for q, answer in together:
        assert answer == alone[q], q


def test_one_thread_holds_until_the_last_thread_leaves():
    """Counted limits: the first thread out does not lift them under a second one, the last one out
    restores them. In a process of its own: the limits are process-wide, and a process that has
    answered questions keeps numpy's BLAS at one thread for good (for_answering)."""
    import subprocess
    import sys

    script = """
import threading
import numpy, faiss
from threadpoolctl import threadpool_info
from chatbot.embeddings.threads import forget_libraries, one_thread

def blas_threads():
    return {p["filepath"]: p["num_threads"] for p in threadpool_info() if p["user_api"] in ("blas", "openmp")}

forget_libraries()
before = blas_threads()
assert max(before.values()) > 1, before
entered, first_left, second_done = threading.Event(), threading.Event(), threading.Event()
seen = {}

def second():
    with one_thread():
        entered.set()
        first_left.wait(10)
        seen["after the first left"] = blas_threads()
    second_done.set()

with one_thread():
    worker = threading.Thread(target=second)
    worker.start()
    assert entered.wait(10)
first_left.set()
assert second_done.wait(10)
worker.join()
assert set(seen["after the first left"].values()) == {1}, seen  # still one thread while the second is inside
assert blas_threads() == before, (blas_threads(), before)  # restored once both left
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_an_answering_process_keeps_numpys_blas_at_one_thread():
    """numpy's OpenBLAS spins its idle threads after every product: in a process that answers it
    stays at one thread, and one_thread() leaving does not lift that (a process of its own, since
    the limit lasts)."""
    import subprocess
    import sys

    script = """
import threading
import numpy
from threadpoolctl import threadpool_info
from chatbot.embeddings.threads import for_answering, one_thread

def pthread_blas():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas" and p.get("threading_layer") != "openmp"]

assert pthread_blas(), threadpool_info()
print("before", max(pthread_blas()))
inside = threading.Event(); go = threading.Event()
def hold():
    with one_thread():
        inside.set(); go.wait(10)
t = threading.Thread(target=hold); t.start(); inside.wait(10)
for_answering()  # while another thread holds one_thread()
go.set(); t.join()
with one_thread():
    pass
print("after", max(pthread_blas()))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "OPENBLAS_NUM_THREADS": "2"})
    assert out.returncode == 0, out.stderr
    assert "before 2" in out.stdout and "after 1" in out.stdout, out.stdout


def test_a_failed_answer_leaves_no_question_being_embedded(real_bot, monkeypatch):
    """e5 embeds the question on a helper thread while the rest starts; when the answer fails
    before it is used, that work is cancelled or waited for, not left running behind."""
    import pytest

    started = []
    original = real_bot.retriever.start_query_vectors

    def spy(question):
        started.append(original(question))
        return started[-1]

    def broken(*args, **kwargs):
        raise RuntimeError("glossary bridge broken")

    monkeypatch.setattr(real_bot.retriever, "start_query_vectors", spy)
    monkeypatch.setattr(real_bot.retriever, "bridged_vectors", broken)
    with pytest.raises(RuntimeError):
        real_bot.ask("Apakah ada vaksin untuk CMV?")
    assert started and started[0].later  # e5 was started on a helper...
    assert all(f.done() for f in started[0].later.values())  # ...and is finished or cancelled
