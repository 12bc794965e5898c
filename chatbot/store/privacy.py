"""Masking personal details in what patients type, before anything is stored.

The rules are a readable table (`RULES`, in priority order): e-mail addresses, dates of birth,
medical record numbers, NIK and other ID numbers, phone numbers, street addresses and names
introduced as such, in English and Indonesian. Each match becomes its kind in brackets
("[PHONE]"). Numbers are masked only when their shape (08xx..., 16 digits) or a keyword ("NIK",
"MRN", "born") says what they are, so doses, lab values, ages and years stay as written.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GLOSSARY = Path(__file__).resolve().parent.parent / "data" / "glossary.toml"

# ---- building blocks -------------------------------------------------------------------------
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec|"
           "Januari|Februari|Maret|Mei|Juni|Juli|Agustus|Oktober|Desember|Agu|Agt|Ags|Okt|Des")
DATE = (rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}"
        rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|(?:{_MONTHS})\.?\s+\d{{4}})")
# words that may sit between a keyword and its value: "NIK saya adalah ...", "MRN number: ..."
FILLER = r"(?:[\s:#=,.-]*\b(?:is|was|adalah|ialah|saya|aku|kami|anak\s+saya|my|number|no|nomor|nomer|num|nya|ku)\b){0,3}[\s:#=,.-]*"
# a number after a keyword: digits with "/", "-" inside; a space or a dot only between digits
_VALUE = r"\d(?:[\d/-]|[.\s](?=\d))*"
_CODE = r"[A-Za-z]{0,4}[-/]?\d(?:[\dA-Za-z/-]|[.\s](?=\d))*"  # a record or document number: "RM-2023-0045", "B1234567"
_LEAD = r"(?<![\w+])"  # a number starts here, not inside a word or after a "+"
_END = r"(?![\w])"


@dataclass(frozen=True)
class Rule:
    """One kind of detail: a pattern whose group "x" (or whole match) is masked as `[KIND]`.

    `min_digits` rejects matches with fewer digits (a keyword followed by a short number is not an ID).
    """

    kind: str
    pattern: str
    flags: int = 0
    min_digits: int = 0

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        for m in re.compile(self.pattern, self.flags).finditer(text):
            start, end = m.span("x") if "x" in m.re.groupindex else m.span()
            if end > start and sum(c.isdigit() for c in text[start:end]) >= self.min_digits:
                yield start, end


I = re.IGNORECASE
RULES: tuple[Rule, ...] = (
    Rule("EMAIL", r"(?<![\w.+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    # dates of birth: a full date (or month and year) after a birth keyword, within the same clause
    Rule("DOB", rf"\b(?:date\s+of\s+birth|D\.?O\.?B\.?|birth\s*date|birthday|born|tanggal\s+lahir|tgl\.?\s*lahir|TTL|lahir(?:nya)?|kelahiran)\b"
                rf"[^.?!\n]{{0,40}}?(?P<x>{DATE})", I),
    Rule("DOB", r"\b(?:born|lahir|kelahiran)(?:\s+(?:in|on|pada|tahun|thn|th\.?))?\s+(?P<x>(?:19|20)\d{2})\b", I),
    # medical record numbers: a keyword, then a value with digits ("RM" alone must look like a record number)
    Rule("MRN", rf"\b(?:MRN|MR\s*(?:no|number|#)|(?:medical\s+)?records?\s+(?:number|no|#)|medical\s+records?|hospital\s+(?:number|no|ID)|"
                rf"patient\s+(?:ID|number|no)|chart\s+(?:number|no)|no\.?\s*RM|nomor\s+RM|(?:nomor\s+|no\.?\s*)?rekam\s+medi[sk](?:nya)?|"
                rf"(?:nomor|no\.?)\s*(?:pasien|registrasi|reg))\b{FILLER}(?P<x>{_CODE})", I, min_digits=3),
    Rule("MRN", rf"\bRM{FILLER}(?P<x>{_VALUE})", min_digits=5),
    # NIK (16 digits, also grouped 6-6-4) and numbers after an ID-card keyword
    Rule("NIK", rf"{_LEAD}(?P<x>\d{{6}}[\s.-]?\d{{6}}[\s.-]?\d{{4}}){_END}"),
    Rule("NIK", rf"\b(?:NIK|e-?KTP|KTP|KK|kartu\s+keluarga|nomor\s+induk\s+kependudukan)\b{FILLER}(?P<x>{_VALUE})", I, min_digits=6),
    # other ID numbers: insurance, passport, tax, social security, cards; bare runs of 10+ digits
    Rule("ID", rf"\b(?:passport|paspor|BPJS|KIS|JKN|NPWP|SSN|social\s+security|insurance|asuransi|membership|member|policy|polis|"
               rf"card|kartu|identity|identitas|NISN|NIP|license|licence)\b{FILLER}(?P<x>{_CODE})", I, min_digits=5),
    Rule("ID", rf"\b(?:ID|SIM)\b{FILLER}(?P<x>{_CODE})", min_digits=5),
    Rule("ID", rf"{_LEAD}\d{{3}}-\d{{2}}-\d{{4}}{_END}"),  # US social security number
    # phones: +country or Indonesian 08xx / 628xx mobiles, 0xx landlines, or any number after a phone keyword
    Rule("PHONE", rf"(?<![\w+])(?:\+|00)\d{{1,3}}[\s.-]?(?:\(0?\d{{1,4}}\)[\s.-]?)?\d{{2,5}}(?:[\s.-]?\d{{2,5}}){{1,3}}{_END}", min_digits=8),
    Rule("PHONE", rf"{_LEAD}(?:62|0)8\d{{1,3}}(?:[\s.-]?\d{{2,5}}){{2,4}}{_END}", min_digits=10),
    Rule("PHONE", rf"{_LEAD}(?:\(0\d{{1,3}}\)|0[1-79]\d{{1,2}})[\s.-]?\d{{3,4}}[\s.-]?\d{{3,5}}{_END}", min_digits=9),
    Rule("PHONE", rf"\b(?:phone|telephone|tel|telp|telepon|telpon|hp|handphone|ponsel|wa|whatsapp|mobile|cell|contact|"
                  rf"call\s+me(?:\s+at)?|reach\s+me(?:\s+at)?|text\s+me(?:\s+at)?|hubungi(?:\s+saya)?(?:\s+di)?)\b{FILLER}"
                  rf"(?P<x>\+?\(?\d(?:[\d()-]|[.\s](?=[\d(]))*)", I, min_digits=6),
    Rule("PHONE", rf"{_LEAD}\(?\d{{3}}\)?[\s.-]\d{{3}}[\s.-]\d{{4}}{_END}"),  # North American
    Rule("ID", rf"{_LEAD}\d{{10,}}{_END}"),  # any other run of ten or more digits
)

# ---- addresses -------------------------------------------------------------------------------
_CAP = r"(?!(?:RT|RW|Rt|Rw|No|Nomor|Nomer|Kel|Kec|Kab|Kota|Desa|Blok)\b)[A-Z0-9][\w'’-]*\.?"  # a word of a street name: capitalised or a number ("Jl. KH. Ahmad Dahlan", "Gg. 5")
_STREET_ID = rf"(?:\b\d{{1,5}}[A-Za-z]?\s+)?\b(?:Jl|Jln|Jalan|jalan|jl|Gg|Gang|gang|Komplek|Kompleks|Komp|Perumahan|Perum|Blok|Dusun|Dsn)\.?\s*[A-Z](?:[\w'’-]*\.?)(?:\s+{_CAP}){{0,4}}"
_NUMBER = r"(?:,?\s*(?:No|Nomor|Nomer|no|nomor|nomer|nr)\.?\s*\d+[A-Za-z]?(?:\s*[/-]\s*\d+[A-Za-z]?)?)"
_RTRW = r"(?:,?\s*(?:RT|Rt|rt)\.?\s*\d{1,3}\s*(?:/|,|\s)\s*(?:RW|Rw|rw)\.?\s*\d{1,3})"
_AREA = rf"(?:,?\s*(?:Kel|Kelurahan|Kec|Kecamatan|Desa|Ds|Kab|Kabupaten|Kota|Kp|Kampung|Blok)\.?\s+{_CAP}(?:\s+{_CAP}){{0,2}})"
_STREET_EN = (r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][\w'’-]*\s+){1,4}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|"
              r"Place|Pl|Terrace|Close|Crescent|Highway|Hwy)\b\.?(?:,?\s*(?:Apt|Apartment|Unit|Flat|Suite)\.?\s*#?\w+)?")
ADDRESS_RULES: tuple[Rule, ...] = (
    Rule("ADDRESS", rf"{_STREET_ID}{_NUMBER}?(?:{_RTRW}|{_AREA}|{_NUMBER})*"),
    Rule("ADDRESS", rf"{_RTRW}(?:{_AREA})*"),
    Rule("ADDRESS", _STREET_EN),
)
# "my address is ...", "alamat saya ...": the rest of the clause is the address
_ADDRESS_INTRO = re.compile(r"\b(?:(?:my|our|home|the)\s+address\s+is|address\s*:|I\s+live\s+at|we\s+live\s+at|"
                            r"alamat(?:nya)?(?:\s+(?:saya|aku|kami|rumah(?:\s+saya|\s+kami)?|lengkap(?:\s+saya)?))?(?:\s+(?:di|adalah|ialah))?\s*:?)(?=\s)", I)
_CLAUSE_END = re.compile(r"[?!\n;]|\.(?=\s+[A-Z]|\s*$)|\s(?:and|but|because|dan|tapi|tetapi|karena|sejak|apakah)\s", I)
_ABBREVIATIONS = {"no", "jl", "jln", "gg", "kel", "kec", "kab", "rt", "rw", "st", "rd", "ave", "apt", "dr", "komp", "perum", "ds", "kp"}

# ---- names -----------------------------------------------------------------------------------
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’-]*")
_PARTICLES = {"bin", "binti", "van", "von", "de", "da", "al", "el"}
# words that are never a name after an introduction ("I am worried", "saya ingin", "my son has")
STOP_WORDS = frozenset("""
a an the and or but so to of in on at for from with by about as is are was were be been being am i me my mine you your he him his
she her it its we our they their them this that these those there here who what when where why how which not no yes very really
just also only still too please hi hello hey dear thanks thank doctor doc dr sir madam nurse worried concerned afraid scared sure
pregnant positive negative sick ill unwell diabetic allergic asthmatic epileptic anemic anaemic hiv aids cmv covid type stage currently
now going trying having getting looking writing asking wondering breastfeeding nursing new old years year months month weeks week days
day age aged born living staying mom mum dad mother father son daughter wife husband baby child kid boy girl brother sister friend
patient has had have does did do will would can could should may might must feeling feel felt got gets asked told said taking took
saya aku kami kita anda kamu dia ia mereka ini itu yang dan atau tapi tetapi dengan di ke dari untuk pada dalam adalah ialah ada sudah
belum sedang akan mau ingin bisa boleh tidak tak bukan ya iya apa apakah bagaimana gimana kenapa mengapa kapan dimana siapa berapa mohon
tolong terima kasih makasih dok dokter bidan suster perawat umur usia tahun thn th bulan bln minggu hari lahir hamil menyusui positif
negatif sakit lagi baru punya sangat sekali juga hanya anak bayi suami istri ibu ayah bapak adik kakak nenek kakek cucu teman mau
sering kena terkena mengalami merasa demam batuk pusing normal abnormal autistic hospitalised hospitalized fine okay ok better worse
healthy stable vaccinated immunocompromised premature jaundiced anaemic tired
monday tuesday wednesday thursday friday saturday sunday senin selasa rabu kamis jumat sabtu
january february march april june july august september october november december januari februari maret mei juni juli agustus
oktober desember english indonesian indonesia inggris jawa javanese sunda sundanese batak bali balinese chinese muslim moslem
christian kristen katolik catholic islam hindu buddhist buddha protestan god allah tuhan
""".split())

_REL_EN = (r"son|sons|daughter|daughters|child|children|kid|kids|baby|toddler|newborn|infant|boy|girl|wife|husband|partner|mother|mom|mum|"
           r"father|dad|brother|sister|sibling|grandmother|grandma|grandfather|grandpa|grandson|granddaughter|nephew|niece|aunt|uncle|"
           r"cousin|friend|neighbou?r|fianc[eé]e?|boyfriend|girlfriend|twins?|stepson|stepdaughter|colleague|patient")
_REL_ID = (r"anak|putra|putri|bayi|balita|suami|istri|isteri|ibu|mama|mamah|bunda|ayah|papa|bapak|adik|adek|kakak|abang|nenek|kakek|"
           r"cucu|keponakan|ponakan|sepupu|teman|kawan|tetangga|mertua|pacar|tunangan|paman|bibi|tante|pasien")
_REL_ID_KIND = r"(?:\s+(?:pertama|kedua|ketiga|bungsu|sulung|perempuan|laki-laki|lelaki|cowok|cewek|kecil|tertua|termuda))?"


@dataclass(frozen=True)
class NameIntro:
    """Words that introduce a name. `strong`: the next words are the name whatever their case ("my name is
    budi"); otherwise only capitalised words not in STOP_WORDS count ("saya Budi", "my son Adam")."""

    pattern: str
    strong: bool = False
    flags: int = I
    comma: bool = True  # "anak saya, Siti, ..." - a comma may stand between the words and the name


NAME_INTROS: tuple[NameIntro, ...] = (
    NameIntro(rf"\b(?:(?:my|his|her|our|their)\s+(?:(?:{_REL_EN})['’]s\s+)?|the\s+(?:patient|baby|child|boy|girl)['’]s\s+)"
              rf"(?:full\s+|first\s+|last\s+)?name\s+is\b|\bmy\s+name['’]s\b|\b(?:my|patient|full|first|last)\s+name\s*:|^\s*name\s*:",
              strong=True, flags=I | re.M),
    NameIntro(rf"\bnama\s+(?:lengkap\s+)?(?:(?:{_REL_ID}){_REL_ID_KIND}\s+)?(?:saya|sy|aku|kami|ku)\b(?:\s+(?:adalah|ialah))?|\bnamaku\b|^\s*nama\s*:",
              strong=True, flags=I | re.M),
    NameIntro(r"\b(?:I\s+am|I['’]m|this\s+is|call\s+me|it['’]s\s+me)\b", comma=False),
    NameIntro(r"\b(?:patient|pasien|nama\s+pasien|atas\s+nama|a\.?n\.)\s*:?|\bnama\b", comma=False),
    NameIntro(r"\b(?:saya|sy|aku|perkenalkan(?:,?\s+saya)?|panggil\s+(?:saya|aku))\b"),
    NameIntro(rf"\b(?:my|our|his|her|their)\s+(?:[\w-]+\s+){{0,3}}?(?:{_REL_EN})\b(?:\s+(?:is|was))?(?:\s+(?:called|named))?"),
    NameIntro(r"(?<!brand\s)(?<!generic\s)(?<!drug\s)(?<!trade\s)\bname\b(?:\s+on\s+(?:the\s+|my\s+)?[\w-]+)?", comma=False),  # "Name on passport: Thomas ..."
    NameIntro(r"\b(?:appointment|booking|results?|records?|file|referral|letter|certificate)\s+(?:for|of)\b", comma=False),
    NameIntro(rf"\b(?:a|the)\s+(?:[\w-]+\s+)?(?:{_REL_EN}|man|woman|person|lady)\s+(?:called|named)\b"),
    NameIntro(rf"\b(?:{_REL_ID}){_REL_ID_KIND}(?:\s+(?:saya|aku|kami|kita)|ku)\b(?:\s*,?\s*(?:yang\s+)?(?:bernama|namanya))?"),
    NameIntro(rf"\b(?:{_REL_ID}|orang|seseorang|perempuan|wanita|pria|laki-laki)\s+(?:\w+\s+)?(?:yang\s+)?(?:bernama|namanya)\b"),
    NameIntro(r"\b(?:mother|father|mom|mum|dad|parent|ibu|ayah|bapak|orang\s+tua|mama|papa)\s+(?:of|dari)\b"),
    NameIntro(r"(?:\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Pak|Bu|Bapak|Ibu|Bpk|Sdr|Sdri|Saudara|Saudari|Mbak|Mba|Mas|Kak|Dik|Tante|Om|Bang|Teh|"
              r"Ners|Ns|Bidan|Suster|Dokter|Doctor|Nurse|Uncle|Aunt|Auntie)|\b(?:dr|dokter|suster|bidan))\b\.?", flags=0, comma=False),
    NameIntro(r"\b(?:thanks|thank\s+you|regards|best\s+regards|best\s+wishes|cheers|sincerely|salam|terima\s*kasih|makasih|trims|"
              r"hormat\s+saya|wassalam)\s*[,-]"),
)


# glossary words that are also given names: capitalised after "saya" or "I am", they are the name ("Saya Asma"); a
# patient who capitalises the condition ("Anak saya Asma kambuh") has it masked too, the safe side of the trade
ALSO_NAMES = frozenset({"asma", "gigi", "rahim", "nadi", "sendi", "caesar", "sesar", "ayan", "tuma", "candida", "hashimoto", "mania"})


@lru_cache(maxsize=1)
def health_words() -> frozenset[str]:
    """Single words of the health glossary (chatbot/data/glossary.toml): a disease or drug is never
    a name, except the few that are also given names (ALSO_NAMES)."""
    data = tomllib.loads(GLOSSARY.read_text(encoding="utf-8"))
    return frozenset(w.lower() for term in data.get("term", []) for lang in ("en", "id")
                     for w in term.get(lang, []) if " " not in w) - ALSO_NAMES


def _name_after(text: str, pos: int, strong: bool, comma: bool) -> tuple[int, int] | None:
    """The span of the name starting at `pos` (after its introduction), or None when none follows."""
    m = re.compile(r"\s*[,:]?\s*[\"'“‘]?" if comma else r"\s*:?\s*[\"'“‘]?").match(text, pos)
    pos = m.end()
    start = end = None
    words = 0
    first_capital = False
    while words < 4:
        w = _WORD.match(text, pos)
        if not w:
            break
        word = w.group()
        stem = re.sub(r"['’]s$", "", word)
        capital = stem[:1].isupper() and not (stem.isupper() and len(stem) > 1)
        if stem.lower() in _PARTICLES and start is not None and first_capital:
            nxt = _WORD.match(text, w.end() + 1) if text[w.end():w.end() + 1] == " " else None
            if nxt and nxt.group()[:1].isupper():
                pos = w.end() + 1
                continue
            break
        # "my name is Asma": a name, though asthma; "Robert Burns", "Dewi Sendi": a capitalised word after a capitalised name is that name
        health = stem.lower() in health_words() and not (strong and start is None) and not (start is not None and capital and first_capital)
        if stem.lower() in STOP_WORDS or health or stem in _INSTITUTION_WORDS or len(stem) < 2:
            break
        if start is None:
            if not (capital or strong):
                break
            first_capital = capital
        elif capital != first_capital and not (strong and stem.isupper()):
            break
        start = w.start() if start is None else start
        end = w.start() + len(stem)
        words += 1
        if stem != word or text[w.end():w.end() + 1] != " ":
            break
        pos = w.end() + 1
        if not first_capital and words >= 3:
            break
    return (start, end) if start is not None else None


_NAME_HERE = re.compile(r"(?:^|[,.!?]\s*|\b(?:hi|hello|hey|halo|hai)\b[,!]?\s+)(?P<x>[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?)\s+(?:here|speaking|di\s+sini)\b", re.M)
# "Dr. Soetomo Hospital", "RSUP Dr. Sardjito": a person's name in an institution's name is the institution
_INSTITUTION_WORDS = {"Hospital", "Clinic", "Medical", "Memorial", "General", "Health", "Centre", "Center", "University", "School",
                      "Institute", "Foundation"}
# "Pap smear", "Kawasaki disease", "Western blot", "Widal test": a capitalised word before one of these is no person
_MEDICAL_AFTER = re.compile(r"\s+(?:smear|test|tests|blot|syndrome|disease|disorder|vaccine|virus|infection|scan|tablets?|syrup|"
                            r"drops|cream|injection|sign|score|scale|tes|sindrom|penyakit|vaksin|infeksi|sirup)\b", I)
_INSTITUTION_AFTER = re.compile(rf"\s+(?:{'|'.join(sorted(_INSTITUTION_WORDS))})\b")
_INSTITUTION_BEFORE = re.compile(r"\b(?:RS|RSU|RSUD|RSUP|RSIA|RSAB|Rumah\s+Sakit|Hospital|Puskesmas|Klinik|Clinic|Universitas|Jalan|Jl)\.?\s*$", I)


def _name_spans(text: str) -> Iterator[tuple[str, int, int]]:
    for m in _NAME_HERE.finditer(text):
        if m.group("x").lower() not in STOP_WORDS:
            yield "NAME", *m.span("x")
    for intro in NAME_INTROS:
        for m in re.finditer(intro.pattern, text, intro.flags):
            span = _name_after(text, m.end(), intro.strong, intro.comma)
            if span and not _INSTITUTION_AFTER.match(text, span[1]) and not _MEDICAL_AFTER.match(text, span[1]) \
                    and not _INSTITUTION_BEFORE.search(text[max(0, m.start() - 30):m.start()]):
                yield "NAME", *span


def _address_intro_spans(text: str) -> Iterator[tuple[str, int, int]]:
    streets = None
    for m in _ADDRESS_INTRO.finditer(text):
        start = m.end()
        end = min(len(text), start + 120)
        for stop in _CLAUSE_END.finditer(text, start, end):
            before = re.search(r"(\w+)$", text[start:stop.start()])
            if stop.group().startswith(".") and before and before.group(1).lower() in _ABBREVIATIONS:
                continue
            end = stop.start()
            break
        value = text[start:end].rstrip(" ,.")
        lead = len(value) - len(value.lstrip())
        streets = [s for _, s, _ in _rule_spans(ADDRESS_RULES)(text)] if streets is None else streets
        if any(start <= s < end for s in streets):
            continue
        if value.strip():
            yield "ADDRESS", start + lead, start + len(value)


def _rule_spans(rules: tuple[Rule, ...]) -> Callable[[str], Iterator[tuple[str, int, int]]]:
    return lambda text: ((r.kind, s, e) for r in rules for s, e in r.spans(text))


# in priority order: where two findings overlap, the earlier finder wins
FINDERS: tuple[Callable[[str], Iterator[tuple[str, int, int]]], ...] = (
    _rule_spans(RULES), _rule_spans(ADDRESS_RULES), _address_intro_spans, _name_spans)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def find(text: str) -> list[Finding]:
    """Every personal detail in `text`, without overlaps, in reading order.

    Findings of one kind that overlap are joined; across kinds the earlier finder in FINDERS wins.
    """
    taken: list[Finding] = []
    for finder in FINDERS:
        for kind, start, end in finder(text):
            clashing = [f for f in taken if start < f.end and f.start < end]
            if any(f.kind != kind for f in clashing):
                continue
            for f in clashing:
                taken.remove(f)
            taken.append(Finding(kind, min([start] + [f.start for f in clashing]), max([end] + [f.end for f in clashing])))
    return sorted(taken, key=lambda f: f.start)


def mask(text: str) -> str:
    """`text` with every personal detail replaced by its kind in brackets, e.g. "my name is [NAME]"."""
    if not text:
        return text
    out, last = [], 0
    for f in find(text):
        out += [text[last:f.start], f"[{f.kind}]"]
        last = f.end
    return "".join(out) + text[last:]
