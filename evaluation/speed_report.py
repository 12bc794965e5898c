"""The report of `python -m evaluation.bench_cli` and `python -m evaluation.load_test`: the issue's
targets, and one Markdown file plus one JSON file in which each script rewrites only its own
section, so that running one never erases the other's figures."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .common import HERE

REPORTS = HERE / "reports"
NAME = "speed-and-load"
SECTIONS = {"cli": "CLI and in-process", "load": "Load test"}  # key -> heading, in the order the file shows them
INTRO = ("# Speed and load\n\nWritten by `python -m evaluation.bench_cli` (section \"CLI and in-process\") and "
         "`python -m evaluation.load_test` (section \"Load test\"); each rewrites only its own section here and its own "
         f"key in `{NAME}.json`. Product and tutorial baseline are measured in the same run, one after the other; "
         "timings depend on the machine and its load, given with each section.\n")


@dataclass(frozen=True)
class Target:
    """A figure the issue asks of the product."""

    label: str
    limit: float
    at_least: bool = False  # True: the figure must reach the limit; False: stay at or under it

    def verdict(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"{self.label} (not measured)"
        met = value >= self.limit if self.at_least else value <= self.limit
        return f"{self.label} ({'met' if met else 'MISSED'})"


TARGETS = {
    "rss": Target("≤ 500 MiB", 500),
    "cold_ask": Target("≤ 3 s", 3),
    "answer_p95": Target("≤ 50 ms", 50),
    "chat_p95": Target("≤ 150 ms", 150),
    "load_errors": Target("0", 0),
    "load_rate": Target("≥ 15 answers/s", 15, at_least=True),
    "load_p95": Target("≤ 1,500 ms", 1500),
}


def target(key: str, value: float | None) -> str:
    return TARGETS[key].verdict(value)


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def plain(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """The same table for a terminal: columns padded."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *rows])


def machine_line(meta: dict) -> str:
    """Where and under what load a section was measured."""
    start, end = meta.get("load_average_at_start"), meta.get("load_average_at_end")
    return (f"Measured {meta.get('date')} on {meta.get('cpu')}, {meta.get('cores')} cores, {meta.get('ram_gib')} GiB RAM; "
            f"commit {meta.get('commit')}; `{meta.get('command')}`. Load average (1, 5, 15 min) at start "
            f"{_load(start)}, at end {_load(end)}: other work on the machine slows every timing.")


def _load(values: list[float] | None) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "unknown"


def write_section(key: str, body: str, figures: dict, out: Path = REPORTS) -> tuple[Path, Path]:
    """Replace section `key` of out/speed-and-load.md and its key in speed-and-load.json; the
    other section stays exactly as it was."""
    if key not in SECTIONS:
        raise ValueError(f"unknown report section {key!r}: choose from {', '.join(SECTIONS)}")
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / f"{NAME}.md", out / f"{NAME}.json"
    sections = read_sections(md.read_text(encoding="utf-8") if md.exists() else "")
    sections[key] = f"## {SECTIONS[key]}\n\n{body.strip()}\n"
    md.write_text(INTRO + "".join("\n" + sections[k] for k in SECTIONS if k in sections), encoding="utf-8")
    try:
        data = json.loads(js.read_text(encoding="utf-8")) if js.exists() else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    data[key] = figures
    js.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return md, js


def read_sections(text: str) -> dict[str, str]:
    """The known sections of a report, each from its `## ` heading up to the next known one."""
    by_heading = {f"## {title}": key for key, title in SECTIONS.items()}
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines(keepends=True):
        if line.rstrip("\n") in by_heading:
            current = by_heading[line.rstrip("\n")]
            found[current] = []
        if current is not None:
            found[current].append(line)
    return {k: "".join(lines).rstrip("\n") + "\n" for k, lines in found.items()}
