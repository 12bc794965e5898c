"""Cleaning: site chrome goes, every content line stays verbatim, and rule files are checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbot.ingest.cleaning import chrome_lines, clean_text, load_rules
from chatbot.ingest.documents import read_file
from chatbot.errors import CorpusError
from chatbot.index.build import cleaned_corpus

SEEDS = ("cmv-anemia-berulang.md", "cmv-anemia-thrombocytopenia.md", "cmv-nec-preemies.md")

# The non-empty lines cleaning must drop from each seed article (by their start), and nothing else.
DROPPED = {
    "cmv-anemia-berulang.md": [
        "Medical Advisory BoardAll articles are reviewed", "Educational purpose only", "Article Review Status",
        "Submitted", "Under Review", "Approved", "Last updated: October 30, 2025View editorial policy", "Personalize",
        "Help us tailor your experience", "Which best describes you?", "References", "Professional Medical Disclaimer",
        "This information is intended for healthcare professionals", "Have a follow-up question?", "Our Medical A.I.",
    ],
    "cmv-anemia-thrombocytopenia.md": ["Leave a Comment"],
    "cmv-nec-preemies.md": [
        "Healthcare data growth can be overwhelming scale effortlessly with TrueNAS by Esdebe.", "** Main Story**",
        "4 Comments", "1. CMV, the gift that keeps on giving", "• That’s a funny thought!", "Editor: MedTechNews.Uk",
        "Thank you to our Sponsor Esdebe", "2. So, preemies versus CMV versus NEC", "• I love the superhero analogy!",
        "Editor: MedTechNews.Uk", "Thank you to our Sponsor Esdebe", "Leave a Reply to Isabella Pugh Cancel reply",
        "Your email address will not be published.", "*",
    ],
}


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def raw_and_clean(corpus_dir: Path, name: str, rules) -> tuple[str, str]:
    [doc] = read_file(corpus_dir / name)
    return doc.text, clean_text(doc.text, rules)


@pytest.mark.parametrize("name", SEEDS)
def test_seed_articles_lose_all_chrome(corpus_dir, chrome_phrases, rules, name):
    raw, clean = raw_and_clean(corpus_dir, name, rules)
    assert any(p.lower() in raw.lower() for p in chrome_phrases)  # the raw article really has chrome
    assert [p for p in chrome_phrases if p.lower() in clean.lower()] == []


@pytest.mark.parametrize("name", SEEDS)
def test_content_lines_survive_verbatim(corpus_dir, rules, name):
    raw, clean = raw_and_clean(corpus_dir, name, rules)
    raw_lines = {line.rstrip() for line in raw.split("\n")}
    assert all(line in raw_lines for line in clean.split("\n") if line.strip())


@pytest.mark.parametrize("name", SEEDS)
def test_only_chrome_lines_are_dropped(corpus_dir, rules, name):
    raw, clean = raw_and_clean(corpus_dir, name, rules)
    kept = set(clean.split("\n"))
    dropped = [line.strip() for line in raw.split("\n") if line.strip() and line.rstrip() not in kept]
    expected = DROPPED[name]
    assert len(dropped) == len(expected), dropped
    assert all(d.startswith(e) for d, e in zip(dropped, expected)), list(zip(dropped, expected))


@pytest.mark.parametrize("sentence", [
    "Currently, there is no commercially available vaccine for CMV.",
    "Transfusi darah mungkin diperlukan untuk anemia berat (Hb <8 g/dL) 4, 5",
    "• Rotavirus infection",
    "Penatalaksanaan Infeksi CMV dan Hubungannya dengan Anemia Berulang",
    "Factor Anemia Thrombocytopenia",
    "As of today, February 26, 2025, the research is still ongoing.",
    "If I’ve had CMV before, am I immune to future problems with the virus?",
])
def test_spot_checked_content_is_kept(corpus_dir, rules, sentence):
    cleaned = "\n".join(clean_text(d.text, rules) for name in SEEDS for d in read_file(corpus_dir / name))
    assert sentence in cleaned


def test_cleaned_text_has_no_blank_runs_or_trailing_spaces(corpus_dir, rules):
    for name in SEEDS:
        _, clean = raw_and_clean(corpus_dir, name, rules)
        assert "\n\n\n" not in clean and clean == clean.strip("\n")
        assert all(line == line.rstrip() for line in clean.split("\n"))


def test_chrome_lines_name_the_rule(corpus_dir, rules):
    [doc] = read_file(corpus_dir / "cmv-nec-preemies.md")
    lines = doc.text.split("\n")
    by_line = {lines[i].strip(): rule for i, rule in chrome_lines(doc.text, rules)}
    assert by_line["Healthcare data growth can be overwhelming scale effortlessly with TrueNAS by Esdebe."] == "sponsor advert"
    assert by_line["4 Comments"].startswith("comment thread")


# --- synthetic rules ---------------------------------------------------------------------------


def test_block_rule_with_until_keeps_the_line_that_ends_it(tmp_path):
    rules_file = tmp_path / "r.toml"
    rules_file.write_text("[[rule]]\nname = 'box'\nblock = '^BOX START$'\nuntil = '^BOX END$'\n", encoding="utf-8")
    text = "Keep one.\nBOX START\ninside\nmore inside\nBOX END\nKeep two."
    assert clean_text(text, load_rules(rules_file)) == "Keep one.\nBOX END\nKeep two."


def test_block_rule_without_until_drops_to_the_end():
    text = "Body line.\n\n12 Comments\nGreat article!\n\nReply"
    assert clean_text(text, load_rules()) == "Body line."


def test_line_rules_match_whole_lines_only():
    # "Leave a comment" inside a sentence is content; only a line that *is* the widget goes.
    text = "Please leave a comment for your doctor.\nLeave a Comment"
    assert clean_text(text, load_rules()) == "Please leave a comment for your doctor."


def test_corpus_folder_rules_extend_the_defaults(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\nid: a\n---\nCMV is common.\nSubscribe to our newsletter today!\nLeave a Reply\n", encoding="utf-8")
    [before], _ = cleaned_corpus((corpus,))
    assert "Subscribe to our newsletter" in before.text and "Leave a Reply" not in before.text
    (corpus / "chrome_rules.toml").write_text("[[rule]]\nname = 'newsletter'\nline = '(?i)^subscribe to our newsletter.*'\n", encoding="utf-8")
    [after], _ = cleaned_corpus((corpus,))
    assert after.text == "CMV is common."
    assert [r.name for r in load_rules(corpus / "chrome_rules.toml")][-1] == "newsletter"
    assert len(load_rules(corpus / "chrome_rules.toml")) == len(load_rules()) + 1


def test_corpus_rules_change_the_rules_hash(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("CMV is common.\n", encoding="utf-8")
    _, before = cleaned_corpus((corpus,))
    (corpus / "chrome_rules.toml").write_text("[[rule]]\nname = 'x'\nline = '^xyz$'\n", encoding="utf-8")
    _, after = cleaned_corpus((corpus,))
    assert before != after


def test_bad_regex_names_the_file_and_rule(tmp_path):
    f = tmp_path / "chrome_rules.toml"
    f.write_text("[[rule]]\nname = 'broken'\nline = '(unclosed'\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r": rule 'broken' has a bad regex"):
        load_rules(f)


@pytest.mark.parametrize("body", [
    "line = '^a$'\nblock = '^b$'\n",  # both
    "until = '^c$'\n",  # neither
])
def test_rule_needs_exactly_one_of_line_or_block(tmp_path, body):
    f = tmp_path / "chrome_rules.toml"
    f.write_text(f"[[rule]]\nname = 'ambiguous'\n{body}", encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r": rule 'ambiguous' needs exactly one of `line` or `block`"):
        load_rules(f)


def test_unparseable_rules_file_names_the_file(tmp_path):
    f = tmp_path / "chrome_rules.toml"
    f.write_text("[[rule]\nname = ", encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(f"cannot read cleaning rules {f}")):
        load_rules(f)
