"""Load test of `chatbot serve` on loopback: many clients at once, a full queue, memory over time.

    python -m evaluation.load_test [--clients 20] [--per-client 25] [--rss-questions 1000] [--model default] [--database-url URL]

Builds a temporary index of the repository corpus, starts `chatbot serve` on 127.0.0.1 (free
port, data folder in the temporary folder) and prints figures:

  (a) --clients threads, each with its own gradio_client, ask --per-client questions through
      the chat API: errors and per-request latency (p50 / p95 / max);
  (b) a second server with CHATBOT_QUEUE_SIZE=2 gets --burst simultaneous questions: what the
      clients beyond the limit receive, and whether the server answers normally afterwards;
  (c) the first server's resident memory (VmRSS) over --rss-questions sequential questions.

Around (a) and (c) the question records in the server's store (SQLite in its data folder, or
--database-url) are counted: every answered question must add one record (lost = answered -
written; the run fails when any is lost).

Questions come from evaluation/questions.jsonl and heldout.jsonl (English and Indonesian).
Every loop is bounded in count and time, and the servers are always stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .bench_chat import percentile

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHATBOT = [sys.executable, "-m", "chatbot"]
REQUEST_TIMEOUT = 120.0  # seconds one chat request may take before it counts as an error
START_TIMEOUT = 300.0


def questions() -> list[str]:
    """Both labelled sets, shuffled once (fixed seed) so that the languages interleave."""
    found = []
    for name in ("questions", "heldout"):
        for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line)["question"])
    random.Random(0).shuffle(found)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DATABASE_URL = ""  # --database-url: the servers' store (empty: SQLite in each server's data folder)


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without CHATBOT_* settings, offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return env | {"CHATBOT_DATA_DIR": str(data_dir), "CHATBOT_DATABASE_URL": DATABASE_URL, "CHATBOT_LOG_QUESTIONS": "true",
                  "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"} | extra


def stored_questions(data_dir: Path) -> int:
    """How many question records the store of the server with this data folder holds."""
    from chatbot.settings import Settings
    from chatbot.store import open_store

    store = open_store(Settings.from_env(env=env_for(data_dir)))
    try:
        return store.feedback.counts()["questions"]
    finally:
        store.close()


def store_line(before: int, after: int, answered: int) -> tuple[str, int]:
    """What the store gained against how many questions were answered; and how many records were lost."""
    written, lost = after - before, answered - (after - before)
    return f"store: {before} -> {after} question records: {written} written for {answered} answered questions, lost {lost}", lost


def build_index(index: Path, model: str, workdir: Path) -> float:
    """`chatbot build` of the repository corpus into `index`; returns the seconds it took."""
    started = time.perf_counter()
    done = subprocess.run([*CHATBOT, "build", "--index", str(index), "--corpus", str(REPO / "corpus"), "--model", model],
                          capture_output=True, text=True, env=env_for(workdir / "data"), cwd=workdir, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"chatbot build failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


@contextlib.contextmanager
def server(index: Path, model: str, workdir: Path, name: str, **extra_env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`chatbot serve` on 127.0.0.1 and a free port; yields (url, process) once /health says 200."""
    port, log = free_port(), workdir / f"{name}.log"
    cmd = [*CHATBOT, "serve", "--index", str(index), "--corpus", str(REPO / "corpus"), "--model", model,
           "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env_for(workdir / f"data-{name}", **extra_env),
                                cwd=workdir)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_healthy(url, proc, log)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # uvicorn waits for open event streams; enough of that
            proc.kill()
            proc.wait()


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"chatbot serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if health(url) == 200:
            return
        time.sleep(0.5)
    raise SystemExit(f"chatbot serve did not answer /health within {START_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


def health(url: str) -> int:
    """The HTTP status of GET /health (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url + "health", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def close_all(clients: list) -> None:
    """Stop the clients' heartbeat threads, side by side (each close waits up to 1 s)."""
    closers = [threading.Thread(target=c.close) for c in clients]
    for t in closers:
        t.start()
    for t in closers:
        t.join(timeout=10)


def ask(c, question: str) -> tuple[str, float]:
    """One chat turn: ("ok" or what went wrong, seconds)."""
    from chatbot.answer.texts import text

    started = time.perf_counter()
    try:
        messages, _ = c.submit(question, "auto", [], api_name="/chat").result(timeout=REQUEST_TIMEOUT)
    except Exception as exc:  # a load test counts every failure, whatever its kind
        return f"{type(exc).__name__}: {str(exc)[:120]}", time.perf_counter() - started
    seconds = time.perf_counter() - started
    reply = message_text(messages[1]) if len(messages) > 1 else ""
    if not reply:
        return "empty reply", seconds
    if any(text(key, lang) in reply for key in ("error", "busy") for lang in ("en", "id")):
        return "engine error or busy message", seconds
    return "ok", seconds


def message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def concurrent_clients(url: str, qs: list[str], n_clients: int, per_client: int, time_limit: float) -> dict:
    """(a) `n_clients` threads, own client each, `per_client` questions each; stops at `time_limit`."""
    deadline = time.monotonic() + time_limit
    latencies: list[float] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            c = client(url)
        except Exception as exc:  # counted, like any other failure
            with lock:
                outcomes[f"could not connect: {type(exc).__name__}"] += per_client
            return
        try:
            for j in range(per_client):
                if time.monotonic() > deadline:
                    with lock:
                        outcomes["not asked: time limit"] += per_client - j
                    return
                outcome, seconds = ask(c, qs[(i * per_client + j) % len(qs)])
                with lock:
                    outcomes[outcome] += 1
                    latencies.append(seconds)
        finally:
            close_all([c])

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT))
    return {"latencies": latencies, "outcomes": outcomes, "seconds": time.perf_counter() - started}


