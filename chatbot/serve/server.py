"""Serving: the chat Blocks mounted in FastAPI beside `GET /health`, run with uvicorn."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from ..store.feedback import FeedbackStore
from ..settings import Settings

log = logging.getLogger("chatbot")


def _offline() -> None:
    """Gradio looks up a version server and telemetry hosts on import unless told not to."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"


def health(bot: Any) -> dict[str, Any]:
    """The /health body: whether an index is loaded, with its size and embedders."""
    if not getattr(bot, "ready", True):
        return {"status": "unavailable", "index_loaded": False, "error": getattr(bot, "error", "")}
    m = bot.manifest or {}
    counts = m.get("counts", {})
    return {"status": "ok", "index_loaded": True, "documents": counts.get("documents", 0),
            "chunks": counts.get("chunks", 0), "embedder": "+".join(e["id"] for e in m.get("embedders", []))}


def create_app(bot: Any, store: FeedbackStore | None = None, queue_size: int = 64) -> Any:
    """FastAPI app: `/health` plus the chat UI at `/` (queue and concurrency limits set)."""
    _offline()
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from .patient_ui import CSS, build_app, make_i18n

    app = FastAPI(title="chatbot", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    def _health() -> Any:
        if hasattr(bot, "refresh"):
            bot.refresh()  # a monitor polling /health must see a rebuilt index without asking a question
        body = health(bot)
        return body if body["index_loaded"] else JSONResponse(body, status_code=503)

    blocks = build_app(bot, store=store)
    blocks.queue(max_size=queue_size, default_concurrency_limit=1)
    # the bundled Source Sans Pro semibold file is a tiny subset: bold text needs the full bold file
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    theme = gr.themes.Default(primary_hue="teal", secondary_hue="slate", font=font)
    return gr.mount_gradio_app(app, blocks, path="/", i18n=make_i18n(), css=CSS, theme=theme, show_error=False,
                               footer_links=[], ssr_mode=False, mcp_server=False, pwa=False)


def serve(settings: Settings, progress: Callable[[str], None] = log.info) -> None:
    """Load the engine, then serve the chat window on `settings.host`:`settings.port` until stopped."""
    _offline()
    import uvicorn

    from .live import LiveEngine

    bot = LiveEngine(settings, progress=progress)
    if not bot.ready:
        progress(f"no usable index yet ({bot.error}); answering 'being updated' until one is built")
    app = create_app(bot, store=FeedbackStore.from_settings(settings), queue_size=settings.queue_size)
    progress(f"chat window on http://{settings.host}:{settings.port}/ (health: /health)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
