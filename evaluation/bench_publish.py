"""Time from "Publish" in the staff area to the first answer from the new document, on a running
engine, with the code the server runs (documents desk, background rebuild, hot swap); and how fast
questions asked meanwhile are answered (from the old index).

    python -m evaluation.bench_publish --corpus DIR --index DIR [--model default]

Publishes one leaflet into the first corpus folder, then retires it again (its file ends in
.retired/). Use copies of a corpus and an index; set CHATBOT_EMBEDDING_CACHE to reuse vectors.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

LEAFLET = """Dengue fever in children: a clinic leaflet

Dengue is a viral infection spread by Aedes mosquitoes. Most children recover within a week, but some develop severe dengue, which needs hospital treatment.

Treatment at home

Give plenty of fluids: water, oral rehydration solution and soup. Paracetamol helps the fever; never give ibuprofen or aspirin, because they increase the risk of bleeding.

Warning signs

Go to the hospital at once if your child has severe stomach pain, keeps vomiting, bleeds from the gums or nose, or is very sleepy.
"""
QUESTION = "Can I give my child ibuprofen for dengue fever?"
DURING = "How is CMV transmitted?"


def _load(settings):
    from chatbot.serve.live import LiveEngine
    from chatbot.serve.rebuild import Rebuilder
    from chatbot.serve.translated import Translator
    from chatbot.store import open_store

    store = open_store(settings)
    translator = Translator(store, settings.corpus)
    t0 = time.perf_counter()
    engine = LiveEngine(settings, progress=lambda m: None, check_every=3600, prepare=translator.prepare, finish=translator.apply)
    return engine, Rebuilder(engine, audit=store.audit.record), store, time.perf_counter() - t0


def _ask_meanwhile(engine, rebuilder, latencies: list[float], stop: threading.Event) -> None:
    """A patient asking again and again while the build runs."""
    while not stop.is_set():
        t0 = time.perf_counter()
        engine.ask(DURING)
        latencies.append(time.perf_counter() - t0)
        time.sleep(0.2)


def _stages(rebuilder, seen: dict, stop: threading.Event, started: float) -> None:
    while not stop.is_set():
        stage = rebuilder.status().stage
        seen.setdefault(stage, round(time.perf_counter() - started, 2))
        time.sleep(0.05)


def run(settings) -> dict:
    from chatbot.serve.documents_desk import DocumentDesk

    engine, rebuilder, store, load_s = _load(settings)
    t0 = time.perf_counter()
    rebuilder.warm()  # what opening the Documents tab does
    rebuilder.wait()
    warm_s = time.perf_counter() - t0
    desk = DocumentDesk(engine, store, rebuilder)
    doc, _, note = desk.preview("bench", None, LEAFLET, {"language": "en"}, "", "en")
    assert doc is not None, note
    latencies: list[float] = []
    seen: dict[str, float] = {}
    stop = threading.Event()
    started = time.perf_counter()
    threads = [threading.Thread(target=_ask_meanwhile, args=(engine, rebuilder, latencies, stop), daemon=True),
               threading.Thread(target=_stages, args=(rebuilder, seen, stop, started), daemon=True)]
    ok, note = desk.publish("bench", doc, "", "en")
    assert ok, note
    for t in threads:
        t.start()
    status = rebuilder.wait()
    built_s = time.perf_counter() - started
    stop.set()
    for t in threads:
        t.join()
    answer = engine.ask(QUESTION)
    answered_s = time.perf_counter() - started
    cited = {answer.hits[n].chunk.doc_id for n in answer.sources}
    t1 = time.perf_counter()
    desk.retire("bench", doc.id, True, "en")
    rebuilder.wait()
    retired_s = time.perf_counter() - t1
    still = any(h.chunk.doc_id == doc.id for h in engine.ask(QUESTION).hits)
    store.close()
    return {"passages in the index": status.passages, "engine load (s)": round(load_s, 1),
            "calibration questions embedded ahead (s)": round(warm_s, 1), "build outcome": status.stage,
            "publish -> new index live (s)": round(built_s, 1), "publish -> answered from it (s)": round(answered_s, 1),
            "answer cites the new document": doc.id in cited, "stages began at (s)": seen,
            "questions answered during the build": len(latencies),
            "their slowest answer (s)": round(max(latencies), 2) if latencies else None,
            "retire -> index live again (s)": round(retired_s, 1), "retired document still found": still}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, nargs="+", required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    from chatbot.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    settings = Settings.from_env(corpus=args.corpus, index_dir=args.index, model=args.model, data_dir=data)
    for key, value in run(settings).items():
        print(f"{key:44} {value}")
    print(f"{'load average (1, 5, 15 min)':44} {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