def burst(url: str, question: str, n: int) -> list[str]:
    """(b) `n` clients send one question at the same moment; what each one got back."""
    clients = [None] * n

    def connect(i: int) -> None:
        clients[i] = client(url)

    run_threads(connect, n, timeout=120)
    start, got = threading.Barrier(n), ["not run"] * n

    def one(i: int) -> None:
        start.wait(timeout=60)
        got[i] = ask(clients[i], question)[0]

    run_threads(one, n, timeout=REQUEST_TIMEOUT + 60)
    close_all([c for c in clients if c is not None])
    return got


def run_threads(target, n: int, timeout: float) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)


def sequential(url: str, pid: int, qs: list[str], n: int, every: int, time_limit: float) -> dict:
    """(c) `n` questions one after another, the server's RSS every `every` questions."""
    deadline = time.monotonic() + time_limit
    c = client(url)
    rows, outcomes, asked = [(0, *rss_mib(pid))], Counter(), 0
    print(f"  {'questions':>9}  {'VmRSS MiB':>9}  {'VmHWM MiB':>9}", flush=True)
    print(f"  {0:>9}  {rows[0][1]:>9.1f}  {rows[0][2]:>9.1f}", flush=True)
    try:
        while asked < n and time.monotonic() < deadline:
            outcomes[ask(c, qs[asked % len(qs)])[0]] += 1
            asked += 1
            if asked % every == 0 or asked == n:
                rows.append((asked, *rss_mib(pid)))
                print(f"  {asked:>9}  {rows[-1][1]:>9.1f}  {rows[-1][2]:>9.1f}", flush=True)
    finally:
        close_all([c])
    if asked < n:
        rows.append((asked, *rss_mib(pid)))
    return {"rows": rows, "outcomes": outcomes, "asked": asked}


def latency_line(latencies: list[float]) -> str:
    if not latencies:
        return "no requests completed"
    ms = [s * 1000 for s in latencies]
    return f"p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms"


def phase_a(url: str, qs: list[str], args: argparse.Namespace, data_dir: Path) -> dict:
    print(f"\n(a) {args.clients} clients x {args.per_client} questions, at the same time", flush=True)
    before = stored_questions(data_dir)
    a = concurrent_clients(url, qs, args.clients, args.per_client, args.time_limit)
    a["store"], a["lost"] = store_line(before, stored_questions(data_dir), a["outcomes"]["ok"])
    errors = sum(v for k, v in a["outcomes"].items() if k != "ok")
    print(f"  {sum(a['outcomes'].values())} requests in {a['seconds']:.1f} s "
          f"({len(a['latencies']) / max(a['seconds'], 1e-9):.1f} answers/s); errors: {errors}")
    for outcome, count in a["outcomes"].most_common():
        print(f"    {count:>5}  {outcome}")
    print(f"  latency: {latency_line(a['latencies'])}")
    print(f"  {a['store']}")
    return a | {"errors": errors}


def phase_b(index: Path, args: argparse.Namespace, workdir: Path, qs: list[str]) -> dict:
    print(f"\n(b) full queue: a second server with CHATBOT_QUEUE_SIZE=2, {args.burst} simultaneous questions", flush=True)
    with server(index, args.model, workdir, "queue2", CHATBOT_QUEUE_SIZE="2") as (url, proc):
        got = Counter(burst(url, qs[0], args.burst))
        for outcome, count in got.most_common():
            print(f"    {count:>5}  {outcome}")
        alive, status = proc.poll() is None, health(url)
        c = client(url)
        after, seconds = ask(c, qs[1])
        close_all([c])
    refused = {k: v for k, v in got.items() if k != "ok"}
    polite = bool(refused) and all("try again" in k.lower() for k in refused)
    print(f"  afterwards: process alive {alive}, /health {status}, next question: {after} in {seconds * 1000:.0f} ms")
    print(f"  refusals polite ('try again'): {polite}")
    return {"got": got, "polite": polite, "recovered": alive and status == 200 and after == "ok"}


