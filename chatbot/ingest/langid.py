"""Reply-language detection for English and Bahasa Indonesia.

langdetect alone mislabels short questions and confuses Indonesian with Malay and others, so
its probabilities are restricted to the supported languages and combined with a small
lexicon of words that are frequent in patient questions in each language.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SUPPORTED = ("en", "id")

# Frequent function words and question words, plus common health words, per language.
_LEXICON = {
    "en": set(
        """the a an is are was were be been do does did can could should would will what which who
        whom whose when where why how i my me you your he she it its we our they their this that these
        those of in on at to for from with without and or but not no if than then so after before
        about into through during have has had there here get gets baby babies child children kid
        kids pregnant pregnancy mother mom blood sick fever bleeding treatment treat cure medicine
        disease infection virus vaccine symptoms risk cause causes test diagnosis dose low high
        born newborn premature preemie preemies long last lasts spread catch safe dangerous help""".split()
    ),
    "id": set(
        """yang dan di ke dari untuk dengan pada adalah ini itu apa apakah bagaimana kenapa mengapa
        siapa kapan dimana berapa bisa dapat boleh harus perlu akan sudah belum tidak bukan ya atau
        tetapi tapi juga saya aku anak anakku bayi bayiku ibu hamil kehamilan darah sakit demam
        pendarahan perdarahan pengobatan obat penyakit infeksi virus vaksin gejala risiko penyebab
        menyebabkan tes diagnosis dosis rendah tinggi lahir prematur berapa lama menular penularan
        aman bahaya berbahaya tolong kurang trombosit sel cara mencegah pencegahan apakah seperti
        karena jika kalau oleh setelah sebelum selama lebih sangat banyak sering kami kita mereka
        dia nya punya ada terjadi terkena kena gimana gak nggak enggak sumsum tulang
        brp hrs sy yg dgn krn tdk gk ga udah sdh blm bgt aja kalo klo gmn knp dok kmrn trus sampe
        transfusi""".split()
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_PASSAGE_WORDS = 25  # passages at least this long may be decided by the lexicon alone
_MIN_WORDS_OTHER = 5  # shorter texts (keyword queries, drug names) are never called another language


@dataclass(frozen=True)
class LanguageGuess:
    """The reply language (always supported) and what was seen (`detected`, maybe another code)."""

    language: str
    detected: str
    confidence: float


def detect(text: str, default: str = "en") -> LanguageGuess:
    """Guess the reply language of a question or passage."""
    return _decide(text, *_lexicon_counts(text), default)


def _lexicon_counts(text: str) -> tuple[list[str], dict[str, int]]:
    """The text's words, and how many of them each language's lexicon knows."""
    words = [w.lower() for w in _WORD.findall(text)]
    return words, {lang: sum(w in lex for w in words) for lang, lex in _LEXICON.items()}


def _decide(text: str, words: list[str], counts: dict[str, int], default: str) -> LanguageGuess:
    """`detect`, given the text's words and lexicon counts."""
    if not words:
        return LanguageGuess(default, "unknown", 0.0)
    probs = _langdetect_probs(text)
    supported_p = {lang: probs.get(lang, 0.0) for lang in SUPPORTED}
    other, other_p = max(((k, v) for k, v in probs.items() if k not in SUPPORTED), key=lambda kv: kv[1], default=("", 0.0))
    # Each lexicon hit counts as strong evidence; langdetect breaks ties and decides long texts.
    score = {lang: counts[lang] / len(words) * 2.0 + supported_p[lang] for lang in SUPPORTED}
    best = max(SUPPORTED, key=lambda lang: (score[lang], lang == default))
    lexicon_share = max(counts.values()) / len(words)
    if len(words) >= _MIN_WORDS_OTHER and other_p >= 0.7 and lexicon_share < 0.3 and max(supported_p.values()) < 0.3:
        return LanguageGuess(_closest_supported(other), other, other_p)
    total = sum(score.values()) or 1.0
    return LanguageGuess(best, best, score[best] / total)


def detect_question(text: str, default: str = "en") -> LanguageGuess:
    """`detect` for a patient's question, without langdetect's random walk (1.5 ms of a core
    alone, about 4 ms in an answer beside e5's thread) when it could not change the outcome: the
    lexicon's part of the score favours one language by more than 1.0, the most langdetect's part
    can move (its probabilities lie in 0..1), and so many words are known that no other language
    is called. The reply language and `detected` are then exactly `detect`'s; `confidence` is the
    lexicon's share alone."""
    words, counts = _lexicon_counts(text)
    if words:
        best, other = sorted(SUPPORTED, key=counts.get, reverse=True)
        if 2.0 * (counts[best] - counts[other]) / len(words) > 1.0:  # implies a lexicon share over 0.5 (>= 0.3)
            return LanguageGuess(best, best, counts[best] / (counts[best] + counts[other]))
    return _decide(text, words, counts, default)


