"""The client side of the load test: gradio_client sessions asking a chat endpoint, many at once or
one after another, every failure counted. Works for the product's chat and the tutorial's."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REQUEST_TIMEOUT = 120.0  # seconds one chat request may take before it counts as an error


def message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _product_reply(result: Any) -> str:
    messages = result[0]
    return message_text(messages[1]) if len(messages) > 1 else ""


def _product_failure(reply: str) -> str:
    from chatbot.answer.texts import text

    if any(text(key, lang) in reply for key in ("error", "busy") for lang in ("en", "id")):
        return "engine error or busy message"
    return ""


@dataclass(frozen=True)
class ChatApi:
    """How one app's chat endpoint is called, its reply read, and a wrong reply recognised."""

    api_name: str
    args: Callable[[str, Any], tuple]  # the question and the conversation so far (None: a new one) -> the inputs
    reply: Callable[[Any], str]
    failure: Callable[[str], str] = lambda reply: ""  # what is wrong with a non-empty reply ("" = nothing)
    carry: Callable[[Any], Any] = lambda result: None  # the conversation after an answer, for the next question


PRODUCT = ChatApi("/chat", lambda q, chat: (q, "auto", chat or []), _product_reply, _product_failure,
                  lambda result: result[0])  # question, language, chat so far; the first output is the chat
TUTORIAL = ChatApi("/respond", lambda q, chat: (q,), lambda result: str(result or ""))  # gr.ChatInterface: the message


def plain_http(url: str) -> bool:
    """An address without TLS, where gradio_client may be told not to load the certificate bundle."""
    return url.startswith("http://")


def client(url: str, ca_bundle: bool = True):
    """A gradio_client session. gradio_client makes a new httpx client for each request (the POST
    that joins the queue, and the event stream), and httpx loads the certificate bundle into a new
    SSL context for each, even for an http:// address: about 25 ms of CPU each here, 50 ms a
    question. `ca_bundle=False` on a plain-http address skips that (`ssl_verify=False`: there is no
    certificate to verify without TLS); the server does the same work either way."""
    from gradio_client import Client

    if not ca_bundle and not plain_http(url):
        raise ValueError(f"the certificate bundle is only left out for plain http, not for {url}")
    return Client(url, verbose=False, ssl_verify=ca_bundle)


def close_all(clients: list) -> None:
    """Stop the clients' heartbeat threads, side by side (each close waits up to 1 s)."""
    closers = [threading.Thread(target=c.close) for c in clients]
    for t in closers:
        t.start()
    for t in closers:
        t.join(timeout=10)


def ask(c, question: str, api: ChatApi = PRODUCT) -> tuple[str, float]:
    """One chat turn: ("ok" or what went wrong, seconds)."""
    started = time.perf_counter()
    try:
        result = c.submit(*api.args(question, None), api_name=api.api_name).result(timeout=REQUEST_TIMEOUT)
    except Exception as exc:  # a load test counts every failure, whatever its kind
        return f"{type(exc).__name__}: {str(exc)[:120]}", time.perf_counter() - started
    seconds = time.perf_counter() - started
    reply = api.reply(result)
    if not reply:
        return "empty reply", seconds
    return api.failure(reply) or "ok", seconds


def concurrent_clients(url: str, qs: list[str], n_clients: int, per_client: int, time_limit: float,
                       api: ChatApi = PRODUCT, browser: bool = True) -> dict:
    """`n_clients` threads, own session each, `per_client` questions each; stops at `time_limit`.
    Each reads the event stream as a browser does (StreamChat), or, with `browser=False`, is a
    gradio_client session."""
    deadline = time.monotonic() + time_limit
    latencies: list[float] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()
    try:
        described = Endpoint.read(url, api) if browser else None
    except Exception as exc:  # counted, like any other failure
        return {"latencies": latencies, "outcomes": Counter({f"could not connect: {type(exc).__name__}": n_clients * per_client}),
                "seconds": 0.0}

    def worker(i: int) -> None:
        try:
            c = StreamChat(url, api, described) if described else client(url)
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
                question = qs[(i * per_client + j) % len(qs)]
                outcome, seconds = c.ask(question) if described else ask(c, question, api)
                with lock:
                    outcomes[outcome] += 1
                    latencies.append(seconds)
        finally:
            c.close() if described else close_all([c])

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT))
    return {"latencies": latencies, "outcomes": outcomes, "seconds": time.perf_counter() - started}


def round_trip(url: str, qs: list[str], n: int, api: ChatApi = PRODUCT, ca_bundle: bool = True) -> dict:
    """`n` questions one after another through one client, after one warm-up question that is not
    counted (evaluation/bench_chat.py's measure): latencies and outcomes. `ca_bundle`: see `client`."""
    c = client(url, ca_bundle)
    latencies: list[float] = []
    outcomes: Counter = Counter()
    try:
        ask(c, qs[-1], api)
        for question in (qs[i % len(qs)] for i in range(n)):
            outcome, seconds = ask(c, question, api)
            outcomes[outcome] += 1
            latencies.append(seconds)
    finally:
        close_all([c])
    return {"latencies": latencies, "outcomes": outcomes}


