"""The staff area of a real `chatbot serve` over HTTP: closed without a login, the login page, throttling,
expired sessions, logout, export and the audit trail. (The same in a browser: test_staff_browser.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from ui_helpers import Server, start_server

from chatbot.settings import Settings
from chatbot.store import open_store

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    yield from start_server(tmp_path_factory.mktemp("staff-server"))


def http(server: Server, address: str = "10.0.0.1", **kwargs) -> httpx.Client:
    """A client seen by the server as `address` (uvicorn trusts X-Forwarded-For from loopback, as behind a local proxy)."""
    return httpx.Client(base_url=server.url.rstrip("/"), follow_redirects=False, timeout=60,
                        headers={"X-Forwarded-For": address}, **kwargs)


def login(client: httpx.Client, name: str = "nurse", password: str = PASSWORD) -> httpx.Response:
    return client.post("/staff/login", data={"name": name, "password": password})


def test_without_an_account_the_staff_area_says_how_to_create_one(server):
    with http(server) as client:
        assert client.get("/staff").headers["location"] == "/staff/login"
        page = client.get("/staff/login")
    assert page.status_code == 503 and "No staff account exists yet" in page.text
    assert "<code>chatbot staff add NAME</code>" in page.text and "<form" not in page.text
    server.add_staff("nurse", PASSWORD)


@pytest.mark.parametrize("path", ["/staff/", "/staff/config", "/staff/gradio_api/info", "/staff/export", "/staff/theme.css",
                                  "/staff/gradio_api/queue/data?session_hash=x", "/staff/gradio_api/file=/etc/passwd"])
def test_nothing_under_staff_opens_without_a_session(server, path):
    with http(server) as client:
        response = client.get(path)
        assert response.status_code in (303, 401), response.text[:200]
        assert client.post("/staff/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"}).status_code == 401
        forged = client.get(path, cookies={"chatbot_staff": "forged-token"})
        assert forged.status_code in (303, 401) and "config" not in forged.text


def test_login_page_shows_only_the_form(server):
    with http(server) as client:
        page = client.get("/staff/login")
    assert page.status_code == 200 and '<form method="post" action="/staff/login"' in page.text
    assert 'type="password"' in page.text and "gradio" not in page.text.lower()


@pytest.mark.parametrize("name,password", [("nurse", "wrong password"), ("nobody", PASSWORD), ("nurse' --", PASSWORD),
                                           ("' OR '1'='1", "' OR '1'='1"), ("nurse", "x" * 100_000)])
def test_wrong_name_or_password_is_refused(server, name, password):
    with http(server, address=f"10.1.{len(name)}.{len(password) % 250}") as client:
        refused = login(client, name, password)
        assert refused.status_code == 401 and "Wrong user name or password." in refused.text
        assert "chatbot_staff" not in refused.headers.get("set-cookie", "")
        assert client.get("/staff/").status_code == 303


def test_right_password_opens_the_staff_area_and_logout_closes_it(server):
    with http(server) as client:
        response = login(client)
        assert response.status_code == 303 and response.headers["location"] == "/staff/"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/staff" in cookie
        page = client.get("/staff/")
        assert page.status_code == 200 and "gradio" in page.text.lower()
        assert client.get("/staff/config").status_code == 200
        token = client.cookies["chatbot_staff"]
        out = client.get("/staff/logout")
        assert out.headers["location"] == "/staff/login?out"
        assert "You are logged out." in client.get("/staff/login?out").text
        assert client.get("/staff/", cookies={"chatbot_staff": token}).status_code == 303  # the old cookie opens nothing


def test_staff_compare_works_for_a_logged_in_client(server):
    from gradio_client import Client

    with http(server) as client:
        login(client)
        token = client.cookies["chatbot_staff"]
    staff = Client(server.url + "staff/", headers={"Cookie": f"chatbot_staff={token}"}, verbose=False)
    md_en, table_en, _, md_id, table_id, _ = staff.predict("How is CMV transmitted?", api_name="/compare")
    staff.close()
    assert "Here is what our sources say:" in md_en and "Berikut informasi dari sumber kami:" in md_id
    assert table_en["data"] and table_id["data"]


def test_an_expired_session_is_sent_back_to_the_login(server):
    with http(server) as client:
        login(client)
        store = open_store(Settings.from_env(env=server.env))
        from chatbot.store.schema import sessions

        with store.db.write() as conn:  # as if the session time (CHATBOT_SESSION_MINUTES) had passed
            conn.execute(sessions.update().values(expires_at=sessions.c.expires_at - timedelta(days=2)))
        store.close()
        response = client.get("/staff/")
        assert response.status_code == 303 and response.headers["location"] == "/staff/login?expired"
        assert "Your session has ended. Please log in again." in client.get("/staff/login?expired").text
        assert client.get("/staff/config").status_code == 401


def test_export_is_a_logged_in_download_and_audited(server):
    from gradio_client import Client

    patient = Client(server.url, verbose=False)
    patient.predict("Saya Budi Santoso, HP 0812-3456-7890. Apakah ada vaksin untuk CMV?", "auto", [], api_name="/chat")
    patient.close()
    with http(server) as client:
        assert client.get("/staff/export").status_code == 401
        login(client)
        export = client.get("/staff/export")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    records = [json.loads(line) for line in export.text.splitlines()]
    assert "Saya [NAME], HP [PHONE]. Apakah ada vaksin untuk CMV?" in [r["question"] for r in records]
    assert "Budi" not in export.text and "0812" not in export.text
    store = open_store(Settings.from_env(env=server.env))
    trail = [(r["actor"], r["action"]) for r in store.audit.recent(page_size=200).rows]
    store.close()
    assert trail[0] == ("nurse", "export") and ("nurse", "login") in trail and ("nurse", "logout") in trail
    assert ("(unknown name)", "login_failed") in trail


def test_wrong_passwords_in_a_loop_are_throttled_with_a_clear_message(server):
    codes = []
    with http(server, address="10.9.9.9") as client:
        for attempt in range(6):
            response = login(client, "nurse", f"guess number {attempt}")
            codes.append(response.status_code)
        assert codes == [401, 401, 401, 429, 429, 429]
        assert "Too many failed logins from this address. Try again in" in response.text
        assert int(response.headers["retry-after"]) >= 1
        assert login(client).status_code == 429  # the right password too, while throttled
    with http(server, address="10.9.9.10") as other:
        assert login(other).status_code == 303  # another address is not affected


def test_login_page_in_indonesian(server):
    with http(server) as client:
        page = client.get("/staff/login", headers={"Accept-Language": "id-ID,id;q=0.9"})
    assert "Masuk staf" in page.text and "Kata sandi" in page.text
