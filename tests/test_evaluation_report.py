"""The evaluation report: metric functions, the tutorial baseline's chunker, MedQuAD sampling, and
the report writer. Fast and without timing assertions (benchmarks are scripts, not tests)."""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import pytest

from chatbot.records import Document
from evaluation.common import Passage, is_relevant
from evaluation.metrics import first_rank, hit_at, latency, ndcg, precision_recall, reciprocal_rank, summarise
from evaluation.tutorial import split_documents, windows

# --- metrics ----------------------------------------------------------------------------------

RANKING = [False, True, False, True]  # relevant passages at ranks 2 and 4


def test_hit_at_k_counts_a_relevant_passage_within_the_top_k():
    assert first_rank(RANKING) == 2
    assert hit_at(RANKING, 1) == 0.0
    assert hit_at(RANKING, 2) == 1.0
    assert hit_at(RANKING, 5) == 1.0
    assert hit_at([False] * 10, 10) == 0.0


def test_reciprocal_rank_is_one_over_the_first_relevant_rank_within_k():
    assert reciprocal_rank(RANKING) == 0.5
    assert reciprocal_rank([True]) == 1.0
    assert reciprocal_rank([False] * 10 + [True], k=10) == 0.0  # rank 11 is beyond @10


def test_ndcg_by_hand():
    # DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068; ideal (2 relevant on top) = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg(RANKING, n_relevant=2) == pytest.approx(expected)
    assert ndcg(RANKING, n_relevant=2) == pytest.approx(0.6509, abs=1e-4)
    assert ndcg([True, True], n_relevant=2) == 1.0
    assert ndcg([False, True], n_relevant=1) == pytest.approx(1 / math.log2(3))
    assert ndcg([False, False], n_relevant=0) == 0.0  # nothing relevant in the index: no credit possible


def test_ndcg_ideal_is_capped_at_k():
    # 20 relevant passages but only 10 ranks: a top 10 of relevant passages is perfect
    assert ndcg([True] * 10, n_relevant=20, k=10) == pytest.approx(1.0)


def test_summarise_averages_over_questions():
    scores = summarise([RANKING, [True], [False] * 10], [2, 1, 1])
    assert scores.n == 3
    assert scores.hit1 == pytest.approx(1 / 3)
    assert scores.hit5 == pytest.approx(2 / 3)
    assert scores.mrr10 == pytest.approx((0.5 + 1 + 0) / 3)
    assert scores.ndcg10 == pytest.approx((0.6509 + 1 + 0) / 3, abs=1e-4)
    assert summarise([], []).n == 0


def test_precision_and_recall():
    truth = [True, True, True, False, False]
    said = [True, False, True, True, False]
    assert precision_recall(truth, said) == pytest.approx((2 / 3, 2 / 3))
    assert precision_recall([True], [False]) == (0.0, 0.0)


def test_latency_percentiles_in_milliseconds():
    lat = latency([0.010, 0.020, 0.030, 0.040, 0.100])
    assert (lat.n, lat.p50_ms, lat.mean_ms) == (5, 30.0, 40.0)
    assert lat.p95_ms == pytest.approx(88.0)
    assert latency([]) is None


def test_medquad_records_are_relevant_by_document_alone():
    assert is_relevant({"doc_ids": ["a", "b"]}, "b", "any text")
    assert not is_relevant({"doc_ids": ["a"]}, "c", "any text")
    labelled = {"doc_id": "a", "evidence": ["the  span"]}
    assert is_relevant(labelled, "a", "it holds the span here")
    assert not is_relevant(labelled, "a", "it does not")


# --- the tutorial chunker ---------------------------------------------------------------------

TEXT = " ".join(f"word{n:03d}" + ("\n\n" if n % 37 == 0 else "") for n in range(700))


def test_windows_are_about_the_size_and_overlap_asked_for():
    spans = windows(TEXT, size=1000, overlap=200)
    assert len(spans) > 3
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert 800 < e1 - s1 <= 1000
        assert 150 < e1 - s2 <= 200  # the next window starts inside the last 200 characters
    assert spans[-1][1] == len(TEXT)


def test_windows_cut_at_whitespace():
    for start, end in windows(TEXT, size=1000, overlap=200):
        assert start == 0 or TEXT[start - 1].isspace()
        assert not TEXT[start].isspace()
        assert end == len(TEXT) or TEXT[end].isspace()


