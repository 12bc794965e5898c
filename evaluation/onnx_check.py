"""Do the ONNX vectors of all-MiniLM-L6-v2 match the sentence-transformers ones? And how fast is each?

    python -m evaluation.onnx_check [--medquad-answers 2000] [--medquad-data PATH] [--json]

Texts: every passage of the seed corpus (as the index embeds them), MedQuAD answers drawn with a
fixed seed, and queries (every labelled question plus the MedQuAD questions of those answers).
Backends, all cut at 128 tokens: the product's ONNX int8 (`minilm`), an ONNX float32 export made
for this check, sentence-transformers with torch's dynamic int8 (`minilm-st`, the previous
default) and sentence-transformers float32 (the reference). Prints mean and minimum cosine per
text set, and passages per second and per CPU-second of each backend on the MedQuAD answers (one
pass each, load average beside).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from chatbot.embeddings import Embedder, load_embedders, prepare_embedders
from chatbot.embeddings.minilm import OnnxMiniLMEmbedder, packaged_model
from chatbot.embeddings.onnx_export import export
from chatbot.embeddings.sentence_transformers import SentenceTransformerEmbedder
from chatbot.index.build import cleaned_corpus
from chatbot.ingest.chunking import ChunkSettings, chunk_document, embedding_text
from chatbot.settings import Settings

from . import machine, medquad
from .common import load_set

PAIRS = (("onnx-int8", "st-fp32"), ("onnx-int8", "st-int8"), ("onnx-fp32", "st-fp32"), ("st-int8", "st-fp32"))
LABELS = {"onnx-int8": "ONNX int8 (minilm, new default)", "onnx-fp32": "ONNX float32",
          "st-int8": "torch int8 (minilm-st, previous default)", "st-fp32": "sentence-transformers float32"}


def texts(n_answers: int, data: Path) -> dict[str, tuple[list[str], bool]]:
    """Text sets: name -> (texts, embedded as queries)."""
    docs, _ = cleaned_corpus(Settings.from_env(env={}).corpus)
    passages = [embedding_text(c) for d in docs for c in chunk_document(d, ChunkSettings())]
    records = medquad.load_records(data)
    picked = random.Random(medquad.SEED).sample(records, min(n_answers, len(records)))
    labelled = [r["question"] for name in ("questions", "heldout", "independent") for r in load_set(name)]
    return {"seed corpus passages": (passages, False), "MedQuAD answers": ([r["answer"] for r in picked], False),
            "labelled questions": (labelled, True), "MedQuAD questions": ([r["question"] for r in picked], True)}


def backends(workdir: Path) -> dict[str, Embedder]:
    """The four ways of running the model, each cut at 128 tokens."""
    prepare_embedders("minilm", progress=print)
    [onnx_int8] = load_embedders("minilm")
    [st_int8] = load_embedders("minilm-st")
    export(packaged_model(), workdir, int8=False)
    onnx_fp32 = OnnxMiniLMEmbedder(folder=workdir, model_id="onnx-fp32")
    st_fp32 = SentenceTransformerEmbedder(str(packaged_model()), model_id="st-fp32-128", cross_lingual=False, max_tokens=128)
    return {"onnx-int8": onnx_int8, "onnx-fp32": onnx_fp32, "st-int8": st_int8, "st-fp32": st_fp32}


def embed(emb: Embedder, items: list[str], as_queries: bool) -> tuple[np.ndarray, dict]:
    """Vectors, and wall and CPU seconds (CPU time counts the work whatever else runs on the machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    vecs = emb.encode_queries(items) if as_queries else emb.encode_passages(items)
    return vecs, {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--medquad-answers", type=int, default=2000, help="MedQuAD answers drawn (default 2000)")
    parser.add_argument("--medquad-data", type=Path, default=medquad.DATA, help="medquad.jsonl.gz")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    sets = texts(args.medquad_answers, args.medquad_data)
    with tempfile.TemporaryDirectory(prefix="onnx-fp32-") as tmp:
        models = backends(Path(tmp))
        cos, speed = {}, {}
        for name, (items, as_queries) in sets.items():
            vecs = {}
            for key, emb in models.items():
                vecs[key], seconds = embed(emb, items, as_queries)
                if name == "MedQuAD answers":
                    speed[key] = {"passages_per_s": round(len(items) / seconds["wall"], 1),
                                  "passages_per_cpu_s": round(len(items) / seconds["cpu"], 1), "load_average": machine.load_average()}
            cos[name] = {"n": len(items)} | {f"{a} vs {b}": _stats((vecs[a] * vecs[b]).sum(axis=1)) for a, b in PAIRS}
    if args.json:
        print(json.dumps({"cosine": cos, "speed": speed, "meta": machine.describe("python -m evaluation.onnx_check")}, indent=1))
        return 0
    _print(cos, speed)
    return 0


def _stats(c: np.ndarray) -> dict:
    return {"mean": round(float(c.mean()), 4), "min": round(float(c.min()), 4)}


def _print(cos: dict, speed: dict) -> None:
    print("\ncosine between the vectors of two backends (mean / min), all at 128 tokens:")
    print(f"  {'texts':22} {'n':>5} " + " ".join(f"{a + ' vs ' + b:>22}" for a, b in PAIRS))
    for name, row in cos.items():
        cells = " ".join(f"{row[f'{a} vs {b}']['mean']:>12.4f} / {row[f'{a} vs {b}']['min']:.4f}" for a, b in PAIRS)
        print(f"  {name:22} {row['n']:5d} {cells}")
    print("\nembedding the MedQuAD answers (one pass, all cores): passages per second and per CPU-second; load average 1/5/15 min")
    for key, row in speed.items():
        print(f"  {LABELS[key]:42} {row['passages_per_s']:7.1f} {row['passages_per_cpu_s']:7.1f}   load {row['load_average']}")


if __name__ == "__main__":
    raise SystemExit(main())