@dataclass(frozen=True)
class Endpoint:
    """What a browser needs to call a chat endpoint, read once through gradio_client."""

    fn_index: int
    payload: Callable[..., Any]  # inputs -> the data sent, state inputs empty as a browser sends them
    shown: Callable[..., Any]  # outputs -> those a client sees (state outputs, None on the wire, dropped)
    join: str  # the POST that joins the queue (gradio_client's `sse_data_url`)
    stream: str  # the event stream (`sse_url`)

    @classmethod
    def read(cls, url: str, api: ChatApi) -> Endpoint:
        c = client(url)
        try:
            fn_index = c._infer_fn_index(api.api_name, None)
            endpoint = c.endpoints[fn_index]
            return cls(fn_index, endpoint.insert_empty_state, endpoint.remove_skipped_components, c.sse_data_url, c.sse_url)
        finally:
            close_all([c])


class StreamChat:
    """A chat endpoint read the way a browser reads it: join the queue, then read the event stream
    until the answer is complete. gradio_client instead looks at its message queue every 50 ms
    (gradio_client/utils.py, stream_sse_v1plus), which rounds every answer up to its next 50 ms;
    20 gradio_client sessions in one process also used more CPU per answer than the server they
    measure, on the same two cores. `ask` has `ask`'s contract."""

    def __init__(self, url: str, api: ChatApi = PRODUCT, endpoint: Endpoint | None = None) -> None:
        """One browser tab; `endpoint`: the endpoint's description when it was read already."""
        import httpx

        self.endpoint = endpoint or Endpoint.read(url, api)
        self.api = api
        self.http = httpx.Client(timeout=REQUEST_TIMEOUT)
        self.session = uuid.uuid4().hex  # one browser tab: every question of this client in one session
        self.chat: Any = None  # the conversation so far, sent with the next question

    def close(self) -> None:
        self.http.close()

    def ask(self, question: str) -> tuple[str, float]:
        """One chat turn, timed from joining the queue to the answer's `process_completed`; the
        stream is then read to its `close_stream`, as Gradio's own clients do. The chat so far goes
        with the question, as a browser sends it; after a failure the tab starts afresh (a new
        session), so that the server's clean-up of the old one cannot take the next question."""
        outcome, seconds, data = self._turn(question)
        if outcome == "ok":
            self.chat = self.api.carry(data)
        else:
            self.session, self.chat = uuid.uuid4().hex, None
        return outcome, seconds

    def _turn(self, question: str) -> tuple[str, float, Any]:
        import json

        api, endpoint, session, started = self.api, self.endpoint, self.session, time.perf_counter()
        outcome, seconds, data = "stream ended without an answer", None, None
        try:
            joined = self.http.post(endpoint.join, json={"data": list(endpoint.payload(*api.args(question, self.chat))),
                                                         "fn_index": endpoint.fn_index, "session_hash": session,
                                                         "event_data": None, "trigger_id": None})
            joined.raise_for_status()
            event = joined.json().get("event_id")
            with self.http.stream("GET", endpoint.stream, params={"session_hash": session}) as events:
                for line in events.iter_lines():  # heartbeats keep a stuck answer's stream alive: a deadline of our own
                    if time.perf_counter() - started > REQUEST_TIMEOUT:
                        return "timed out", time.perf_counter() - started, None
                    message = json.loads(line[5:]) if line.startswith("data:") else {}
                    if message.get("msg") == "close_stream":
                        break
                    if message.get("msg") != "process_completed" or message.get("event_id") not in (event, None):
                        continue
                    seconds, output = time.perf_counter() - started, message.get("output") or {}
                    if not message.get("success") or not output.get("data"):
                        outcome = f"failed: {str(output.get('error'))[:120]}"
                        continue
                    data = endpoint.shown(*output["data"])
                    data = data[0] if len(data) == 1 else data  # as gradio_client hands it over
                    reply = api.reply(data)
                    outcome = (api.failure(reply) or "ok") if reply else "empty reply"
        except Exception as exc:  # a load test counts every failure, whatever its kind (as `ask` does)
            return f"{type(exc).__name__}: {str(exc)[:120]}", time.perf_counter() - started, None
        return outcome, seconds if seconds is not None else time.perf_counter() - started, data


def stream_round_trip(url: str, qs: list[str], n: int, api: ChatApi = PRODUCT) -> dict:
    """`round_trip` read the way a browser reads it (StreamChat): same questions, same warm-up
    question; latencies and outcomes."""
    reader = StreamChat(url, api)
    latencies: list[float] = []
    outcomes: Counter = Counter()
    try:
        reader.ask(qs[-1])
        for question in (qs[i % len(qs)] for i in range(n)):
            outcome, seconds = reader.ask(question)
            outcomes[outcome] += 1
            latencies.append(seconds)
    finally:
        reader.close()
    return {"latencies": latencies, "outcomes": outcomes}


def burst(url: str, question: str, n: int, api: ChatApi = PRODUCT) -> list[str]:
    """`n` clients send one question at the same moment; what each one got back."""
    clients = [None] * n

    def connect(i: int) -> None:
        clients[i] = client(url)

    run_threads(connect, n, timeout=120)
    start, got = threading.Barrier(n), ["not run"] * n

    def one(i: int) -> None:
        start.wait(timeout=60)
        got[i] = ask(clients[i], question, api)[0]

    run_threads(one, n, timeout=REQUEST_TIMEOUT + 60)
    close_all([c for c in clients if c is not None])
    return got


def run_threads(target, n: int, timeout: float) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
