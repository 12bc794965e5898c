"""No endpoint of the patient app returns what another visitor asked or rated.

A real `chatbot serve`: visitor A asks a question carrying unique marker words and gives it a
thumbs-down with a comment. Visitor B then calls every endpoint the patient app has, taken
from Gradio's own API info and config: the named ones, and every event by its fn_index
(private ones too), through the queue and through direct calls, plus the pages and JSON the
app serves. None of the responses may contain a marker.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from ui_helpers import Server, start_server

MARKERS = ["Zubaidahmarker", "Kartikasarimarker", "xylophonequestion", "3174051203850099", "0813-9876-5411", "tambourinecomment"]
QUESTION = (f"My name is {MARKERS[0]} {MARKERS[1]}, NIK {MARKERS[3]}, phone {MARKERS[4]}. "
            f"Is the {MARKERS[2]} vaccine safe with CMV?")
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    yield from start_server(tmp_path_factory.mktemp("privacy"))


def config(url: str) -> dict:
    return httpx.get(url + "config", timeout=30).json()


def dependency(cfg: dict, api_name: str) -> dict:
    return next(d for d in cfg["dependencies"] if d.get("api_name") == api_name)


def defaults(cfg: dict, dep: dict) -> list:
    """Each input's initial value from the page config (what a fresh visitor's browser would send)."""
    values = {c["id"]: c.get("props", {}).get("value") for c in cfg["components"]}
    return [values.get(i) for i in dep["inputs"]]


def queued(url: str, fn_index: int, data: list, session: str, event_data: dict | None = None, trigger: int | None = None) -> str:
    """Run one event through the queue as the browser does; returns everything the server sent back."""
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        joined = http.post("gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                          "event_data": event_data, "trigger_id": trigger})
        if joined.status_code != 200:
            return joined.text
        event_id, received = joined.json()["event_id"], []
        deadline = time.monotonic() + TIMEOUT
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                received.append(line)
                if event_id in line and '"process_completed"' in line or time.monotonic() > deadline:
                    break
        return "\n".join(received)


def direct(url: str, fn_index: int, data: list, session: str) -> str:
    """The same event as a direct call (how events outside the queue run)."""
    response = httpx.post(url + "gradio_api/run/predict", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                                 "event_data": None}, timeout=TIMEOUT)
    return response.text


def test_no_endpoint_returns_another_visitors_question(server):
    cfg = config(server.url)
    # visitor A: asks, then dislikes the answer with a comment
    a = uuid.uuid4().hex[:11]
    chat = dependency(cfg, "chat")
    data = defaults(cfg, chat)
    data[0], data[1] = QUESTION, "auto"
    assert "Here is what our sources say" in queued(server.url, chat["id"], data, a, trigger=chat["targets"][0][0])
    like = next(d for d in cfg["dependencies"] if d["targets"] and d["targets"][0][1] == "like")
    queued(server.url, like["id"], defaults(cfg, like), a, event_data={"index": 1, "value": "x", "liked": False},
           trigger=like["targets"][0][0])
    send = dependency(cfg, "on_send")
    queued(server.url, send["id"], [None, "wrong_or_unsafe", MARKERS[5], "auto"], a, trigger=send["targets"][0][0])
    stored = json.dumps(server.records())
    assert MARKERS[2] in stored and MARKERS[5] in stored  # the question and comment are in the store (masked)...
    assert MARKERS[0] not in stored and MARKERS[3] not in stored and MARKERS[4] not in stored  # ...without personal details

    # visitor B: every endpoint, every event
    b = uuid.uuid4().hex[:11]
    responses = {"/": httpx.get(server.url, timeout=30).text, "/config": json.dumps(config(server.url)),
                 "/gradio_api/info": httpx.get(server.url + "gradio_api/info", timeout=30).text,
                 "/gradio_api/info?all_endpoints": httpx.get(server.url + "gradio_api/info", params={"all_endpoints": "true"},
                                                             timeout=30).text,
                 "/health": httpx.get(server.url + "health", timeout=30).text}
    info = json.loads(responses["/gradio_api/info"])
    assert set(info["named_endpoints"]) == {"/chat", "/ask"}
    for dep in cfg["dependencies"]:
        data = defaults(cfg, dep)
        if dep.get("api_name") in ("chat", "ask"):
            data = ["What did the previous visitor ask?", "auto"] + data[2:]
        trigger = dep["targets"][0][0] if dep["targets"] else None
        event = {"index": 1, "value": "x", "liked": False} if dep["targets"] and dep["targets"][0][1] == "like" else None
        responses[f"queue {dep['id']} {dep.get('api_name')}"] = queued(server.url, dep["id"], data, b, event, trigger)
        responses[f"direct {dep['id']} {dep.get('api_name')}"] = direct(server.url, dep["id"], data, b)
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    responses["client /ask"] = json.dumps(client.predict("What was asked before?", "auto", api_name="/ask"))
    responses["client /chat"] = json.dumps(client.predict("Show me the last question", "auto", [], api_name="/chat"))
    client.close()
    assert len(responses) >= 2 * len(cfg["dependencies"]) + 5
    leaks = {name: [m for m in MARKERS if m in body] for name, body in responses.items()}
    assert not {k: v for k, v in leaks.items() if v}, "a patient endpoint returned another visitor's words"
    for path in ("staff", "staff/config", "staff/gradio_api/info", "staff/export"):  # nothing of the staff side without a login
        assert httpx.get(server.url + path, timeout=30).status_code in (303, 401)
