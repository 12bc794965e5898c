"""The engine as the server holds it: reloaded when its index is rebuilt, polite while there is none.

A build swaps a new index directory in (see index/directory.py). The server loads the new index
in a background thread, off the request path, while the old one keeps answering, then swaps one
reference: no request ever waits for a build or a model load. The reload happens right after a
build the server ran itself (`load_now`), and within `check_every` seconds of one run elsewhere
(`chatbot build`). Serving builds only at start-up (the default index, when missing or out of
date) and when staff publish (serve/rebuild.py); a reload only loads. While no usable index exists (missing, damaged, out of date), every question
gets the "being updated" message in its language instead of an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..answer.compose import message_only
from ..errors import ChatbotError
from ..index.directory import MANIFEST, load_index
from ..ingest import langid
from ..records import Answer
from ..settings import Settings
from .engine import Bot, clean_question

log = logging.getLogger("chatbot")


@dataclass(frozen=True)
class Loaded:
    """A loaded bot, the manifest stamp it was loaded at, and what `prepare` made for it."""

    bot: Bot
    stamp: tuple[int, int] | None
    extra: Any = None


class LiveEngine:
    """`ask` and `manifest` like a Bot, over whichever index was loaded last.

    `prepare(bot)` runs on each newly loaded bot before it answers (e.g. aligning translated
    leaflets); `finish(answer, extra)` runs on each answer with what `prepare` returned (e.g.
    showing reviewed translations).
    """

    def __init__(self, settings: Settings, progress: Callable[[str], None] = log.info, check_every: float = 5.0,
                 prepare: Callable[[Bot], Any] | None = None, finish: Callable[[Answer, Any], Answer] | None = None) -> None:
        self.settings, self.progress, self.check_every = settings, progress, check_every
        self.prepare, self.finish = prepare, finish
        self._current: Loaded | None = None
        self.error = ""
        self._tried: tuple[int, int] | None = None  # the manifest stamp of the last load attempt
        self._checked = 0.0
        self._load_lock = threading.Lock()  # one load at a time
        self._state_lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self.load_now()

    @property
    def ready(self) -> bool:
        return self._current is not None

    @property
    def bot(self) -> Bot | None:
        """The bot answering now (None while no index could be loaded)."""
        current = self._current
        return current.bot if current is not None else None

    @property
    def extra(self) -> Any:
        current = self._current
        return current.extra if current is not None else None

    @property
    def manifest(self) -> dict:
        bot = self.bot
        return bot.manifest if bot is not None else {}

    def ask(self, question: str, lang: str = "auto", k: int | None = None, history: Sequence[str] = ()) -> Answer:
        """The bot's answer, or the "being updated" message while no index can be loaded."""
        self.refresh()
        current = self._current
        if current is None:
            language = lang if lang in langid.SUPPORTED else langid.detect_question(clean_question(question)).language
            return message_only(clean_question(question)[:200], language, "busy")
        answer = current.bot.ask(question, lang=lang, k=k, history=history)
        return self.finish(answer, current.extra) if self.finish is not None else answer

    def refresh(self) -> None:
        """Notice a rebuilt index (at most every `check_every` seconds) and load it in the background; never waits."""
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return
        self._checked = now
        if self._current is None or self._manifest_stamp() != self._tried:
            self.load_in_background()

    def load_in_background(self) -> None:
        """Start loading the index in a thread of its own, unless one is loading already."""
        with self._state_lock:
            if self._loader is not None and self._loader.is_alive():
                return
            # loads only: serving never builds after start-up (`chatbot build` or the staff area's rebuild do)
            self._loader = threading.Thread(target=self.load_now, kwargs={"built": True}, name="index-loader", daemon=True)
            self._loader.start()

    def load_now(self, built: bool = False) -> bool:
        """Load the index, prepare it and swap it in (the old one answers until then); True when it did.
        `built`: load the index as it is on disk (checksums checked), never building it: a rebuilt index
        noticed while serving. Otherwise (start-up) the default index is built first when missing or stale."""
        with self._load_lock:
            stamp = self._manifest_stamp()
            if self._current is not None and stamp == self._current.stamp:
                return True  # loaded meanwhile (a background check queued behind the load after a rebuild)
            try:
                bot = self._fresh_bot() if built else Bot.load(self.settings, progress=self.progress)
            except ChatbotError as exc:
                self._tried = stamp
                self.error = str(exc) + (" (still answering from the previously loaded index)" if self._current else "")
                log.warning("index not loaded: %s", exc)
                return False
            previous = self._current
            self._current, self.error, self._tried = Loaded(bot, stamp, self._prepared(bot)), "", stamp
            if previous is not None:
                _thaw()
            return True

    def _fresh_bot(self) -> Bot:
        """The index just built, loaded with the models its manifest names (checksums checked)."""
        return Bot.from_index(self.settings, load_index(self.settings.index_dir))

    def _prepared(self, bot: Bot) -> Any:
        if self.prepare is None:
            return None
        try:
            return self.prepare(bot)
        except Exception:  # what prepare adds is optional: the new index answers without it
            log.exception("preparing the new index failed")
            return None

    def _manifest_stamp(self) -> tuple[int, int] | None:
        try:
            st = (Path(self.settings.index_dir) / MANIFEST).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino


def _thaw() -> None:
    """Give what start-up froze (server._settle_heap: the first index and models) back to the
    garbage collector once another index answers: frozen objects are never collected as cyclic
    garbage, so any reference cycle in the old index would otherwise stay in memory for good."""
    import gc

    if gc.get_freeze_count():
        gc.unfreeze()
