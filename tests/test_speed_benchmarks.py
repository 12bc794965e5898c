"""The speed benchmarks (`python -m evaluation.bench_cli`, `python -m evaluation.load_test`) and
the tutorial baseline's chat server: options explained, tiny runs that write their own section of
the report and leave the other's, the tutorial server answering with its top passage. Behaviour
only: no assertion on a timing (benchmarks are scripts, not tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before any gradio / gradio_client import
os.environ["HF_HUB_OFFLINE"] = "1"

from evaluation.speed_report import NAME, target, write_section  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def _report(out: Path) -> tuple[str, dict]:
    return (out / f"{NAME}.md").read_text(encoding="utf-8"), json.loads((out / f"{NAME}.json").read_text(encoding="utf-8"))


# --- the report shared by both scripts --------------------------------------------------------


def test_each_script_rewrites_only_its_own_section(tmp_path):
    write_section("load", "load figures, first run", {"run": 1}, tmp_path)
    write_section("cli", "cli figures", {"cli": True}, tmp_path)
    write_section("load", "load figures, second run", {"run": 2}, tmp_path)
    text, data = _report(tmp_path)
    assert data == {"load": {"run": 2}, "cli": {"cli": True}}
    assert "cli figures" in text and "second run" in text and "first run" not in text
    assert text.index("## CLI and in-process") < text.index("cli figures") < text.index("## Load test") < text.index("second run")
    assert text.count("## CLI and in-process") == text.count("## Load test") == 1


def test_unknown_section_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown report section 'speed'"):
        write_section("speed", "", {}, tmp_path)


def test_targets_say_met_or_missed():
    assert target("cold_ask", 2.9) == "≤ 3 s (met)"
    assert target("cold_ask", 3.1) == "≤ 3 s (MISSED)"
    assert target("load_rate", 15.0).endswith("(met)") and target("load_rate", 14.9).endswith("(MISSED)")
    assert target("load_p95", None).endswith("(not measured)")


@pytest.mark.parametrize("module, options", [("evaluation.bench_cli", ("--questions", "--model", "--out")),
                                             ("evaluation.load_test", ("--clients", "--chat-questions", "--out")),
                                             ("evaluation.inprocess", ("--index",))])
def test_benchmarks_explain_their_options(module, options):
    shown = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert shown.returncode == 0, shown.stderr
    assert "tutorial" in shown.stdout and all(o in shown.stdout for o in options)


def test_tutorial_serve_explains_its_options():
    from evaluation.tutorial import main

    with pytest.raises(SystemExit) as exc:
        main(["serve", "--help"])
    assert exc.value.code == 0


# --- the tutorial's chat server -----------------------------------------------------------------


class _WordModel:
    """Stands in for MiniLM: a passage and a question meet on the words CMV or bread."""

    def encode(self, texts, **_):
        import numpy as np

        return np.array([[1.0, 0.0] if "CMV" in t else [0.0, 1.0] for t in texts], dtype="float32")


def test_tutorial_chat_replies_with_the_top_passage_under_its_title():
    import faiss
    from gradio_client import Client

    from evaluation.common import Passage
    from evaluation.load_clients import TUTORIAL, ask, close_all
    from evaluation.load_servers import free_port
    from evaluation.tutorial import TutorialIndex, build_app

    passages = (Passage("cmv", "CMV spreads through saliva and urine."), Passage("bread", "Bread needs yeast."))
    flat = faiss.IndexFlatIP(2)
    flat.add(_WordModel().encode([p.text for p in passages]))
    app = build_app(TutorialIndex(passages, flat, _WordModel(), {"cmv": "CMV basics"}))
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, share=False, quiet=True, prevent_thread_lock=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        reply = client.predict("How does CMV spread?", api_name=TUTORIAL.api_name)
        assert reply == "**CMV basics**\n\nCMV spreads through saliva and urine."
        assert client.predict("bread?", api_name=TUTORIAL.api_name).startswith("**bread**")  # no title: the id
        assert ask(client, "How does CMV spread?", TUTORIAL)[0] == "ok"
        close_all([client])
    finally:
        app.close()


def test_the_echo_app_replies_ok_without_an_index():
    from gradio_client import Client

    from evaluation.load_clients import TUTORIAL, ask, close_all
    from evaluation.load_servers import free_port
    from evaluation.tutorial import ECHO_REPLY, build_echo_app

    app = build_echo_app()
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, share=False, quiet=True, prevent_thread_lock=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert client.predict("How does CMV spread?", api_name=TUTORIAL.api_name) == ECHO_REPLY
        assert ask(client, "anything", TUTORIAL)[0] == "ok"
        close_all([client])
    finally:
        app.close()


def test_the_certificate_bundle_is_left_out_only_for_plain_http():
    from evaluation.load_clients import client

    with pytest.raises(ValueError, match="only left out for plain http"):
        client("https://clinic.example/", ca_bundle=False)  # refused before any connection


@pytest.mark.models
def test_tutorial_serve_answers_through_gradio_client(tmp_path, corpus_dir):
    from evaluation.load_clients import client, close_all
    from evaluation.load_test import build_tutorial, tutorial_server

    build_tutorial(tmp_path / "index", tmp_path)
    with tutorial_server(tmp_path / "index", tmp_path) as (url, proc):
        c = client(url)
        reply = c.predict("What are the risk factors for NEC in premature babies?", api_name="/respond")
        close_all([c])
    passages = [json.loads(line) for line in (tmp_path / "index" / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
    title, _, text = reply.partition("\n\n")
    assert title == "**CMV Infection Worsens NEC in Preemies**"
    assert {"doc_id": "cmv-nec-preemies", "text": text} in passages


# --- tiny runs of the two scripts ---------------------------------------------------------------


@pytest.mark.models  # the tutorial baseline runs the real all-MiniLM-L6-v2; the product the hashing embedder
def test_bench_cli_tiny_run_writes_its_section_and_keeps_the_load_tests(tmp_path, capsys):
    from evaluation.bench_cli import main

    write_section("load", "load figures kept", {"kept": True}, tmp_path)
    assert main(["--questions", "2", "--model", "hashing", "--out", str(tmp_path)]) == 0
    text, data = _report(tmp_path)
    assert data["load"] == {"kept": True} and "load figures kept" in text
    cli = data["cli"]
    for system in ("product", "tutorial"):
        assert cli[system]["passages"] > 0 and cli[system]["batch"]["n"] == 1 and cli[system]["in_process"]["latency"]["n"] == 2
        assert cli[system]["cold_rss_mib"] > 0
    assert cli["meta"]["load_average_at_start"] and cli["meta"]["load_average_at_end"]
    assert "≤ 50 ms" in text and "tutorial baseline" in text and "Load average" in text
    assert "≤ 3 s" in capsys.readouterr().out


@pytest.mark.models
def test_load_test_tiny_run_writes_its_section_and_keeps_bench_clis(tmp_path, capsys):
    from evaluation.load_test import main

    write_section("cli", "cli figures kept", {"kept": True}, tmp_path)
    argv = ["--clients", "2", "--per-client", "2", "--chat-questions", "2", "--burst", "12", "--rss-questions", "3",
            "--model", "hashing", "--out", str(tmp_path)]
    assert main(argv) == 0  # no errors, polite refusals, recovered, no store record lost, servers alive
    text, data = _report(tmp_path)
    assert data["cli"] == {"kept": True} and "cli figures kept" in text
    load = data["load"]
    for system in ("product", "tutorial"):
        for phase in ("a", "a_gradio_client"):  # browser-style clients, then gradio_client sessions
            assert load[system][phase]["errors"] == 0 and load[system][phase]["answered"] == 4
            assert load[system][phase]["server_cpu_ms"] > 0
        assert load[system]["a_gradio_client"]["clients_cpu_ms"] > 0  # gradio_client's own work, in this process
        assert load[system]["chat"]["n"] == 2 and load[system]["peak_rss_mib"] > 0
        assert load[system]["chat"]["no_ca"]["n"] == 2 and load[system]["chat"]["no_ca"]["errors"] == 0
    assert load["tutorial"]["concurrency"] == 1 and load["product"]["c"]["asked"] == 3
    assert "≥ 15 answers/s" in text and "≤ 150 ms" in text and "Product only" in text
    assert "read as browsers read" in text and "(a') the same through gradio_client sessions" in text
    assert "gradio_client not loading the certificate bundle (plain http): p50" in text
    floor = load["floor"]["chat"]  # the same client against the echo app: what no server goes below
    assert floor["n"] == floor["no_ca"]["n"] == floor["stream"]["n"] == 2
    assert floor["errors"] == floor["no_ca"]["errors"] == floor["stream"]["errors"] == 0
    assert "Floor, the same 2 questions against the same chat app replying" in text
    assert "tutorial baseline" in capsys.readouterr().out
