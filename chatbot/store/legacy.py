"""The JSONL feedback file of earlier versions: imported once into the database (masked), then kept as a backup.

The import runs inside the migration transaction and remembers the file's SHA-256 in the meta
table, so it happens once even when the file cannot be renamed. The backup keeps the original,
unmasked text: delete it once the import is checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .db import utcnow
from .privacy import mask

log = logging.getLogger("chatbot")
LEGACY = "feedback.jsonl"
BACKUP = LEGACY + ".imported"


def _key(path: Path) -> str:
    return f"imported:{LEGACY}:{hashlib.sha256(path.read_bytes()).hexdigest()}"


def import_jsonl(conn: Any, data_dir: Path) -> int:
    """Insert the records of data_dir/feedback.jsonl unless this file was imported before; returns how many."""
    from sqlalchemy import select

    from .schema import feedback, meta, questions

    path = Path(data_dir) / LEGACY
    if not path.is_file():
        return 0
    key = _key(path)
    if conn.execute(select(meta.c.key).where(meta.c.key == key)).first():
        return 0
    count = 0
    for record in _records(path):
        when = _time(record.get("time"))
        if record.get("kind") == "question":
            conn.execute(questions.insert().values(created_at=when, question=mask(str(record.get("question", ""))),
                                                   language=str(record.get("language", ""))[:8],
                                                   abstained=bool(record.get("abstained")), urgent=bool(record.get("urgent"))))
        elif record.get("kind") == "feedback":
            conn.execute(feedback.insert().values(created_at=when, liked=bool(record.get("liked")), reason=None, comment=None,
                                                  question=mask(str(record.get("question", ""))),
                                                  language=str(record.get("language", ""))[:8],
                                                  chunk_ids=json.dumps([str(c) for c in record.get("chunk_ids") or []]),
                                                  answer=str(record.get("answer", ""))))
        else:
            continue
        count += 1
    conn.execute(meta.insert().values(key=key, value=f"{count} records, {utcnow().isoformat(timespec='seconds')}Z"))
    log.warning("imported %d records from %s into the database", count, path)
    return count


def keep_as_backup(data_dir: Path, imported: Any) -> Path | None:
    """Rename an imported feedback.jsonl to feedback.jsonl.imported (the backup); `imported(key)` says if it was."""
    path = Path(data_dir) / LEGACY
    if not path.is_file() or not imported(_key(path)):
        return None
    backup = path.with_name(BACKUP)
    if backup.exists():
        backup = path.with_name(f"{BACKUP}-{utcnow():%Y%m%d%H%M%S}")
    try:
        path.rename(backup)
    except OSError as exc:
        log.warning("%s was imported but cannot be renamed to %s (%s); it will not be imported again", path, backup, exc)
        return None
    log.warning("%s is kept as %s: it holds the original, unmasked questions; delete it once the import is checked", path, backup)
    return backup


def _records(path: Path):
    for n, raw in enumerate(path.read_bytes().split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            log.warning("%s:%d: skipped an incomplete record", path, n)
            continue
        if isinstance(record, dict):
            yield record


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return utcnow()
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