def test_windows_lose_no_text():
    covered = set()
    for start, end in windows(TEXT, size=1000, overlap=200):
        covered.update(range(start, end))
    assert all(i in covered for i, ch in enumerate(TEXT) if not ch.isspace())
    words = [w for s, e in windows(TEXT, 300, 60) for w in TEXT[s:e].split()]
    assert set(words) == set(TEXT.split())


def test_a_word_longer_than_a_window_is_cut_hard_without_loss():
    text = "a" * 2500 + " tail"
    spans = windows(text, size=1000, overlap=200)
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")


def test_bad_window_settings_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        windows("text", size=100, overlap=100)


def test_split_documents_keeps_the_document_id():
    docs = [Document(id="d1", title="T", text=TEXT), Document(id="d2", title="U", text="short text")]
    passages = split_documents(docs)
    assert passages[-1] == Passage("d2", "short text")
    assert {p.doc_id for p in passages} == {"d1", "d2"}
    assert all(len(p.text) <= 1000 for p in passages)


# --- MedQuAD sample -----------------------------------------------------------------------------


def _medquad_file(path: Path) -> Path:
    records = [{"id": f"S_{n:03d}_Sec1", "source": "S", "url": f"https://example.org/{n}", "focus": f"Topic {n}",
                "qtype": "information", "question": f"What is topic {n} ?", "answer": f"Topic {n} is a condition."}
               for n in range(30)]
    records.append(dict(records[0], answer="A different answer under a repeated id."))
    records.append(dict(records[1], id="S_999_Sec1", focus="Other"))  # the same answer text as S_001
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    return path


def test_medquad_sample_writes_a_product_corpus_without_questions(tmp_path):
    from chatbot.ingest.documents import load_corpus
    from evaluation.medquad import sample

    data = _medquad_file(tmp_path / "mq.jsonl.gz")
    s = sample(n_docs=32, n_questions=32, path=data, cache=tmp_path)
    assert s.renamed_ids == 1 and s.documents == 32
    lines = [json.loads(line) for line in s.corpus.read_text(encoding="utf-8").splitlines()]
    assert set(lines[0]) == {"id", "title", "text", "url", "source", "language"}
    assert "What is topic" not in s.corpus.read_text(encoding="utf-8")
    docs = load_corpus((s.corpus,))  # the product reads it; ids are unique
    assert {d.title for d in docs} >= {"Topic 0", "Other"}
    by_id = {q["id"]: q for q in s.questions}
    assert by_id["S_001_Sec1"]["doc_ids"] == ["S_001_Sec1", "S_999_Sec1"]


def test_medquad_subset_holds_the_sampled_questions_answers(tmp_path):
    from evaluation.medquad import sample

    data = _medquad_file(tmp_path / "mq.jsonl.gz")
    s = sample(n_docs=10, n_questions=5, path=data, cache=tmp_path)
    ids = {json.loads(line)["id"] for line in s.corpus.read_text(encoding="utf-8").splitlines()}
    assert len(ids) == 10 and all(q["id"] in ids for q in s.questions)
    assert sample(n_docs=10, n_questions=5, path=data, cache=tmp_path).questions == s.questions  # fixed seed


# --- the report writer --------------------------------------------------------------------------


def _scores(v: float) -> dict:
    return {"n": 10, "hit1": v, "hit5": v, "hit10": v, "mrr10": v, "ndcg10": v}


def _speed(build_s: float, p95: float, process: bool) -> dict:
    out = {"build": {"seconds": build_s, "passages": 100, "passages_per_s": 100 / build_s, "index_mib": 1.0,
                     "wall_seconds": build_s + 5, "peak_rss_mib": 700.0, "reused": False},
           "shares_index_with": None, "retrieval": {"n": 10, "p50_ms": p95 / 2, "p95_ms": p95, "mean_ms": p95 / 2}}
    if process:
        out["process"] = {"cold_seconds": 9.0, "cold_rss_mib": 800.0, "batch": {"n": 9, "p50_ms": 50.0, "p95_ms": p95, "mean_ms": 60.0},
                          "batch_rss_mib": 900.0}
    return out


