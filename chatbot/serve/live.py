"""The engine as the server holds it: reloaded when its index is rebuilt, polite while there is none.

A build swaps a new index directory in (see index/directory.py); the server notices the new manifest and
loads it without a restart. While no usable index exists (missing, damaged, out of date), every
question gets the "being updated" message in its language instead of an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..ingest import langid
from ..answer.compose import message_only
from .engine import Bot, clean_question
from ..errors import ChatbotError
from ..index.directory import MANIFEST
from ..records import Answer
from ..settings import Settings

log = logging.getLogger("chatbot")


class LiveEngine:
    """`ask` and `manifest` like a Bot; checks at most every `check_every` seconds for a new index."""

    def __init__(self, settings: Settings, progress: Callable[[str], None] = log.info, check_every: float = 5.0) -> None:
        self.settings, self.progress, self.check_every = settings, progress, check_every
        self._bot: Bot | None = None
        self.error = ""
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._load()

    @property
    def ready(self) -> bool:
        return self._bot is not None

    @property
    def manifest(self) -> dict:
        return self._bot.manifest if self._bot is not None else {}

    def ask(self, question: str, lang: str = "auto", k: int | None = None, history: Sequence[str] = ()) -> Answer:
        """The bot's answer, or the "being updated" message while no index can be loaded."""
        self.refresh()
        bot = self._bot
        if bot is None:
            language = lang if lang in langid.SUPPORTED else langid.detect(clean_question(question)).language
            return message_only(clean_question(question)[:200], language, "busy")
        return bot.ask(question, lang=lang, k=k, history=history)

    def refresh(self) -> None:
        """Load the index again when its manifest changed (or while none is loaded)."""
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return
        with self._lock:
            self._checked = now
            if self._bot is None or self._manifest_stamp() != self._stamp:
                self._load()

    def _load(self) -> None:
        stamp = self._manifest_stamp()
        try:
            bot = Bot.load(self.settings, progress=self.progress)
        except ChatbotError as exc:
            self.error = str(exc)
            log.warning("index not loaded: %s", exc)
            if self._bot is not None:
                self.error += " (still answering from the previously loaded index)"
        else:
            self._bot, self.error = bot, ""
        self._stamp = stamp

    def _manifest_stamp(self) -> tuple[int, int] | None:
        try:
            st = (Path(self.settings.index_dir) / MANIFEST).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino
