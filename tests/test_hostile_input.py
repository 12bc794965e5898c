"""Hostile and odd questions through the engine, the `chatbot ask` command and the chat window's formatting.

Every question gets a reply in English or Indonesian: a fixed message (empty, too long,
unreadable) or an answer that ends with the disclaimer, never a traceback. Nothing that a
question, or a passage quoting one, contains may render as active HTML, a link or a script.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ui_helpers import chunk

from chatbot.serve import patient_ui as ui
from chatbot.serve.engine import clean_question
from chatbot.answer.compose import compose
from chatbot.records import Answer, Hit, Quote
from chatbot.answer.texts import language_name, text

LIMIT = 2000  # Settings.max_question_chars by default
HUGE = 100_000
ANSWER_KEYS = {"question", "language", "answer", "abstained", "urgent", "quotes", "passages"}
# what a cleaned question must not keep: controls, zero-width and direction marks, lone surrogates
INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
PLAIN = "How is CMV transmitted?"


@dataclass(frozen=True)
class Case:
    """A question, what the shell passes for it, and the fixed message it must get ("" for an answer)."""

    name: str
    question: str
    argv: bytes | None = None  # when the command line gets other bytes than the question's UTF-8
    notice: str = ""
    language: str = ""  # expected reply language; "" for either


CASES = [
    Case("empty", "", notice="empty_question", language="en"),
    Case("whitespace", " \t\n\u3000 ", notice="empty_question", language="en"),
    Case("huge-en", ("How is CMV transmitted? " * 5000)[:HUGE], notice="too_long", language="en"),
    Case("huge-id", ("Apakah CMV menular? " * 6000)[:HUGE], notice="too_long", language="id"),
    # argv cannot carry NUL: the command line gets the same question without it
    Case("control-chars", "How\x00 is\x01 CMV\x1b[31m transmitted?\x7f\x9b",
         argv="How is\x01 CMV\x1b[31m transmitted?\x7f\x9b".encode()),
    Case("undecodable", "\udcff\udcfe", argv=b"\xff\xfe", notice="unreadable", language="en"),
    Case("emoji-only", "🦠🩸❓😷"),
    Case("arabic", "كيف ينتقل الفيروس المضخم للخلايا إلى الأطفال؟"),
    Case("hebrew", "כיצד מועבר נגיף CMV לתינוקות?"),
    Case("french", "Comment le CMV se transmet-il aux bébés pendant la grossesse ?"),
    Case("chinese", "巨细胞病毒是如何传播给婴儿的？"),
    Case("html-img", "<img src=x onerror=alert(1)>"),
    Case("script", "<script>alert(document.cookie)</script> How is CMV transmitted?"),
    Case("markdown-js-link", "[click](javascript:alert(1))"),
    Case("markdown-image", "![x](http://evil/x.png)"),
    Case("markdown-bold", "**bold** How is CMV transmitted?"),
    Case("direction-override", "\u202eHow is CMV transmitted?\u202c"),
    Case("zero-width", "How is C\u200bMV trans\u200cmitted\u200d?\ufeff"),
    Case("url-only", "https://www.cdc.gov/cmv/index.html"),
]
BY_NAME = {c.name: c for c in CASES}


def expected_message(case: Case, language: str) -> str | None:
    """The fixed message the case must get in `language`, or None when it must get an answer."""
    if case.notice == "too_long":
        return text("too_long", language, length=len(clean_question(case.question)), limit=LIMIT)
    return text(case.notice, language) if case.notice else None


def assert_reply(reply: str, language: str, case: Case) -> None:
    """A fixed message in the reply language, or an answer that ends with the disclaimer."""
    assert language in ("en", "id")
    assert language == case.language or not case.language
    assert reply.strip()
    expected = expected_message(case, language)
    if expected is None:
        assert reply.rstrip().endswith(text("disclaimer", language)), reply
    else:
        assert reply == expected
    if case.notice == "too_long":
        assert str(LIMIT) in reply and str(len(clean_question(case.question))) in reply


# --- (a) the engine, with the real models -------------------------------------------------------


@pytest.mark.models
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_engine_replies_to_every_question(real_bot, case):
    answer = real_bot.ask(case.question)
    assert_reply(answer.text, answer.language, case)
    assert answer.notice == case.notice
    assert not INVISIBLE.search(answer.question)  # what the log and the chat window show
    assert len(answer.question) <= (200 if case.notice == "too_long" else len(case.question))


@pytest.mark.models
@pytest.mark.parametrize("question", [
    "\u202eHow is CMV transmitted?\u202c",
    "\u2066How\x00 is\x07 CMV transmitted?\u2069",
    "How is C\u200bMV trans\u200cmitted\u200d?\ufeff",
], ids=["direction-override", "isolates-and-controls", "zero-width-inside-words"])
def test_invisible_characters_change_nothing(real_bot, question):
    answer = real_bot.ask(question)
    assert answer.question == PLAIN, "invisible characters must vanish, not split words"
    assert answer.text == real_bot.ask(PLAIN).text


@pytest.mark.models
def test_engine_keeps_working_after_hostile_questions(real_bot):
    for case in CASES:
        real_bot.ask(case.question)
    answer = real_bot.ask("Is there a vaccine for CMV?")
    assert not answer.abstained and "no commercially available vaccine" in answer.text


# --- (b) `chatbot ask --json`, over a hashing index --------------------------------------------


def chatbot_exe() -> str:
    exe = Path(sys.executable).with_name("chatbot")  # the venv's console script
    return str(exe) if exe.exists() else "chatbot"


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict[str, str]:
    """No CHATBOT_* settings from the shell, no model hub, data written to a temp folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return env | {"HF_HUB_OFFLINE": "1", "CHATBOT_DATA_DIR": str(tmp_path_factory.mktemp("data")),
                  "CHATBOT_ABSTAIN_Z": "-1000", "CHATBOT_ABSTAIN_TOPIC": "0"}  # abstention off: every reply shows its passages


