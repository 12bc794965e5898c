"""One frozen settings object, read from CHATBOT_* environment variables; CLI options override it."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the built-in defaults.

    Abstention is calibrated when an index is built, with the off-topic questions of `offtopic_file`.
    """

    corpus: tuple[Path, ...] = (PROJECT_ROOT / "corpus",)
    index_dir: Path = PROJECT_ROOT / "index" / "default"
    data_dir: Path = PROJECT_ROOT / "data"
    embedding_cache: Path | None = None  # default: beside the index, one per index; a shared one is never pruned
    model_cache: Path | None = None  # models exported at build time (ONNX); default: ~/.cache/chatbot/models
    model: str = "default"
    k: int = 5
    lang: str = "auto"
    chunk_min_words: int = 30
    chunk_max_words: int = 120
    ann_threshold: int = 20_000  # passages; larger collections get an approximate (IVF) index per embedder
    e5_max_words: int = 200_000  # the default adds e5 to collections up to this size (it embeds ~12 passages/s)
    bm25_weight: float = 1.0
    bridge_weight: float = 1.0
    same_language_bonus: float = 0.0
    offtopic_file: Path = Path(__file__).resolve().parent / "data" / "offtopic_calibration.toml"
    abstain_z: float = 2.5  # a question less than this many spreads closer to the passages than off-topic questions...
    abstain_topic: float = 0.3  # ...or whose quoted passages mention less than this share of its content, is declined (see engine.py)
    max_question_chars: int = 2000
    focus_search: bool = False  # also search a long message by its question and topic words (search/focus.py): off,
    # it cost more than it gave (MedQuAD consumer rewrites, development half: top passage right 118 with, 123 without)
    log_questions: bool = True
    database_url: str = ""  # empty: SQLite (WAL) at data_dir/chatbot.db; postgresql://user:pass@host/db for a shared server
    retention_days: int = 90  # question and feedback records older than this are deleted automatically
    session_minutes: int = 480  # a staff login lasts this long, then the staff area asks for the password again
    queue_size: int = 64  # waiting chat requests beyond this get a polite "try again" instead of a long wait
    host: str = "127.0.0.1"
    port: int = 7860

    def __post_init__(self) -> None:
        if self.k < 1 or self.k > 50:
            raise ValueError(f"k must be between 1 and 50, got {self.k}")
        if self.lang not in ("auto", "en", "id"):
            raise ValueError(f"lang must be auto, en or id, got {self.lang!r}")
        if self.retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, got {self.retention_days}")
        if self.session_minutes < 1:
            raise ValueError(f"session_minutes must be at least 1, got {self.session_minutes}")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Defaults, then CHATBOT_<FIELD> variables, then explicit non-None overrides."""
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(f"CHATBOT_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, getattr(cls(), f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return _settings(cls, values)
        except ValueError as exc:
            raise ValueError(f"{exc} (check the CHATBOT_* variables and command options)") from exc


def _settings(cls, values: dict) -> Settings:
    if "corpus" in values:
        values["corpus"] = tuple(Path(p) for p in values["corpus"])
    for key in ("index_dir", "data_dir", "offtopic_file", "embedding_cache", "model_cache"):
        if key in values:
            values[key] = Path(values[key])
    return replace(cls(), **values)


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _parse(name: str, raw: str, default):
    try:
        if isinstance(default, bool):
            value = raw.strip().lower()
            if value not in _TRUE | _FALSE:
                raise ValueError(f"use one of {sorted(_TRUE | _FALSE)}")
            return value in _TRUE
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, tuple):
            return tuple(Path(p) for p in raw.split(os.pathsep) if p)
        return raw
    except ValueError as exc:
        raise ValueError(f"CHATBOT_{name.upper()}={raw!r} is not a valid {type(default).__name__}: {exc}") from exc