def detect_passage(text: str, default: str = "en", declared: str = "") -> LanguageGuess:
    """Language of a document passage: the lexicon decides long, clearly one-language text (most
    passages, and 100x faster than langdetect), and confirms the document's `declared` language
    when that one's words are there and the other's are not; anything else goes through `detect`."""
    words = [w.lower() for w in _WORD.findall(text[:3000])]
    if len(words) >= _PASSAGE_WORDS // 3:
        share = {lang: sum(w in lex for w in words) / len(words) for lang, lex in _LEXICON.items()}
        best, other = sorted(SUPPORTED, key=share.get, reverse=True)
        clear = share[best] >= 0.2 and share[other] <= share[best] / 8
        if clear and (len(words) >= _PASSAGE_WORDS or best == declared):
            return LanguageGuess(best, best, 0.95)
        if best == declared and share[best] >= 0.1 and share[other] <= share[best] / 4:
            return LanguageGuess(best, best, 0.9)
    return detect(text, default)


def _closest_supported(code: str) -> str:
    """Malay and its neighbours read Indonesian best; everything else gets English."""
    return "id" if code in {"ms", "jv", "su", "tl"} else "en"


_LANGDETECT = threading.Lock()
_factory = None


def _detector(text: str):
    """A langdetect detector over all its 55 language profiles (`profile_table`), seeded so that
    the same text gets the same answer."""
    global _factory, _Detector
    if _factory is None:
        _Detector = _detector_class()
        from langdetect.detector_factory import DetectorFactory

        factory = DetectorFactory()
        factory.langlist, factory.word_lang_prob_map = profile_table()
        factory.set_seed(0)
        _factory = factory
    detector = _Detector(_factory)
    detector.append(text)
    return detector


_TABLE_FILE = "langdetect-profiles.npz"  # in the model cache (CHATBOT_MODEL_CACHE, else ~/.cache/chatbot/models)
_TABLE_FORMAT = "1"  # bump when the table's layout changes: older copies are then read again from the profiles
_STALE_SECONDS = 600  # a temporary copy this old was left by a process that died while writing it


def profile_table(cache: Path | None = None) -> tuple[list[str], dict[str, bytes | bytearray]]:
    """langdetect's profiles as (language codes, n-gram -> the (probability, language number)
    entries of the languages it is seen in). Read from a compact copy in the model cache (under
    0.1 s) when it was made from this langdetect's profiles, else from the 55 JSON files (about
    0.4 s of a cold `chatbot ask`) and the copy written for next time; a missing, damaged or
    unwritable copy only costs that time."""
    try:
        path = (cache or _model_cache()) / _TABLE_FILE
        source = _profiles_fingerprint()
    except Exception:  # no home folder, no package metadata: no copy, only the profiles
        return _read_profiles()
    try:
        return _read_table(path, source)
    except Exception:  # a cache: whatever is wrong with it, the profiles are read again
        pass
    langs, table = _read_profiles()
    _write_table(path, source, langs, table)
    return langs, table


def _model_cache() -> Path:
    from ..embeddings.registry import model_cache_folder

    return model_cache_folder(os.environ.get("CHATBOT_MODEL_CACHE"))


def _profiles_fingerprint() -> str:
    """The table format, langdetect's version and its profile files (names and sizes)."""
    from importlib.metadata import version

    from langdetect.detector_factory import PROFILES_DIRECTORY

    files = sorted((name, os.path.getsize(os.path.join(PROFILES_DIRECTORY, name))) for name in os.listdir(PROFILES_DIRECTORY))
    return f"{_TABLE_FORMAT} langdetect {version('langdetect')} {files}"


def _read_profiles() -> tuple[list[str], dict[str, bytearray]]:
    """The table from langdetect's JSON profiles, as DetectorFactory.add_profile reads them, but
    each n-gram keeps only the languages it is seen in (2 of 55 on average), as (float32
    probability, language number) pairs in one bytearray, instead of a list of 55 Python floats."""
    import json

    from langdetect.detector_factory import PROFILES_DIRECTORY
    from langdetect.utils.lang_profile import LangProfile

    langs: list[str] = []
    probabilities: dict[str, bytearray] = {}
    for index, name in enumerate(sorted(os.listdir(PROFILES_DIRECTORY))):
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as f:
            profile = LangProfile(**json.load(f))
        langs.append(profile.name)
        for word, count in profile.freq.items():
            row = probabilities.get(word)
            if row is None:
                row = probabilities[word] = bytearray()
            if 1 <= len(word) <= 3:
                row += _ENTRY_BYTES.pack(count / profile.n_words[len(word) - 1], index)
    return langs, probabilities


