"""Turn a JSONL collection with its own field names into a corpus file this product reads.

    chatbot import medquad.jsonl.gz --preset medquad --out corpus/medquad.jsonl
    chatbot import faq.jsonl --map id=faq_id,title=q,text=a,language=:id --out corpus/faq.jsonl

A mapping names, for each document field (id, title, text, language, url, source, date), the
source field it comes from; `:value` gives a constant instead. The output is written to a
temporary file and renamed, so a failed import never leaves half a corpus file behind.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .documents import json_records
from ..errors import CorpusError

FIELDS = ("id", "title", "text", "language", "url", "source", "date")
PRESETS = {
    # MedQuAD (NIH, CC BY 4.0): question as title, answer as text; all English.
    "medquad": {"id": "id", "title": "question", "text": "answer", "url": "url", "source": "source", "language": ":en"},
}


@dataclass(frozen=True)
class ImportResult:
    written: int
    skipped: int  # records without text or id
    renamed: int  # records whose id was taken already: written as ID-2, ID-3, ...
    out: Path


def parse_mapping(preset: str | None, overrides: str | None) -> dict[str, str]:
    """A field mapping from a preset and/or `field=source,...` overrides."""
    if preset and preset not in PRESETS:
        raise CorpusError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
    mapping = dict(PRESETS[preset]) if preset else {f: f for f in FIELDS}
    for item in filter(None, (overrides or "").split(",")):
        field, sep, source = item.partition("=")
        field = field.strip()
        if not sep or field not in FIELDS or source.strip() in ("", ":"):
            raise CorpusError(f"mapping {item!r} must be FIELD=SOURCE (or FIELD=:constant) with FIELD one of {', '.join(FIELDS)}")
        mapping[field] = source.strip()
    if "id" not in mapping or "text" not in mapping:
        raise CorpusError("the mapping needs id and text, e.g. --map id=doc_id,text=body")
    return mapping


def import_collection(src: Path, out: Path, mapping: dict[str, str]) -> ImportResult:
    """Write `src` (JSONL, optionally .gz) as a corpus JSONL file at `out`."""
    src, out = Path(src), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.importing-{os.getpid()}")
    written = skipped = renamed = 0
    seen: dict[str, int] = {}
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            for n, rec in _records(src):
                doc = {f: _value(rec, source) for f, source in mapping.items()}
                doc = {f: v for f, v in doc.items() if v}
                if not doc.get("id") or not doc.get("text", "").strip():
                    skipped += 1
                    continue
                if doc["id"] in seen:  # MedQuAD has a few: keep every record, under a unique id
                    seen[doc["id"]] += 1
                    doc["id"] = f"{doc['id']}-{seen[doc['id']]}"
                    renamed += 1
                seen.setdefault(doc["id"], 1)
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
                written += 1
            fh.flush()
            os.fsync(fh.fileno())
        if not written:
            raise CorpusError(f"{src}: no record had both an id and a text under this mapping ({mapping})")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return ImportResult(written, skipped, renamed, out)


def _value(rec: dict, source: str) -> str:
    if source.startswith(":"):
        return source[1:]
    value = rec.get(source)
    return str(value).strip() if isinstance(value, (str, int, float)) else ""


def _records(src: Path) -> Iterator[tuple[int, dict]]:
    opener = gzip.open if src.suffix == ".gz" else open
    try:
        with opener(src, "rt", encoding="utf-8") as fh:
            yield from json_records(fh, src)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read {src}: {exc}") from exc
