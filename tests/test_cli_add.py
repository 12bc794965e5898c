"""`chatbot add` and `chatbot retire`, run as a user runs them: the added document answers `chatbot ask`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

import document_files as files
from test_cli import assert_one_line_error, chatbot_exe, err, out, run


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """No CHATBOT_* settings from the shell; abstention off (the hashing embedder's similarities mean
    little), so answers have passages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return {**env, "HF_HUB_OFFLINE": "1", "CHATBOT_DATA_DIR": str(tmp_path_factory.mktemp("data")),
            "CHATBOT_ABSTAIN_Z": "-1000", "CHATBOT_ABSTAIN_TOPIC": "0"}


@pytest.fixture
def site(tmp_path, corpus_dir):
    """A copy of the seed corpus, an index folder, and a web page to add."""
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    page = tmp_path / "dengue.html"
    page.write_text(files.chrome_page(), encoding="utf-8")
    return {"corpus": corpus, "index": str(tmp_path / "index" / "idx"), "page": page, "tmp": tmp_path}


def opts(site) -> list[str]:
    return ["--corpus", str(site["corpus"]), "--index", site["index"], "--model", "hashing"]


def ask(env, site, question: str) -> dict:
    proc = run(env, "ask", question, *opts(site), "--json")
    assert proc.returncode == 0, err(proc)
    return json.loads(out(proc))


@pytest.mark.parametrize("command,phrases", [
    ("add", ["Convert a file into a corpus document", ".pdf", ".docx", "--preview", "--no-build", "--review-by", "--language",
             "--title", "--id", "--replace", "--corpus", "reads pasted text", "--translation-of ID", "translated leaflet"]),
    ("retire", ["Move a document's file into .retired/", "ID", "--no-build", "--corpus"]),
])
def test_add_and_retire_have_help(env, command, phrases):
    proc = run(env, command, "--help")
    assert proc.returncode == 0, err(proc)
    text = " ".join(out(proc).split())
    for phrase in phrases:
        assert phrase in text, phrase


def test_top_level_help_mentions_add_and_retire(env):
    text = out(run(env, "--help"))
    assert "chatbot add leaflet.pdf" in text and "retire" in text


def test_add_then_ask_answers_from_the_new_document_and_retire_takes_it_away(env, site):
    proc = run(env, "add", str(site["page"]), *opts(site), "--review-by", "2026-12-31")
    assert proc.returncode == 0, err(proc)
    written = site["corpus"] / "dengue-fever-in-children.md"
    assert f"wrote dengue-fever-in-children (en, 'Dengue fever in children') to {written}" in out(proc)
    assert "dengue-fever-in-children has 3 passages (4 documents," in out(proc)
    assert "review_by: 2026-12-31" in written.read_text(encoding="utf-8")
    answer = ask(env, site, "What are the warning signs of dengue in children?")
    assert answer["passages"][0]["doc_id"] == "dengue-fever-in-children"
    assert "Bleeding from the gums or nose" in answer["answer"] or "Bleeding from the gums" in answer["passages"][0]["text"]

    proc = run(env, "retire", "dengue-fever-in-children", *opts(site))
    assert proc.returncode == 0, err(proc)
    assert "retired dengue-fever-in-children: moved to" in out(proc) and ".retired" in out(proc)
    assert "dengue-fever-in-children has 0 passages (3 documents," in out(proc)
    assert not written.exists()
    answer = ask(env, site, "What are the warning signs of dengue in children?")
    assert all(p["doc_id"] != "dengue-fever-in-children" for p in answer["passages"])


def test_add_preview_prints_text_dropped_lines_and_passages_and_writes_nothing(env, site):
    before = sorted(p.name for p in site["corpus"].iterdir())
    proc = run(env, "add", str(site["page"]), *opts(site), "--preview")
    assert proc.returncode == 0, err(proc)
    text = out(proc)
    assert "--- cleaned text ---" in text and files.TREATMENT in text
    assert "--- lines the chrome rules drop (1) ---" in text and f"'sponsor thanks': {files.SPONSOR}" in text
    assert "--- passages (3) ---" in text and "[2] Warning signs (en," in text
    assert sorted(p.name for p in site["corpus"].iterdir() if p.name != ".publish.lock") == before
    assert not os.path.exists(site["index"])


