"""Fold a person's name into the key the register searches on.

`name_key("H. Moch. Soekarno, S.Pd.")` and `name_key("muhamad sukarno")` give
the same key: titles and punctuation go, case goes, and the spelling variants
of Indonesian names (old Dutch-era spelling, Arabic transliterations, doubled
letters, a final -y) are folded into one form. The same function folds the
stored name (Resident.name_key) and the searched name, so a variant typed at
the counter meets the variant written on the KK.

The fold is lossy on purpose and only ever compared with itself: it is not a
"correct" spelling and is never shown.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Titles written before a name: religious (Haji, Kyai Haji, Ustadz) and
# academic (Drs., Ir., Prof.). Andi, Aji, Awang, Dayang, Raden and the like
# are part of the name in Kutai, Bugis and Banjar custom and stay.
PREFIX_TITLES = frozenset(
    {
        "h",
        "hj",
        "haji",
        "hajah",
        "hajjah",
        "kh",
        "ust",
        "ustad",
        "ustadz",
        "ustadzah",
        "dr",
        "drs",
        "dra",
        "drg",
        "ir",
        "prof",
    }
)

# Degrees written after a name ("Siti Aminah, S.Pd., M.Pd."), dots and spaces
# removed. Dropped after a comma, or at the end of the name when unambiguous.
DEGREES = frozenset(
    {
        "amd",
        "amdkeb",
        "amdkep",
        "amdkes",
        "amk",
        "amkeb",
        "ba",
        "bsc",
        "dipl",
        "ma",
        "mag",
        "mba",
        "mh",
        "mhum",
        "mkes",
        "mkom",
        "mm",
        "mpd",
        "mpdi",
        "msc",
        "msi",
        "mt",
        "ners",
        "phd",
        "sag",
        "sak",
        "se",
        "sfarm",
        "sh",
        "shi",
        "shut",
        "sip",
        "sikom",
        "skep",
        "sked",
        "skg",
        "skm",
        "skom",
        "sos",
        "sp",
        "spd",
        "spdi",
        "spdsd",
        "spt",
        "ssi",
        "ssos",
        "st",
        "sth",
        "stp",
        "ssn",
    }
)
# Degrees that are never a name part, so safe to drop without a comma.
_SAFE_TRAILING_DEGREES = DEGREES - {"ba", "ma", "se", "sh", "sp", "st", "mt", "sos"}

# Old (pre-1972 "Ejaan Soewandi") and transliteration spellings, folded to
# the modern form. Applied left to right on a lower-case ASCII token.
_SPELLING = (
    ("oe", "u"),  # Soekarno / Sukarno
    ("dj", "j"),  # Djoko / Joko
    ("tj", "c"),  # Tjipto / Cipto
    ("sj", "sy"),  # Sjahrir / Syahrir
    ("nj", "ny"),  # Soenjoto / Sunyoto
    ("ch", "kh"),  # Achmad / Akhmad, Choirul / Khoirul
    ("dz", "z"),  # Dzulkifli / Zulkifli
    ("ph", "f"),  # Stephanus / Stefanus
    ("q", "k"),  # Qomariah / Komariah, Rofiq / Rofik
)

# Whole tokens (after the spelling fold) that are one name.
_MUHAMMAD = "muhamad"
_TOKEN_MAP = {
    **dict.fromkeys(
        (
            "muhamad",
            "muhamat",
            "muhamed",
            "mohamad",
            "mohamat",
            "mohamed",
            "mukhamad",
            "mokhamad",
            "muhd",
            "mohd",
            "mokh",
            "mukh",
            "mhd",
            "moh",
            "muh",
        ),
        _MUHAMMAD,
    ),
    "abd": "abdul",
    "akhmad": "ahmad",
    "nor": "nur",
}

_NON_LETTER = re.compile(r"[^a-z\s]")
_DOUBLED = re.compile(r"(.)\1+")


def _ascii_lower(text: str) -> str:
    if text.isascii():
        # Most names: NFKD leaves ASCII as it is and it has no combining marks.
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _compact(token: str) -> str:
    return token.replace(".", "").replace(" ", "")


def _strip_degrees(text: str) -> str:
    """Drop comma-separated degrees: 'aminah, s. pd., m.pd' -> 'aminah'."""
    head, *rest = text.split(",")
    kept = [head]
    for part in rest:
        if _compact(part.strip()) in DEGREES or not _compact(part.strip()):
            continue
        kept.append(part)
    return " ".join(kept)


def _fold_once(token: str) -> str:
    if token.startswith(("noor", "nour")):
        token = "nur" + token[4:]
    for old, new in _SPELLING:
        token = token.replace(old, new)
    token = _DOUBLED.sub(r"\1", token)
    if len(token) > 1 and token.endswith("y"):
        token = token[:-1] + "i"
    return _TOKEN_MAP.get(token, token)


@functools.lru_cache(maxsize=200_000)
def _fold_token(token: str) -> str:
    """Fold one lower-case ASCII word until nothing changes (so it is stable).
    Pure, and words repeat far more than whole names: remembered."""
    for _ in range(8):
        folded = _fold_once(token)
        if folded == token:
            break
        token = folded
    return token


_PREFIX_KEYS = frozenset(_fold_token(t) for t in PREFIX_TITLES)
_TRAILING_KEYS = frozenset(_fold_token(t) for t in _SAFE_TRAILING_DEGREES)


def name_key(name: str) -> str:
    """Return the search key of a name: folded, title-free, single-spaced.

    Stable: name_key(name_key(x)) == name_key(x).
    """
    text = _strip_degrees(_ascii_lower(name or ""))
    # An apostrophe joins (Ma'ruf -> maruf); other punctuation separates.
    text = text.replace("'", "").replace("`", "").replace("\u2019", "")
    if _NON_LETTER.search(text) is None:
        # Letters and spaces only (most names): each word is a token as it is.
        tokens = [_fold_token(t) for t in text.split()]
    else:
        words = (_NON_LETTER.sub(" ", w.replace(".", "")) for w in text.split())
        tokens = [_fold_token(t) for w in words for t in w.split()]
    tokens = [t for t in tokens if t]
    while len(tokens) > 1 and tokens[-1] in _TRAILING_KEYS:
        tokens.pop()
    while len(tokens) > 1 and tokens[0] in _PREFIX_KEYS:
        tokens.pop(0)
    # "M." before another word is Muhammad, not an initial to drop.
    if "m" not in tokens:
        return " ".join(tokens)
    return " ".join(
        _MUHAMMAD if t == "m" and i < len(tokens) - 1 else t
        for i, t in enumerate(tokens)
    )


def fold_word(word: str) -> str:
    """Fold one lower-case word as `name_key` folds each word of a name."""
    return _fold_token(word)


def compact_key(key: str) -> str:
    """Return a key without its spaces (Nur Hayati = Nurhayati)."""
    return key.replace(" ", "")
