"""Load test on loopback: the product's `chatbot serve` and the tutorial baseline's chat server,
many clients at once, one client after another; for the product also a full queue and memory
over time.

    python -m evaluation.load_test [--clients 20] [--per-client 25] [--chat-questions 50] [--burst 30]
                                   [--rss-questions 1000] [--model default] [--database-url URL] [--out DIR]

Builds temporary indexes of the repository corpus, starts each server on 127.0.0.1 (free port,
data folder in the temporary folder), one after the other, and measures:

  (a) --clients threads, each its own session, ask --per-client questions through the chat API,
      reading the answer's event stream as a browser does: errors, answers/s, per-request latency
      (p50 / p95 / max), CPU per answer of the server and of the clients;
  (a') the same with a gradio_client each: 20 of them in this process used more CPU per answer
      than the server they measure, on the same cores (mostly httpx loading the certificate bundle
      twice a question: load_clients.client);
  chat round trip: --chat-questions questions one after another through one gradio_client
      (evaluation/bench_chat.py's measure): p50 / p95; the same through a gradio_client that does
      not load the certificate bundle for each request on the plain-http address (see
      load_clients.client); and the same read as a browser reads it
      (join the queue, read the event stream), without gradio_client's 50 ms polling;
  floor: the chat round trips again against the same chat app replying "ok" with no work
      (`python -m evaluation.tutorial serve --echo`): what the clients spend of their own on the
      tutorial's API (the question alone; the product's chat also sends the conversation), to which
      a server that answers adds its time;
  (b) product only: a second server with CHATBOT_QUEUE_SIZE=2 gets --burst simultaneous questions:
      what the clients beyond the limit receive, and whether it answers normally afterwards;
  (c) product only: the server's resident memory (VmRSS) over --rss-questions sequential questions.

The tutorial's server (`python -m evaluation.tutorial serve`) is a `gr.ChatInterface` replying
with the top passage, launched as a tutorial launches it: Gradio's default queue, one request at
a time. The product answers as many questions at once as the machine has cores.

Around (a) and (c) the question records in the product server's store (SQLite in its data folder,
or --database-url) are counted: every answered question must add one record (lost = answered -
written; the run fails when any is lost). Questions come from evaluation/questions.jsonl and
heldout.jsonl (English and Indonesian). Every loop is bounded in count and time, and the servers
are always stopped. Prints a table with the issue's targets beside the product's figures and the
machine load at start and end, and writes the section "Load test" of
evaluation/reports/speed-and-load.md (key "load" of speed-and-load.json), leaving bench_cli's
section as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from . import machine
from .bench_chat import percentile
from .load_clients import (PRODUCT, TUTORIAL, ChatApi, ask, burst, client, close_all, concurrent_clients, plain_http,
                           round_trip, stream_round_trip)
from .load_servers import cpu_seconds, free_port, rss_mib, running, status
from .load_report import markdown, summary
from .speed_report import REPORTS, write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHATBOT = [sys.executable, "-m", "chatbot"]
TUTORIAL_CMD = [sys.executable, "-m", "evaluation.tutorial"]


def questions() -> list[str]:
    """Both labelled sets, shuffled once (fixed seed) so that the languages interleave."""
    found = []
    for name in ("questions", "heldout"):
        for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line)["question"])
    random.Random(0).shuffle(found)
    return found


DATABASE_URL = ""  # --database-url: the servers' store (empty: SQLite in each server's data folder)


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without CHATBOT_* settings, offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return env | {"CHATBOT_DATA_DIR": str(data_dir), "CHATBOT_DATABASE_URL": DATABASE_URL, "CHATBOT_LOG_QUESTIONS": "true",
                  "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"} | extra


def tutorial_env(data_dir: Path) -> dict[str, str]:
    """env_for, with this checkout's `evaluation` importable from the server's folder."""
    env = env_for(data_dir)
    return env | {"PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)}


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
    return _build([*CHATBOT, "build", "--index", str(index), "--corpus", str(REPO / "corpus"), "--model", model],
                  env_for(workdir / "data"), workdir)


def build_tutorial(index: Path, workdir: Path) -> float:
    """The tutorial's index of the repository corpus; returns the seconds it took."""
    return _build([*TUTORIAL_CMD, "build", "--index", str(index), "--corpus", str(REPO / "corpus")],
                  tutorial_env(workdir / "data"), workdir)


