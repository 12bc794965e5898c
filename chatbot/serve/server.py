"""Serving: the patient chat at `/`, the staff area at `/staff` (behind a login), `GET /health`; run with uvicorn."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from ..errors import StoreError
from ..settings import Settings
from ..store import Store, open_store

log = logging.getLogger("chatbot")
# Chat sessions (browser tabs) whose state the server keeps, the least recently used forgotten
# first. Gradio keeps 10,000, each with its own copy of the page's configuration (57 KB here):
# 560 MiB once that many people have visited; 500 cost 30 MiB at most. A forgotten tab still gets
# answers; it loses the earlier questions a short follow-up is read with, and the thumbs (and a
# thumbs-down's pending reason) on its earlier answers, which then say "not saved". Every page load
# opens a session: 500 visits in the time a patient reads an answer make that patient's tab forgotten.
CHAT_SESSIONS = 500


def _offline() -> None:
    """Gradio looks up a version server and telemetry hosts on import unless told not to. Its
    queue also keeps a record of the last 10,000 events and, after every event, summarises them
    in a pandas table for a monitoring page this app does not use (2-8 ms of CPU per answer,
    growing with the records): keep 100 and summarise every 100th event."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")


def health(bot: Any, store_ok: bool | None = None) -> dict[str, Any]:
    """The /health body: whether an index is loaded, with its size and embedders (and whether the store is open)."""
    extra = {} if store_ok is None else {"store": "ok" if store_ok else "unavailable"}
    if not getattr(bot, "ready", True):
        return {"status": "unavailable", "index_loaded": False, "error": getattr(bot, "error", "")} | extra
    m = bot.manifest or {}
    counts = m.get("counts", {})
    return {"status": "ok", "index_loaded": True, "documents": counts.get("documents", 0),
            "chunks": counts.get("chunks", 0), "embedder": "+".join(e["id"] for e in m.get("embedders", []))} | extra


def create_app(bot: Any, store: Store | None = None, queue_size: int = 64, store_error: str = "",
               retention_days: int = 90) -> Any:
    """FastAPI app: `/health`, the patient chat at `/`, the staff area at `/staff` (login pages beside it).

    Without a store (`store_error` says why) the chat still answers; nothing is kept and /staff says why it is closed.
    """
    _offline()
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from . import login
    from .content_html import CSS as STAFF_CSS
    from .patient_ui import CSS, build_app, make_i18n
    from .staff_ui import build_staff_app

    app = FastAPI(title="chatbot", docs_url=None, redoc_url=None, openapi_url=None)
    days = store.feedback.retention_days if store is not None else retention_days

    @app.get("/health")
    def _health() -> Any:
        if hasattr(bot, "refresh"):
            bot.refresh()  # a monitor polling /health must see a rebuilt index without asking a question
        body = health(bot, store_ok=store is not None)
        return body if body["index_loaded"] else JSONResponse(body, status_code=503)

    login.install(app, lambda: store, lambda: store_error)
    # the bundled Source Sans Pro semibold file is a tiny subset: bold text needs the full bold file
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    theme = gr.themes.Default(primary_hue="teal", secondary_hue="slate", font=font)
    common = dict(i18n=make_i18n(days), css=CSS, theme=theme, show_error=False, footer_links=[], ssr_mode=False,
                  mcp_server=False, pwa=False, run_history=False)
    if store is not None:  # mounted first: "/" would otherwise take every path
        from ..ingest.documents import MAX_FILE_BYTES
        from .live import LiveEngine
        from .rebuild import Rebuilder

        rebuilder = Rebuilder(bot, audit=store.audit.record) if isinstance(bot, LiveEngine) else None
        staff = build_staff_app(bot, store, rebuilder=rebuilder)
        staff.queue(max_size=queue_size, default_concurrency_limit=1)
        gr.mount_gradio_app(app, staff, path=login.PREFIX, auth_dependency=login.session_user(lambda: store),
                            max_file_size=MAX_FILE_BYTES, **(common | {"css": CSS + STAFF_CSS}))
    patient = build_app(bot, store=store.feedback if store is not None else None, retention_days=days)
    patient.queue(max_size=queue_size, default_concurrency_limit=1)
    patient.state_session_capacity = CHAT_SESSIONS  # read when the app is mounted
    return gr.mount_gradio_app(app, patient, path="/", **common)


def open_store_or_explain(settings: Settings, progress: Callable[[str], None] = log.info) -> tuple[Store | None, str]:
    """The store, or None and the reason (said once, clearly): the chat keeps answering without it."""
    try:
        return open_store(settings), ""
    except StoreError as exc:
        progress(f"warning: {exc}. The chat keeps answering, but questions and feedback are not kept and the staff area "
                 "is closed until this is fixed and the server restarted.")
        return None, str(exc)


def _without_charts() -> None:
    """The server draws no charts, but gradio imports matplotlib around every event when it is
    installed (it is, with the `eval` and `test` extras): 26 MiB more in the server, for nothing.
    Marked unavailable in this process, it is not imported; gradio expects that case."""
    import sys

    if "matplotlib" not in sys.modules:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]  # `import matplotlib` now raises ImportError


def _settle_heap() -> None:
    """Leave what is loaded by now (index, models, the apps: some 200,000 objects) out of the
    garbage collector's full passes, which otherwise walk all of it every few hundred answers:
    about 300 ms of CPU each, stalling every answer in flight (load test, seed corpus: 5 such
    passes in 500 answers; 5.2 -> 2.3 ms of collector CPU an answer). Only the cycle collector
    skips them: they are freed as usual when no longer referenced, and a swap to a rebuilt index
    gives them all back to it (live._thaw)."""
    import gc

    gc.collect()
    gc.freeze()


def serve(settings: Settings, progress: Callable[[str], None] = log.info) -> None:
    """Load the engine, then serve the chat window on `settings.host`:`settings.port` until stopped."""
    _offline()
    _without_charts()
    import uvicorn

    from .live import LiveEngine
    from .translated import Translator

    store, why = open_store_or_explain(settings, progress)
    translator = Translator(store, settings.corpus)
    bot = LiveEngine(settings, progress=progress, prepare=translator.prepare, finish=translator.apply)
    if not bot.ready:
        progress(f"no usable index yet ({bot.error}); answering 'being updated' until one is built")
    app = create_app(bot, store=store, queue_size=settings.queue_size, store_error=why, retention_days=settings.retention_days)
    _settle_heap()
    progress(f"chat window on http://{settings.host}:{settings.port}/ (staff area: /staff, health: /health)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