def small_results() -> dict:
    slices = ("all", "mono-en", "mono-id", "cross", "short")
    labelled = {name: {"default": {s: _scores(0.9) for s in slices}, "tutorial": {s: _scores(0.5) for s in slices}}
                for name in ("heldout", "tuning")}
    speed = {c: {"default": _speed(40.0, 120.0, True), "tutorial": _speed(10.0, 30.0, True)} for c in ("seed", "medquad")}
    return {
        "meta": {"date": "2025-01-01 00:00 UTC", "command": "python -m evaluation --quick", "commit": "abc1234", "cpu": "Test CPU",
                 "cores": 2, "ram_gib": 24.0, "os": "Linux", "python": "3.11", "packages": {"numpy": "2"},
                 "load_average_at_start": [0.1, 0.1, 0.1], "duration_s": 12.0},
        "options": {"systems": ["default", "tutorial"], "skip_medquad": False, "medquad_docs": 1000, "medquad_questions": 100,
                    "quick": True},
        "systems": {"default": "the product", "tutorial": "the baseline"},
        "labelled": labelled,
        "bot": {"abstention recall (off-topic set)": 0.95, "answers checked for grounding": 251},
        "medquad": {"info": {"questions": 100, "seed": 13, "records": 16407, "documents": 1000, "renamed_ids": 34, "same_answer": 3,
                             "same_question": 3, "corpus_file": "evaluation/.cache/medquad/x.jsonl", "attribution": "MedQuAD, CC BY 4.0"},
                    "scores": {"default": {"lenient": _scores(0.6), "strict": {"hit1": 0.5, "hit10": 0.6, "mrr10": 0.55}},
                               "tutorial": {"lenient": _scores(0.7), "strict": {"hit1": 0.6, "hit10": 0.7, "mrr10": 0.65}}}},
        "speed": speed,
        "excluded": {"e5": "too slow on MedQuAD"},
    }


def test_report_writes_markdown_json_and_png_charts(tmp_path):
    from evaluation.report import write

    files = write(small_results(), tmp_path / "report")
    names = {f.name for f in files}
    assert {"README.md", "results.json", "quality.png", "medquad.png", "speed.png"} <= names
    for png in tmp_path.glob("report/*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    md = (tmp_path / "report" / "README.md").read_text(encoding="utf-8")
    assert md.startswith("# Evaluation report")
    assert "python -m evaluation --quick" in md and "abc1234" in md and "Test CPU" in md
    assert re.search(r"\| \*\*default\*\* \| 0\.900 \| 0\.900 \| 0\.900 \| 0\.600 \| 0\.600 \| 40\.0 \| 120\.0 \|", md)
    assert "![hit@5 per slice](quality.png)" in md and "CC BY 4.0" in md and "too slow on MedQuAD" in md
    assert json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))["meta"]["commit"] == "abc1234"


def test_report_says_where_the_default_is_worse_than_the_tutorial(tmp_path):
    from evaluation.report import render

    md = render(small_results())
    worse = md.split("### Where the default is worse than the tutorial baseline")[1].split("##")[0]
    assert "MedQuAD hit@10: default 0.600, tutorial 0.700 (0.100 lower)" in worse
    assert "MedQuAD corpus: build time: default 40.0 s, tutorial 10.0 s (4.0x)" in worse
    assert "held-out" not in worse  # the default is better there
    assert "build time 4.0x" in md  # ratio against the baseline


def test_the_product_never_imports_the_evaluation():
    """evaluation/ is a development tool run from a checkout: no product module imports it, and the
    wheel does not ship it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = [str(f) for f in (root / "chatbot").rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+evaluation\b", f.read_text(encoding="utf-8"), re.M)]
    assert offenders == []
    assert 'include = ["chatbot*"]' in (root / "pyproject.toml").read_text(encoding="utf-8")


def test_evaluation_command_explains_its_options(capsys):
    from evaluation.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--quick" in text and "--with-e5" in text


def test_peak_rss_is_the_childs_own_not_its_large_parents():
    import sys

    from evaluation.bench_cli import run

    ballast = bytearray(400 * 2**20)  # this process is now large; a child must not inherit that figure
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page so that it is resident
    _, small, out = run(["-c", "print('ok')"], command=[sys.executable])
    _, big, _ = run(["-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"], command=[sys.executable])
    assert out == "ok\n"
    assert small < 150 < 200 < big < 400
    del ballast


@pytest.mark.models
def test_tutorial_index_finds_a_seed_passage(corpus_dir, tmp_path):
    from chatbot.index.build import cleaned_corpus
    from evaluation.tutorial import TutorialIndex

    docs, _ = cleaned_corpus((corpus_dir,))
    index = TutorialIndex.build(docs)
    found = index.search("What are the risk factors for NEC in premature babies?", k=3)
    assert len(found) == 3 and found[0].doc_id == "cmv-nec-preemies"
    index.save(tmp_path / "t", {"passages": len(index.passages)})
    assert TutorialIndex.load(tmp_path / "t").search("NEC in preemies", k=1)[0].doc_id == "cmv-nec-preemies"