def phase_c(url: str, pid: int, qs: list[str], args: argparse.Namespace, data_dir: Path) -> dict:
    print(f"\n(c) server memory over {args.rss_questions} sequential questions", flush=True)
    before = stored_questions(data_dir)
    c = sequential(url, pid, qs, args.rss_questions, 200, args.time_limit)
    c["store"], c["lost"] = store_line(before, stored_questions(data_dir), c["outcomes"]["ok"])
    first, last = c["rows"][0], c["rows"][-1]
    c["growth"] = last[1] - first[1]
    print(f"  VmRSS {first[1]:.1f} -> {last[1]:.1f} MiB after {c['asked']} questions: growth {c['growth']:+.1f} MiB; "
          f"outcomes {dict(c['outcomes'])}")
    print(f"  {c['store']}")
    return c


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Load test of `chatbot serve` on 127.0.0.1: concurrent clients, a full queue, "
                                            "and server memory over many questions. Prints figures; starts and stops its own servers.")
    p.add_argument("--clients", type=int, default=20, help="concurrent clients in (a) (default 20)")
    p.add_argument("--per-client", type=int, default=25, help="questions per client in (a) (default 25)")
    p.add_argument("--burst", type=int, default=30, help="simultaneous questions against a queue of 2 in (b) (default 30)")
    p.add_argument("--rss-questions", type=int, default=1000, help="sequential questions in (c) (default 1000)")
    p.add_argument("--model", default="default", help="embedding model of the temporary index (default: default)")
    p.add_argument("--time-limit", type=float, default=1200, help="seconds each of (a) and (c) may run at most (default 1200)")
    p.add_argument("--database-url", default="", help="the servers' store, e.g. postgresql://user:pass@host/db "
                                                       "(default: SQLite in each server's temporary data folder)")
    args = p.parse_args(argv)
    global DATABASE_URL
    DATABASE_URL = args.database_url
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio_client is imported
    os.environ["HF_HUB_OFFLINE"] = "1"

    workdir = Path(tempfile.mkdtemp(prefix="chatbot-load-"))
    try:
        return run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path) -> int:
    qs, index = questions(), workdir / "index"
    print(f"load test: model {args.model}, {len(qs)} questions (English and Indonesian), {os.cpu_count()} cores", flush=True)
    print(f"building the index of {REPO / 'corpus'} ...", flush=True)
    print(f"  built in {build_index(index, args.model, workdir):.1f} s", flush=True)
    with server(index, args.model, workdir, "main") as (url, proc):
        print(f"server {url} (pid {proc.pid}) up; VmRSS {rss_mib(proc.pid)[0]:.1f} MiB", flush=True)
        c = client(url)
        outcome, seconds = ask(c, qs[0])
        close_all([c])
        print(f"warm-up question: {outcome} in {seconds * 1000:.0f} ms; VmRSS {rss_mib(proc.pid)[0]:.1f} MiB", flush=True)
        a = phase_a(url, qs, args, workdir / "data-main")
        b = phase_b(index, args, workdir, qs)
        c = phase_c(url, proc.pid, qs, args, workdir / "data-main")
        alive = proc.poll() is None
    summary(args, a, b, c, alive)
    return 0 if a["errors"] == 0 and b["polite"] and b["recovered"] and alive and a["lost"] == c["lost"] == 0 else 1


def summary(args: argparse.Namespace, a: dict, b: dict, c: dict, alive: bool) -> None:
    refused = sum(v for k, v in b["got"].items() if k != "ok")
    print("\n=== summary ===")
    print(f"(a) {args.clients} clients x {args.per_client}: {len(a['latencies'])} answered, {a['errors']} errors; "
          f"{latency_line(a['latencies'])}")
    print(f"(b) queue of 2, {args.burst} at once: {b['got'].get('ok', 0)} answered, {refused} refused; "
          f"polite: {b['polite']}; answering normally afterwards: {b['recovered']}")
    print(f"(c) {c['asked']} sequential questions: VmRSS {c['rows'][0][1]:.1f} -> {c['rows'][-1][1]:.1f} MiB "
          f"({c['growth']:+.1f} MiB), peak {c['rows'][-1][2]:.1f} MiB; non-ok answers: "
          f"{sum(v for k, v in c['outcomes'].items() if k != 'ok')}")
    print(f"store (database: {'SQLite' if not DATABASE_URL else 'PostgreSQL'}): (a) {a['store']}; (c) {c['store']}")
    print(f"main server still running at the end: {alive}")


if __name__ == "__main__":
    sys.exit(main())