def _read_table(path: Path, source: str) -> tuple[list[str], dict[str, bytes]]:
    """The copy at `path` when it was made from these profiles and holds together: one row per
    n-gram, whole entries, language numbers within the languages; else ValueError."""
    import numpy as np

    with np.load(path, allow_pickle=False) as saved:
        if str(saved["source"]) != source:
            raise ValueError(f"{path} was made from other profiles")
        words, offsets = saved["words"].tolist(), saved["offsets"].tolist()
        blob = saved["blob"].tobytes()
        langs = saved["langs"].tolist()
    size = _ENTRY_BYTES.size
    if (len(offsets) != len(words) + 1 or offsets[0] != 0 or offsets[-1] != len(blob)
            or any(b < a or b % size for a, b in zip(offsets, offsets[1:]))):
        raise ValueError(f"{path} is damaged")
    if blob and int(np.frombuffer(blob, dtype=[("p", "<f4"), ("lang", "u1")])["lang"].max()) >= len(langs):
        raise ValueError(f"{path} names a language it does not hold")
    rows = _Rows(words, offsets, blob)
    if len(rows) != len(words):
        raise ValueError(f"{path} holds an n-gram twice")
    return langs, rows


class _Rows(dict):
    """n-gram -> its entries, cut from one buffer when asked for: a dict of n-gram -> row number
    underneath, so that `in` stays a dict lookup and loading makes no object per row."""

    def __init__(self, words: list[str], offsets: list[int], blob: bytes) -> None:
        super().__init__(zip(words, range(len(words))))
        self._offsets, self._blob = offsets, blob

    def __getitem__(self, word: str) -> bytes:
        row = dict.__getitem__(self, word)
        return self._blob[self._offsets[row]:self._offsets[row + 1]]

    def get(self, word, default=None):
        return self[word] if word in self else default


def _write_table(path: Path, source: str, langs: list[str], table: dict) -> None:
    """Write the compact copy beside the exported models, atomically; a cache folder that cannot
    be written only means the profiles are read again next time."""
    import tempfile

    import numpy as np

    words = list(table)
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(table[w]) for w in words])
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(".langdetect-*.npz"):  # left by a process killed while writing
            with contextlib.suppress(OSError):
                if stale.stat().st_mtime < time.time() - _STALE_SECONDS:
                    stale.unlink()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".langdetect-", suffix=".npz")
        os.fchmod(fd, 0o644)  # as the other files of a cache several users may share (mkstemp makes 0600)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, source=np.array(source), langs=np.array(langs), words=np.array(words), offsets=offsets,
                     blob=np.frombuffer(b"".join(bytes(table[w]) for w in words), dtype=np.uint8))
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


_ENTRY_BYTES = struct.Struct("<fB")  # one language of an n-gram: its probability (float32, as rounded before) and number
_Detector = None  # langdetect's Detector with its inner loop in numpy (made on first use: heavy import)


def _detector_class():
    """langdetect's Detector with its random walk in numpy: the same random draws, the same
    products in the same order and the same left-to-right sums, so the same probabilities to the
    last bit, in a fifth of the time (its pure-Python loop over 55 languages cost ~10 ms a question)."""
    import random

    import numpy as np
    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import ErrorCode, LangDetectException

    class NumpyDetector(Detector):
        def __init__(self, factory) -> None:
            super().__init__(factory)
            self.random = random.Random(self.seed)  # reseeded before use; Random() would read urandom

        def _detect_block(self) -> None:
            self.cleaning_text()
            ngrams = self._extract_ngrams()
            if not ngrams:
                raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
            unique = list(dict.fromkeys(ngrams))
            rows = np.zeros((len(unique), len(self.langlist)))  # float64, as langdetect's Python floats
            entry = np.dtype([("p", "<f4"), ("lang", "u1")])
            for k, w in enumerate(unique):
                seen = np.frombuffer(self.word_lang_prob_map[w], dtype=entry)
                rows[k, seen["lang"]] = seen["p"]
            position = {w: k for k, w in enumerate(unique)}
            picks = [position[w] for w in ngrams]  # choosing among these draws as choosing among the n-grams
            langprob = np.zeros(len(self.langlist))
            self.random.seed(self.seed)
            for _ in range(self.n_trial):
                prob = np.array(self._init_probability(), dtype=np.float64)
                alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
                factors = (alpha / self.BASE_FREQ) + rows  # weight + p, as langdetect adds them
                i = 0
                while True:
                    prob *= factors[self.random.choice(picks)]
                    if i % 5 == 0:
                        prob /= sum(prob.tolist())  # Python's sum, as langdetect sums
                        if float(prob.max()) > self.CONV_THRESHOLD or i >= self.ITERATION_LIMIT:
                            break
                    i += 1
                langprob += prob / self.n_trial
            self.langprob = langprob.tolist()

    return NumpyDetector


@lru_cache(maxsize=4096)
def _langdetect_probs(text: str) -> dict[str, float]:
    from langdetect.lang_detect_exception import LangDetectException

    with _LANGDETECT:  # one at a time: the profiles load on first use, and langdetect reseeds the global `random`
        try:
            return {g.lang: g.prob for g in _detector(text[:2000]).get_probabilities()}
        except LangDetectException:
            return {}