@pytest.fixture(scope="module")
def cli_index(cli_env, tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("hostile-cli") / "index"
    proc = subprocess.run([chatbot_exe(), "build", "--index", str(index), "--model", "hashing"],
                          env=cli_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return index


@pytest.fixture(scope="module")
def cli_replies(cli_env, cli_index) -> dict[str, subprocess.CompletedProcess]:
    """Every case asked on the command line (argv as raw bytes), a few processes at a time."""
    def ask(case: Case) -> subprocess.CompletedProcess:
        question = case.argv if case.argv is not None else case.question.encode("utf-8")
        argv = [chatbot_exe().encode(), b"ask", question, b"--index", os.fsencode(cli_index), b"--model", b"hashing", b"--json"]
        return subprocess.run(argv, env=cli_env, capture_output=True, timeout=120)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((c.name for c in CASES), pool.map(ask, CASES)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_cli_prints_one_json_reply(cli_replies, case):
    proc = cli_replies[case.name]
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "error:" not in stderr, stderr
    lines = proc.stdout.decode("utf-8").splitlines()  # valid UTF-8, whatever came in
    assert len(lines) == 1, lines
    reply = json.loads(lines[0])
    assert set(reply) == ANSWER_KEYS
    assert_reply(reply["answer"], reply["language"], case)
    assert not INVISIBLE.search(reply["question"])
    assert (reply["passages"] == []) == bool(case.notice)  # abstention is off in this environment


# --- (c) the chat window's formatting, with an engine that echoes the question ------------------


@dataclass
class EchoBot:
    """Engine stand-in that puts the question wherever a document's words go: the quoted sentence,
    the passage, its title and its section. The worst case for escaping."""

    manifest: dict = field(default_factory=dict)

    def ask(self, question: str, lang: str = "auto", k: int | None = None, history=()) -> Answer:
        language = lang if lang in ("en", "id") else "en"
        hit = Hit(chunk(1, title=question, text=question, section=question), 1.5)
        return compose(question, language, [hit], [Quote(0, question)], urgent=False)


def rendered(question: str) -> list[str]:
    """Every piece of markdown the chat window would show for this question (chat and staff views)."""
    bot = EchoBot()
    answer = bot.ask(question)
    chat, _, _ = list(ui.Handlers(bot).respond(question, "auto", [], []))[-1]
    messages = chat + ui.answer_messages(answer)
    return ([m["content"] for m in messages] + [m.get("metadata", {}).get("title", "") for m in messages]
            + [ui.format_answer(answer), ui.passages_markdown(answer)])


SAFE_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "hr",
             "h1", "h2", "h3", "h4", "h5", "h6", "div", "details", "summary", "small"}
SAFE_ATTRIBUTES = {"class", "role"}  # the urgent box and the disclaimer


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.found.append((tag, attrs))


def html_tags(markdown: str) -> list[tuple[str, list]]:
    """The tags a markdown renderer makes of `markdown`, raw HTML allowed and every link target accepted."""
    markdown_it = pytest.importorskip("markdown_it", reason="needs markdown-it-py (installed with gradio)")
    md = markdown_it.MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # a javascript: target must not be what stops a link
    parser = _Tags()
    parser.feed(md.render(markdown))
    return parser.found


def assert_inert(markdown: str) -> None:
    """No tag, attribute, link or image can come out of the markdown."""
    lowered = markdown.lower()
    assert "<img" not in lowered and "<script" not in lowered and "<a " not in lowered, markdown[:300]
    assert "](" not in markdown.replace("\\](", ""), markdown[:300]  # no inline link or image
    assert not re.search(r"(?<!\\)\[[^\]]*\]:", markdown), markdown[:300]  # no link definition
    for tag, attrs in html_tags(markdown):
        assert tag in SAFE_TAGS, (tag, markdown[:300])
        assert {name for name, _ in attrs} <= SAFE_ATTRIBUTES, (tag, attrs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_chat_window_shows_every_question_as_inert_text(case):
    pieces = rendered(case.question)
    assert any(pieces)
    for piece in pieces:
        assert_inert(piece)


@pytest.mark.parametrize("name", ["html-img", "script", "markdown-js-link", "markdown-image", "markdown-bold"])
def test_markup_in_a_question_is_shown_literally(name):
    question = BY_NAME[name].question
    chat, _, _ = list(ui.Handlers(EchoBot()).respond(question, "auto", [], []))[-1]
    user = chat[0]["content"]
    # what the reader sees once markdown escapes and HTML entities are undone
    shown = html.unescape(re.sub(r"\\(.)", r"\1", user))
    assert shown == question


# GFM's autolink extension (which the chat window's renderer applies) makes a link of a bare
# http(s):// or www. address whose domain has a dot, at the start of a line or after a space or ( * _ ~
GFM_AUTOLINK = re.compile(r"(?:^|(?<=[\s(*_~]))(?:https?://|www\.)[\w-]+(?:\.[\w-]+)+", re.MULTILINE)


def test_a_url_in_a_question_or_passage_is_not_made_a_link():
    for piece in rendered(BY_NAME["url-only"].question):
        found = GFM_AUTOLINK.search(piece)
        assert found is None, f"{found.group(0)!r} would render as a clickable link in: {piece[:200]!r}"
