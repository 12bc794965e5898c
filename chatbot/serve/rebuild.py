"""Background rebuilds for the staff area: the normal incremental build into the served index
directory, in a thread of the server, then the new index loaded and swapped in at once.

One build runs at a time; changes published while it runs are taken by one more build after it.
The build writes a temporary directory and swaps it in (index/directory.py), the old index keeps
answering meanwhile, and the models already loaded are reused, so only the new passages cost
time. `status()` says where it is: queued, reading, embedding n of m, writing, swapping, done or
failed (with the reason; the old index then keeps answering).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..embeddings import Embedder, embedder_ids
from ..errors import ChatbotError
from ..index.build import build
from ..index.calibrate import offtopic_questions
from .live import LiveEngine

log = logging.getLogger("chatbot")
STAGES = ("idle", "queued", "reading", "embedding", "writing", "swapping", "done", "failed")
_COUNTS = re.compile(r"(\d+) documents -> (\d+) passages")
_EMBEDDED = re.compile(r"^(\S+): embedded (\d+) new passages")
_DESC = re.compile(r"embedding \((.+)\)")


@dataclass(frozen=True)
class Progress:
    """Where the background rebuild is. `done`/`total`: texts embedded so far / to embed (all models)."""

    stage: str = "idle"
    done: int = 0
    total: int = 0
    detail: str = ""  # counts, or the error of a failed build
    reason: str = ""  # what the build is for ("publish dengue by nurse.ani; retire x by ...")
    started: float = 0.0  # time.time()
    seconds: float = 0.0
    documents: int = 0
    passages: int = 0

    @property
    def busy(self) -> bool:
        return self.stage in ("queued", "reading", "embedding", "writing", "swapping")


class Remembering(Embedder):
    """An embedder that remembers its query vectors: the off-topic questions that calibrate every
    build are embedded once per server, not once per build."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self._memo = inner, {}
        self.id, self.dim, self.cross_lingual, self.batch_size, self.thread_safe = inner.id, inner.dim, inner.cross_lingual, inner.batch_size, inner.thread_safe
        self.pools_spans = inner.pools_spans

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            self._memo.update(zip(missing, self.inner.encode_queries(missing)))
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_passages(texts)

    def encode_with_spans(self, texts: Sequence[str], spans) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.inner.encode_with_spans(texts, spans)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self.inner._encode(texts, is_query)


class Rebuilder:
    """Runs the incremental build of the served index in the background, one at a time."""

    def __init__(self, engine: LiveEngine, audit: Callable[[str, str, str], None] | None = None) -> None:
        self.engine, self.audit = engine, audit
        self._progress = Progress()
        self._pending: list[str] = []
        self._warm = False
        self._working = False  # the worker is building or embedding the calibration questions
        self._lock = threading.Condition()
        self._worker: threading.Thread | None = None
        self._remembering: dict[str, Remembering] = {}

    def status(self) -> Progress:
        return self._progress

    def request(self, reason: str) -> Progress:
        """Ask for a rebuild (after a document was published, replaced or retired); returns at once."""
        with self._lock:
            self._pending.append(reason)
            if not self._progress.busy:
                self._progress = Progress("queued", reason=reason, started=time.time())
            self._start()
            return self._progress

    def warm(self) -> None:
        """Embed the calibration questions now, while nobody waits, so the first publish is fast."""
        with self._lock:
            self._warm = True
            self._start()

    def wait(self, timeout: float = 600.0) -> Progress:
        """Block until no build (or warm-up) is queued or running (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while (self._pending or self._warm or self._working or self._progress.busy) and time.monotonic() < deadline:
                self._lock.wait(timeout=0.2)
            return self._progress

    def _start(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="rebuild", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                reasons, self._pending = self._pending, []
                warm, self._warm = self._warm, False
                if reasons:
                    self._progress = replace(self._progress, stage="queued")  # busy from now on, for `wait`
                self._working = bool(reasons or warm)
                if not self._working:
                    self._worker = None
                    self._lock.notify_all()
                    return
            if reasons:
                self._rebuild("; ".join(dict.fromkeys(reasons)))  # the build embeds the calibration questions too
            else:
                self._embed_calibration()

    def _set(self, **changes) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)
            self._lock.notify_all()

    def _rebuild(self, reason: str) -> None:
        started = time.time()
        self._set(stage="reading", reason=reason, started=started, done=0, total=0, detail="", seconds=0.0)
        self._totals: dict[str, tuple[int, int]] = {}
        self._reported: set[str] = set()
        try:
            build(self.engine.settings, embedders=self._embedders(), progress=self._message, bar=self._embedding)
            self._set(stage="swapping")
            if not self.engine.load_now(built=True):
                raise ChatbotError(self.engine.error)
        except ChatbotError as exc:
            self._finish("failed", str(exc), started, reason)
        except (Exception, KeyboardInterrupt) as exc:  # never kill the worker (a model's Stopped is a KeyboardInterrupt): keep the old index
            log.exception("background rebuild failed")
            self._finish("failed", f"unexpected {type(exc).__name__}: {exc}", started, reason)
        else:
            counts = self.engine.manifest.get("counts", {})
            self._set(documents=int(counts.get("documents", 0)), passages=int(counts.get("chunks", 0)))
            self._finish("done", "", started, reason)

    def _finish(self, stage: str, detail: str, started: float, reason: str) -> None:
        seconds = round(time.time() - started, 1)
        if self.audit is not None:  # before the stage says finished: whoever waits for it finds the record
            try:
                self.audit("system", "rebuild", f"{stage} in {seconds} s: {reason}" + (f" ({detail})" if detail else ""))
            except ChatbotError as exc:
                log.warning("could not audit the rebuild: %s", exc)
        self._set(stage=stage, detail=detail, seconds=seconds)

    def _message(self, message: str) -> None:
        """The build's progress lines, turned into stages."""
        if m := _COUNTS.search(message):
            self._set(stage="embedding", documents=int(m[1]), passages=int(m[2]))
        elif m := _EMBEDDED.match(message):
            self._reported.add(m[1])
            if len(self._reported) >= len(self._models()):
                self._set(stage="writing")
        elif message.startswith("index written"):
            self._set(stage="swapping")

    def _embedding(self, desc: str, done: int, total: int) -> None:
        """Called as texts are embedded (one counter per model; the line shows the sum)."""
        m = _DESC.search(desc)
        with self._lock:  # called from each model's embedding thread
            self._totals[m[1] if m else desc] = (done, total)
            self._set(stage="embedding", done=sum(d for d, _ in self._totals.values()),
                      total=sum(t for _, t in self._totals.values()))

    def _models(self) -> tuple[str, ...]:
        return embedder_ids(self.engine.settings.model)

    def _embedders(self) -> tuple[Embedder, ...] | None:
        """The loaded models (remembering their calibration queries) when they are the configured ones, else None
        (the build then loads the configured models itself)."""
        bot = self.engine.bot
        if bot is None or tuple(e.id for e in bot.embedders) != self._models():
            return None
        return tuple(self._remembering.setdefault(e.id, Remembering(e)) for e in bot.embedders)

    def _embed_calibration(self) -> None:
        try:
            questions = [q for _, q in offtopic_questions(self.engine.settings.offtopic_file)]
            for emb in self._embedders() or ():
                emb.encode_queries(questions)
        except Exception as exc:  # only a head start: the build embeds them itself if this fails
            log.warning("could not embed the calibration questions ahead: %s", exc)
