"""`chatbot serve` whose database cannot be opened: one clear warning, the chat keeps answering, /staff says why it is closed."""

from __future__ import annotations

import httpx
import pytest
from ui_helpers import Server, message_text, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    work = tmp_path_factory.mktemp("no-store")
    blocker = work / "a-file"
    blocker.write_text("not a folder")
    yield from start_server(work, {"CHATBOT_DATA_DIR": str(blocker / "data")})  # a data folder that cannot exist


def test_startup_says_once_what_is_wrong(server):
    log = server.log.read_text()
    assert log.count("cannot create the database file") == 1 and "The chat keeps answering" in log
    assert "Traceback" not in log


def test_chat_keeps_answering_without_a_store(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    messages, _ = client.predict("How is CMV transmitted?", "auto", [], api_name="/chat")
    client.close()
    assert "Here is what our sources say:" in message_text(messages[1])
    health = httpx.get(server.url + "health", timeout=30).json()
    assert health["status"] == "ok" and health["store"] == "unavailable"


def test_privacy_line_says_nothing_is_kept(server):
    config = httpx.get(server.url + "config", timeout=30).json()
    note = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "privacy-note")
    assert "privacy_note_none" in str(note["props"]["value"])  # an i18n key: "Your questions and ratings are not kept."


def test_staff_area_says_why_it_is_closed(server):
    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as client:
        page = client.get("staff")
        assert page.status_code == 503 and "The staff area is unavailable because the database cannot be opened" in page.text
        assert "cannot create the database file" in page.text and "<form" not in page.text
        assert client.post("staff/login", data={"name": "x", "password": "y" * 10}).status_code == 503
        assert client.get("staff/config").status_code == 401