def test_add_no_build_writes_only_the_file(env, site):
    pdf = files.leaflet_pdf(site["tmp"] / "leaflet.pdf")
    proc = run(env, "add", str(pdf), *opts(site), "--no-build", "--language", "en", "--id", "dengue-leaflet")
    assert proc.returncode == 0, err(proc)
    assert (site["corpus"] / "dengue-leaflet.md").is_file() and not os.path.exists(site["index"])
    message = assert_one_line_error(run(env, "add", str(pdf), *opts(site), "--no-build", "--id", "dengue-leaflet"))
    assert "already in" in message and "dengue-leaflet.md" in message
    proc = run(env, "add", str(pdf), *opts(site), "--no-build", "--id", "dengue-leaflet", "--replace", "--title", "Dengue leaflet")
    assert proc.returncode == 0, err(proc)
    assert "title: Dengue leaflet" in (site["corpus"] / "dengue-leaflet.md").read_text(encoding="utf-8")


def test_add_pasted_text_from_standard_input(env, site):
    text = "Cara mencegah demam berdarah\n\nKuras tempat penampungan air setiap minggu dan pakai kelambu saat tidur.\n"
    proc = subprocess.run([chatbot_exe(), "add", "-", *opts(site), "--no-build"], input=text.encode(), env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, err(proc)
    assert "wrote cara-mencegah-demam-berdarah (id," in out(proc)


@pytest.mark.parametrize("name,data,expected", [
    ("scan.png.pdf", files.PNG, "scan.png.pdf is a PNG image, not a PDF"),
    ("empty.docx", b"", "empty.docx is empty"),
])
def test_add_a_bad_file_is_a_one_line_error_and_writes_nothing(env, site, name, data, expected):
    bad = site["tmp"] / name
    bad.write_bytes(data)
    before = sorted(p.name for p in site["corpus"].iterdir())
    message = assert_one_line_error(run(env, "add", str(bad), *opts(site)))
    assert expected in message
    assert sorted(p.name for p in site["corpus"].iterdir() if p.name != ".publish.lock") == before


def test_add_bad_options_are_one_line_errors(env, site):
    assert "review-by" in assert_one_line_error(run(env, "add", str(site["page"]), *opts(site), "--review-by", "tomorrow"))
    jsonl = site["tmp"] / "faq.jsonl"
    jsonl.write_text('{"id": "a", "text": "b"}\n', encoding="utf-8")
    message = assert_one_line_error(run(env, "add", str(site["page"]), "--corpus", str(jsonl), "--model", "hashing"))
    assert "is not a folder" in message
    message = assert_one_line_error(run(env, "retire", "no-such-doc", *opts(site)))
    assert "no document with id 'no-such-doc'" in message


@pytest.mark.models
def test_add_with_the_real_default_models_answers_from_the_new_document(env, site, real_index):
    """The real path on an indexed seed corpus: `chatbot add` embeds only the new leaflet's passages
    with the default models, and `chatbot ask` quotes it."""
    index_dir = site["tmp"] / "index" / "idx"
    shutil.copytree(real_index.path, index_dir)  # the seed corpus, indexed, with its embedding cache
    shutil.copytree(real_index.path.parent / ".embeddings" / real_index.path.name, index_dir.parent / ".embeddings" / "idx")
    real_env = {k: v for k, v in env.items() if not k.startswith("CHATBOT_ABSTAIN")}
    real = ["--corpus", str(site["corpus"]), "--index", str(index_dir)]
    proc = run(real_env, "add", str(files.leaflet_docx(site["tmp"] / "brosur.docx")), *real, timeout=600)
    assert proc.returncode == 0, err(proc)
    added = int(re.search(r"demam-berdarah-pada-anak has (\d+) passages", out(proc)).group(1))
    fresh = [int(n) for n in re.findall(r"embedded (\d+) new passages", err(proc))]
    assert len(fresh) == 3 and set(fresh) == {added}  # each of the three models embeds only the new passages
    proc = run(real_env, "ask", "Apa tanda bahaya demam berdarah pada anak?", *real, "--json", timeout=600)
    assert proc.returncode == 0, err(proc)
    answer = json.loads(out(proc))
    assert not answer["abstained"] and answer["passages"][0]["doc_id"] == "demam-berdarah-pada-anak"


def test_a_translated_leaflet_declares_its_original_in_the_header(env, site):
    leaflet = site["tmp"] / "anemia.txt"
    leaflet.write_text("Anaemia and CMV\n\nAll blood products must be irradiated.", encoding="utf-8")
    proc = run(env, "add", str(leaflet), "--translation-of", "cmv-anemia-berulang", "--language", "en", "--no-build", *opts(site))
    assert proc.returncode == 0, err(proc)
    written = (site["corpus"] / "anaemia-and-cmv.md").read_text(encoding="utf-8")
    assert "\ntranslation_of: cmv-anemia-berulang\n" in written
    bad = run(env, "add", str(leaflet), "--translation-of", "no such id!", "--no-build", *opts(site))
    assert "translation-of 'no such id!'" in assert_one_line_error(bad)
