"""Settings: defaults, CHATBOT_* variables, explicit overrides, and bad values."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from chatbot.settings import PROJECT_ROOT, Settings


def test_no_variables_give_the_defaults():
    s = Settings.from_env(env={})
    assert s == Settings()
    assert s.corpus == (PROJECT_ROOT / "corpus",) and s.index_dir == PROJECT_ROOT / "index" / "default"
    assert (s.model, s.k, s.lang) == ("default", 5, "auto")


def test_variables_are_parsed_by_type():
    s = Settings.from_env(env={
        "CHATBOT_K": "7", "CHATBOT_PORT": "8080", "CHATBOT_BM25_WEIGHT": "0.25", "CHATBOT_SAME_LANGUAGE_BONUS": "-1.5",
        "CHATBOT_MODEL": "usem3+minilm", "CHATBOT_LANG": "id", "CHATBOT_INDEX_DIR": "/tmp/idx",
        "CHATBOT_CORPUS": os.pathsep.join(["/data/a", "/data/b"]), "CHATBOT_LOG_QUESTIONS": "false",
    })
    assert (s.k, s.port) == (7, 8080) and isinstance(s.k, int)
    assert (s.bm25_weight, s.same_language_bonus) == (0.25, -1.5) and isinstance(s.bm25_weight, float)
    assert (s.model, s.lang) == ("usem3+minilm", "id")
    assert s.index_dir == Path("/tmp/idx")
    assert s.corpus == (Path("/data/a"), Path("/data/b"))
    assert s.log_questions is False


@pytest.mark.parametrize("raw,expected", [("1", True), ("true", True), ("YES", True), (" on ", True),
                                          ("0", False), ("false", False), ("no", False), ("off", False)])
def test_boolean_variables(raw, expected):
    default = Settings().log_questions
    s = Settings.from_env(env={"CHATBOT_LOG_QUESTIONS": raw})
    assert s.log_questions is expected
    assert default is True  # so "false" really changes something


def test_empty_variables_are_ignored():
    assert Settings.from_env(env={"CHATBOT_K": "", "CHATBOT_MODEL": ""}) == Settings()


def test_unrelated_variables_are_ignored():
    assert Settings.from_env(env={"K": "9", "chatbot_k": "9", "CHATBOT_NOT_A_SETTING": "x"}) == Settings()


def test_the_process_environment_is_read_by_default(monkeypatch):
    monkeypatch.setenv("CHATBOT_K", "9")
    assert Settings.from_env().k == 9


def test_explicit_overrides_win_and_none_means_not_given():
    env = {"CHATBOT_K": "7", "CHATBOT_MODEL": "usem3"}
    assert Settings.from_env(env=env, k=3).k == 3
    assert Settings.from_env(env=env, k=None, model=None).model == "usem3"


def test_overrides_become_paths():
    s = Settings.from_env(env={}, corpus=["a", "b/c"], index_dir="x/idx")
    assert s.corpus == (Path("a"), Path("b/c")) and s.index_dir == Path("x/idx")


@pytest.mark.parametrize("name,raw", [("CHATBOT_K", "five"), ("CHATBOT_PORT", "80.5"),
                                      ("CHATBOT_BM25_WEIGHT", "heavy"), ("CHATBOT_MAX_QUESTION_CHARS", "1e3")])
def test_bad_values_name_the_variable(name, raw):
    with pytest.raises(ValueError, match=f"{name}='{raw}' is not a valid"):
        Settings.from_env(env={name: raw})


@pytest.mark.parametrize("overrides,message", [({"k": 0}, "k must be between 1 and 50, got 0"),
                                               ({"k": 51}, "got 51"),
                                               ({"lang": "fr"}, "lang must be auto, en or id, got 'fr'")])
def test_out_of_range_values_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env={}, **overrides)


def test_out_of_range_variable_is_rejected():
    with pytest.raises(ValueError, match="got 0"):
        Settings.from_env(env={"CHATBOT_K": "0"})


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().k = 3