def _build(cmd: list[str], env: dict[str, str], workdir: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


@contextlib.contextmanager
def server(index: Path, model: str, workdir: Path, name: str, **extra_env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`chatbot serve` on 127.0.0.1 and a free port; yields (url, process) once /health says 200."""
    port = free_port()
    cmd = [*CHATBOT, "serve", "--index", str(index), "--corpus", str(REPO / "corpus"), "--model", model,
           "--host", "127.0.0.1", "--port", str(port)]
    with running(cmd, env_for(workdir / f"data-{name}", **extra_env), workdir, name, port, "health") as up:
        yield up


@contextlib.contextmanager
def tutorial_server(index: Path, workdir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m evaluation.tutorial serve` on 127.0.0.1 and a free port; yields (url, process) once it serves its page."""
    port = free_port()
    cmd = [*TUTORIAL_CMD, "serve", "--index", str(index), "--port", str(port)]
    with running(cmd, tutorial_env(workdir / "data-tutorial"), workdir, "tutorial", port, "") as up:
        yield up


@contextlib.contextmanager
def echo_server(workdir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m evaluation.tutorial serve --echo`: the tutorial's chat app replying "ok" with no work."""
    port = free_port()
    cmd = [*TUTORIAL_CMD, "serve", "--echo", "--port", str(port)]
    with running(cmd, tutorial_env(workdir / "data-echo"), workdir, "echo", port, "") as up:
        yield up


def health(url: str) -> int:
    """The HTTP status of the product's GET /health (0 when nothing answers)."""
    return status(url + "health")


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


def latency_figures(latencies: list[float]) -> dict:
    """n, p50, p95 and max in milliseconds (None for each when nothing completed)."""
    ms = [s * 1000 for s in latencies]
    if not ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1), "max_ms": round(max(ms), 1)}


def latency_line(latencies: list[float]) -> str:
    if not latencies:
        return "no requests completed"
    f = latency_figures(latencies)
    return f"p50 {f['p50_ms']:.0f} ms, p95 {f['p95_ms']:.0f} ms, max {f['max_ms']:.0f} ms"


def _errors(outcomes: Counter) -> int:
    return sum(v for k, v in outcomes.items() if k != "ok")


def warm_up(url: str, pid: int, qs: list[str], api: ChatApi) -> None:
    print(f"  server {url} (pid {pid}) up; VmRSS {rss_mib(pid)[0]:.1f} MiB", flush=True)
    c = client(url)
    outcome, seconds = ask(c, qs[0], api)
    close_all([c])
    print(f"  warm-up question: {outcome} in {seconds * 1000:.0f} ms; VmRSS {rss_mib(pid)[0]:.1f} MiB", flush=True)


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def phase_a(url: str, pid: int, qs: list[str], args: argparse.Namespace, api: ChatApi = PRODUCT, data_dir: Path | None = None,
            browser: bool = True) -> dict:
    """(a) the concurrent clients, reading the event stream as browsers do or (`browser=False`) as
    gradio_client sessions; the CPU the server and the clients (this process) used per answer;
    with `data_dir`, also what the product's store gained."""
    how = "reading the event stream as a browser does" if browser else "gradio_client sessions"
    label = "(a)" if browser else "(a')"
    print(f"\n  {label} {args.clients} clients x {args.per_client} questions, at the same time, {how}", flush=True)
    before = stored_questions(data_dir) if data_dir else 0
    server_cpu, clients_cpu = cpu_seconds(pid), own_cpu_seconds()
    a = concurrent_clients(url, qs, args.clients, args.per_client, args.time_limit, api, browser=browser)
    server_cpu, clients_cpu = cpu_seconds(pid) - server_cpu, own_cpu_seconds() - clients_cpu
    answered, errors = a["outcomes"]["ok"], _errors(a["outcomes"])
    figures = {"requests": sum(a["outcomes"].values()), "answered": answered, "errors": errors, "outcomes": dict(a["outcomes"]),
               "seconds": round(a["seconds"], 2), "answers_per_s": round(answered / max(a["seconds"], 1e-9), 1),
               "server_cpu_ms": round(server_cpu / max(answered, 1) * 1000, 1),
               "clients_cpu_ms": round(clients_cpu / max(answered, 1) * 1000, 1), **latency_figures(a["latencies"])}
    print(f"  {figures['requests']} requests in {a['seconds']:.1f} s ({figures['answers_per_s']:.1f} answers/s); errors: {errors}")
    for outcome, count in a["outcomes"].most_common():
        print(f"    {count:>5}  {outcome}")
    print(f"  latency: {latency_line(a['latencies'])}; CPU per answer: server {figures['server_cpu_ms']:.0f} ms, "
          f"clients {figures['clients_cpu_ms']:.0f} ms")
    if data_dir:
        figures["store"], figures["lost"] = store_line(before, stored_questions(data_dir), answered)
        print(f"  {figures['store']}")
    return figures


def phase_chat(url: str, qs: list[str], args: argparse.Namespace, api: ChatApi = PRODUCT) -> dict:
    """The chat round trip: one client, one question after another."""
    print(f"\n  chat round trip: {args.chat_questions} questions one after another, one client", flush=True)
    r = round_trip(url, qs, args.chat_questions, api)
    figures = _trip_figures(r)
    print(f"  latency: {latency_line(r['latencies'])}; errors: {figures['errors']}")
    if plain_http(url):
        n = round_trip(url, qs, args.chat_questions, api, ca_bundle=False)
        figures["no_ca"] = _trip_figures(n)
        print(f"  the same, gradio_client not loading the certificate bundle (plain http): {latency_line(n['latencies'])}; "
              f"errors: {figures['no_ca']['errors']}")
    s = stream_round_trip(url, qs, args.chat_questions, api)
    figures["stream"] = _trip_figures(s)
    print(f"  the same, read as a browser reads the event stream: {latency_line(s['latencies'])}; "
          f"errors: {figures['stream']['errors']}")
    return figures


def _trip_figures(trip: dict) -> dict:
    """Errors, outcomes and latency figures of one round-trip run."""
    return {"errors": _errors(trip["outcomes"]), "outcomes": dict(trip["outcomes"]), **latency_figures(trip["latencies"])}


def phase_b(index: Path, args: argparse.Namespace, workdir: Path, qs: list[str]) -> dict:
    print(f"\n  (b) full queue: a second server with CHATBOT_QUEUE_SIZE=2, {args.burst} simultaneous questions", flush=True)
    with server(index, args.model, workdir, "queue2", CHATBOT_QUEUE_SIZE="2") as (url, proc):
        got = Counter(burst(url, qs[0], args.burst))
        for outcome, count in got.most_common():
            print(f"    {count:>5}  {outcome}")
        alive, code = proc.poll() is None, health(url)
        c = client(url)
        after, seconds = ask(c, qs[1])
        close_all([c])
    refused = {k: v for k, v in got.items() if k != "ok"}
    polite = bool(refused) and all("try again" in k.lower() for k in refused)
    print(f"  afterwards: process alive {alive}, /health {code}, next question: {after} in {seconds * 1000:.0f} ms")
    print(f"  refusals polite ('try again'): {polite}")
    return {"got": dict(got), "polite": polite, "recovered": alive and code == 200 and after == "ok"}


def phase_c(url: str, pid: int, qs: list[str], args: argparse.Namespace, data_dir: Path) -> dict:
    print(f"\n  (c) server memory over {args.rss_questions} sequential questions", flush=True)
    before = stored_questions(data_dir)
    c = sequential(url, pid, qs, args.rss_questions, 200, args.time_limit)
    c["store"], c["lost"] = store_line(before, stored_questions(data_dir), c["outcomes"]["ok"])
    first, last = c["rows"][0], c["rows"][-1]
    c["growth"], c["non_ok"], c["outcomes"] = round(last[1] - first[1], 1), _errors(c["outcomes"]), dict(c["outcomes"])
    c["rows"] = [[n, round(rss, 1), round(hwm, 1)] for n, rss, hwm in c["rows"]]
    print(f"  VmRSS {first[1]:.1f} -> {last[1]:.1f} MiB after {c['asked']} questions: growth {c['growth']:+.1f} MiB; "
          f"outcomes {c['outcomes']}")
    print(f"  {c['store']}")
    return c


def product_part(args: argparse.Namespace, workdir: Path, qs: list[str]) -> dict:
    """The product: build, serve, warm up, (a), round trip, (b), (c)."""
    from chatbot.serve.patient_ui import ENGINE_CONCURRENCY

    print(f"\nproduct: `chatbot serve`, model {args.model}; building the index of {REPO / 'corpus'} ...", flush=True)
    index = workdir / "index"
    built = build_index(index, args.model, workdir)
    print(f"  built in {built:.1f} s", flush=True)
    with server(index, args.model, workdir, "main") as (url, proc):
        warm_up(url, proc.pid, qs, PRODUCT)
        a = phase_a(url, proc.pid, qs, args, PRODUCT, workdir / "data-main")
        a_gc = phase_a(url, proc.pid, qs, args, PRODUCT, workdir / "data-main", browser=False)
        chat = phase_chat(url, qs, args, PRODUCT)
        peak = rss_mib(proc.pid)[1]
        print(f"\n  server peak RSS (VmHWM) after (a) and the round trip: {peak:.1f} MiB", flush=True)
        b = phase_b(index, args, workdir, qs)
        c = phase_c(url, proc.pid, qs, args, workdir / "data-main")
        alive = proc.poll() is None
    return {"build_s": round(built, 2), "concurrency": ENGINE_CONCURRENCY, "a": a, "a_gradio_client": a_gc, "chat": chat,
            "peak_rss_mib": round(peak, 1), "b": b, "c": c, "alive": alive}


def tutorial_part(args: argparse.Namespace, workdir: Path, qs: list[str]) -> dict:
    """The tutorial baseline: build, serve, warm up, (a), round trip."""
    print("\ntutorial baseline: `python -m evaluation.tutorial serve` (gr.ChatInterface, Gradio's default queue); "
          "building its index ...", flush=True)
    index = workdir / "tutorial-index"
    built = build_tutorial(index, workdir)
    print(f"  built in {built:.1f} s", flush=True)
    with tutorial_server(index, workdir) as (url, proc):
        warm_up(url, proc.pid, qs, TUTORIAL)
        a = phase_a(url, proc.pid, qs, args, TUTORIAL)
        a_gc = phase_a(url, proc.pid, qs, args, TUTORIAL, browser=False)
        chat = phase_chat(url, qs, args, TUTORIAL)
        peak = rss_mib(proc.pid)[1]
        print(f"\n  server peak RSS (VmHWM) after (a) and the round trip: {peak:.1f} MiB", flush=True)
        alive = proc.poll() is None
    return {"build_s": round(built, 2), "concurrency": 1, "a": a, "a_gradio_client": a_gc, "chat": chat, "peak_rss_mib": round(peak, 1),
            "alive": alive}


def floor_part(args: argparse.Namespace, workdir: Path, qs: list[str]) -> dict:
    """The chat round trip against a server that does no work (`tutorial serve --echo`): what the
    clients spend of their own, which moves with the machine's speed."""
    print("\nfloor: the same chat app replying \"ok\" with no work (`python -m evaluation.tutorial serve --echo`)", flush=True)
    with echo_server(workdir) as (url, proc):
        warm_up(url, proc.pid, qs, TUTORIAL)
        chat = phase_chat(url, qs, args, TUTORIAL)
    return {"chat": chat}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.load_test", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=20, help="concurrent clients in (a) (default 20)")
    p.add_argument("--per-client", type=int, default=25, help="questions per client in (a) (default 25)")
    p.add_argument("--chat-questions", type=int, default=50, help="sequential questions of the chat round trip (default 50)")
    p.add_argument("--burst", type=int, default=30, help="simultaneous questions against a queue of 2 in (b) (default 30)")
    p.add_argument("--rss-questions", type=int, default=1000, help="sequential questions in (c) (default 1000)")
    p.add_argument("--model", default="default", help="embedding model of the product's temporary index (default: default)")
    p.add_argument("--time-limit", type=float, default=1200, help="seconds each of (a) and (c) may run at most (default 1200)")
    p.add_argument("--database-url", default="", help="the product servers' store, e.g. postgresql://user:pass@host/db "
                                                       "(default: SQLite in each server's temporary data folder)")
    p.add_argument("--out", type=Path, default=REPORTS, help="report folder (default: evaluation/reports)")
    args = p.parse_args(argv)
    global DATABASE_URL
    DATABASE_URL = args.database_url
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio_client is imported
    os.environ["HF_HUB_OFFLINE"] = "1"

    meta = machine.describe(shlex.join(["python", "-m", "evaluation.load_test", *(sys.argv[1:] if argv is None else argv)]))
    workdir = Path(tempfile.mkdtemp(prefix="chatbot-load-"))
    try:
        return run(args, workdir, meta)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path, meta: dict) -> int:
    qs = questions()
    print(f"load test: {len(qs)} questions (English and Indonesian), {meta['cores']} cores, load average at start "
          f"{meta['load_average_at_start']}", flush=True)
    product = product_part(args, workdir, qs)
    tutorial = tutorial_part(args, workdir, qs)
    floor = floor_part(args, workdir, qs)
    meta["load_average_at_end"] = machine.load_average()
    settings = {k: getattr(args, k) for k in ("clients", "per_client", "chat_questions", "burst", "rss_questions", "model")}
    figures = {"meta": meta, "settings": settings | {"database": "PostgreSQL" if DATABASE_URL else "SQLite"},
               "product": product, "tutorial": tutorial, "floor": floor}
    summary(figures)
    md, js = write_section("load", markdown(figures), figures, args.out)
    print(f"written: {md} (section \"Load test\"), {js} (key \"load\")")
    a, a_gc, b, c = product["a"], product["a_gradio_client"], product["b"], product["c"]
    ok = (a["errors"] == a_gc["errors"] == 0 and b["polite"] and b["recovered"] and product["alive"]
          and a["lost"] == a_gc["lost"] == c["lost"] == 0)
    floor_trips = [floor["chat"], floor["chat"]["stream"], *([floor["chat"]["no_ca"]] if "no_ca" in floor["chat"] else [])]
    return 0 if ok and tutorial["alive"] and all(trip["errors"] == 0 for trip in floor_trips) else 1


if __name__ == "__main__":
    sys.exit(main())
