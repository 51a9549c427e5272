"""Find residents by NIK, by KK number, or by a name typed with mistakes.

A 16-digit query is a NIK (the resident) or a KK number (its members). Any
other query is a name: folded with `name_key`, then candidates come from the
name_key index (whole folded names by equality) and the word index (query
words expanded to the indexed words within a typo or two; see migration 0002
and docs/decisions/0004-name-search.md), always within the caller's scope and
filters; rapidfuzz re-scores the candidates so the best match comes first.
Rows carry masked NIK and KK numbers only: a whole NIK is shown on a
resident's page (selectors.get_resident_detail), and that read is logged.
"""

from __future__ import annotations

import datetime
import itertools
import math
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.registry.models import Resident, ResidentStatus
from balai.registry.names import compact_key, fold_word, name_key
from balai.registry.reference import Sex
from balai.registry.selectors import READ_ROLES, mask_nik

# The fold the register stores beside each name (Resident.name_key).
fold_name = name_key

# How many candidates are re-scored. Enough for a common name in a
# whole regency with a typo; small enough to score in a few milliseconds.
CANDIDATE_LIMIT = 200
# Below this re-score (0-100) a candidate is noise, not a match.
MIN_SCORE = 55.0
# Names whose letters, spaces aside, agree at least this much (0-100) are the
# same name spaced differently.
SPACING_MIN = 90.0
MIN_QUERY_LETTERS = 3
MAX_PER_PAGE = 100
# SQLite: the FTS5 word index over name_key.
_WORDS = "registry_resident_words"
# A query word stands for at most this many indexed words near it.
MAX_EXPANSIONS = 24
MAX_QUERY_WORDS = 6
# Whole keys looked up by equality: this many, from the nearest few per word.
MAX_KEYS = 48
KEY_CHOICES = 4
# Near keys are looked up in this many tiers of equal distance at most.
KEY_TIERS = 3

_NUMBER_SEPARATORS = re.compile(r"[\s.\-]")

_ROW_FIELDS = (
    "id",
    "name",
    "name_key",
    "nik",
    "sex",
    "birth_date",
    "status",
    "village_id",
    "village__name",
    "kecamatan_code",
    "family__kk_number",
)


@dataclass(frozen=True)
class ResidentRow:
    """One resident in a result list: never a whole NIK or KK number."""

    id: uuid.UUID
    name: str
    nik: str
    kk_number: str
    sex: str
    sex_label: str
    birth_date: datetime.date
    age: int
    village_code: str
    village_name: str
    kecamatan_code: str
    status: str
    status_label: str
    score: float


@dataclass(frozen=True)
class SearchPage:
    """A page of results, best first."""

    query: str
    kind: str  # "nik", "kk" or "name"
    rows: list[ResidentRow]
    number: int
    per_page: int
    total: int
    filters: dict[str, Any] = field(default_factory=dict)
    # True when the candidates ran out before the matches did: more people
    # match than `total`; a filter (desa, age) narrows them.
    capped: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def age_on(birth_date: datetime.date, today: datetime.date) -> int:
    """Return the age in whole years on `today`."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _filtered(
    actor: Actor,
    *,
    kecamatan: str | None,
    desa: str | None,
    sex: str | None,
    age_min: int | None,
    age_max: int | None,
    status: str | None,
) -> QuerySet[Resident]:
    # village__code, not village_id: Django refuses startswith on a foreign key
    # (no join is made: the code is the key).
    qs = Resident.objects.filter(actor.scope_q("village__code"))
    if kecamatan:
        qs = qs.filter(kecamatan_code=kecamatan)
    if desa:
        qs = qs.filter(village_id=desa)
    if sex:
        if sex not in Sex.values:
            raise BalaiError(
                "Jenis kelamin harus L atau P.",
                code="invalid_filter",
                extra={"sex": sex},
            )
        qs = qs.filter(sex=sex)
    if status:
        if status not in ResidentStatus.values:
            raise BalaiError(
                "Status penduduk tidak dikenal.",
                code="invalid_filter",
                extra={"status": status},
            )
        qs = qs.filter(status=status)
    if age_min is not None or age_max is not None:
        if (age_min is not None and age_min < 0) or (
            age_max is not None and age_max < 0
        ):
            raise BalaiError("Umur tidak boleh negatif.", code="invalid_filter")
        if age_min is not None and age_max is not None and age_min > age_max:
            raise BalaiError(
                "Umur terendah melebihi umur tertinggi.", code="invalid_filter"
            )
        today = timezone.localdate()
        if age_min is not None:
            qs = qs.filter(birth_date__lte=_years_before(today, age_min))
        if age_max is not None:
            # Older than age_max + 1 years is out; born on that day is too.
            qs = qs.filter(birth_date__gt=_years_before(today, age_max + 1))
    return qs


# --- candidates: a word index, query words expanded to the words it holds ---------
#
# A query is folded into words; each word stands for the indexed words within a
# typo or two of it (OSA distance over the vocabulary of all name keys) and for
# the two indexed words it may be written together for. The strict query wants
# every word (two neighbouring words may also be one); if it finds few, the
# relaxed one wants all words but one. The index ranks (FTS5 bm25 on SQLite,
# ts_rank over the length on PostgreSQL), already limited to the caller's scope
# and filters; rapidfuzz then re-scores the few hundred candidates.

# A phrase: one word, or words that must stand next to each other.
Phrase = tuple[str, ...]
# A slot: the phrases that may stand for one query word.
Slot = list[Phrase]
# A candidate: a resident's id and folded name.
Candidate = tuple[uuid.UUID, str]


@dataclass
class _Vocabulary:
    """Every word of every name key, read again only when its stamp changes."""

    stamp: Any
    words: frozenset[str]
    by_length: dict[int, list[str]]


_vocabularies: dict[str, _Vocabulary] = {}
_vocabulary_lock = threading.Lock()


def _stamp(cursor: Any) -> Any:
    """Return a value that changes whenever a new word was indexed.

    PostgreSQL: the last word's number (numbers are never reused, even after
    a rollback). SQLite: a random stamp the new word's trigger sets (a
    rollback restores the stamp with the words).
    """
    if connection.vendor == "postgresql":
        cursor.execute("SELECT max(seq) FROM registry_resident_word")
    else:
        cursor.execute("SELECT stamp FROM registry_resident_search_stamp WHERE id = 1")
    row = cursor.fetchone()
    return row[0] if row else None


def _vocabulary() -> _Vocabulary:
    """Return the word list; re-read only when a new name was written since."""
    where = f"{connection.vendor}:{connection.alias}:{connection.settings_dict['NAME']}"
    with connection.cursor() as cursor:
        stamp = _stamp(cursor)
        cached = _vocabularies.get(where)
        if cached is not None and stamp is not None and cached.stamp == stamp:
            return cached
        cursor.execute("SELECT word FROM registry_resident_word")
        words = frozenset(w for (w,) in cursor.fetchall())
    by_length: dict[int, list[str]] = {}
    for word in sorted(words):
        by_length.setdefault(len(word), []).append(word)
    vocabulary = _Vocabulary(stamp=stamp, words=words, by_length=by_length)
    with _vocabulary_lock:
        _vocabularies[where] = vocabulary
    return vocabulary


def _max_edits(word: str) -> int:
    if len(word) <= 2:
        return 0
    return 1 if len(word) <= 4 else 2


def _expand(word: str, vocabulary: _Vocabulary) -> list[str]:
    """Return the indexed words within a typo or two of `word`, nearest first.

    A short word with no indexed word near it gets one more typo of room
    ("rniw" for "rini").
    """
    found = _near(word, vocabulary, _max_edits(word))
    if not found and 3 <= len(word) <= 4:
        found = _near(word, vocabulary, 2)
    return found


def _near(word: str, vocabulary: _Vocabulary, edits: int) -> list[str]:
    found: list[tuple[int, int, str]] = []
    for length in range(len(word) - edits, len(word) + edits + 1):
        bucket = vocabulary.by_length.get(length)
        if not bucket:
            continue
        for other, distance, _ in process.extract_iter(
            word, bucket, scorer=OSA.distance, score_cutoff=edits
        ):
            found.append((int(distance), abs(len(other) - len(word)), other))
    found.sort()
    return [w for _, _, w in found[:MAX_EXPANSIONS]]


def _splits(word: str, vocabulary: _Vocabulary) -> list[Phrase]:
    """Return the ways `word` is two indexed words written together.

    "nurhayati" is "nur hayati"; "anisakbar" (from "Anisaakbar", the doubled
    letter folded) is "anisa akbar"; each part folded again ("rahmawatinor"
    is "rahmawati nur").
    """
    found = []
    for cut in range(2, len(word) - 1):
        for head, tail in ((word[:cut], word[cut:]), (word[:cut], word[cut - 1 :])):
            head, tail = fold_word(head), fold_word(tail)
            if head in vocabulary.words and tail in vocabulary.words:
                found.append((head, tail))
    return list(dict.fromkeys(found))


def _slot(word: str, vocabulary: _Vocabulary) -> Slot:
    return [(w,) for w in _expand(word, vocabulary)] + _splits(word, vocabulary)


def word_queries(key: str) -> tuple[list[list[Slot]], list[list[Slot]]]:
    """Return the (strict, relaxed) queries for a name key.

    Each query is a list of alternatives, each alternative a list of slots
    that must all match. A slot with no phrase makes its alternative void.
    """
    vocabulary = _vocabulary()
    words = key.split()[:MAX_QUERY_WORDS]
    slots = [_slot(word, vocabulary) for word in words]
    strict = [slots]
    for i in range(len(words) - 1):
        joined = [(w,) for w in _expand(words[i] + words[i + 1], vocabulary)]
        strict.append([*slots[:i], joined, *slots[i + 2 :]])
    relaxed = []
    if len(slots) > 1:
        relaxed = [slots[:i] + slots[i + 1 :] for i in range(len(slots))]

    def usable(query: list[list[Slot]]) -> list[list[Slot]]:
        return [alt for alt in query if alt and all(alt)]

    return usable(strict), usable(relaxed)


def _fts5(query: list[list[Slot]]) -> str:
    """Render a query in FTS5 syntax: "w" phrases, AND, OR."""
    alternatives = dict.fromkeys(
        " AND ".join(
            "(" + " OR ".join('"' + " ".join(p) + '"' for p in slot) + ")"
            for slot in alt
        )
        for alt in query
    )
    return " OR ".join(f"({a})" for a in alternatives)


def _tsquery(query: list[list[Slot]]) -> str:
    """Render a query as a PostgreSQL tsquery: <-> phrases, &, |."""
    alternatives = dict.fromkeys(
        " & ".join(
            "(" + " | ".join("(" + " <-> ".join(p) + ")" for p in slot) + ")"
            for slot in alt
        )
        for alt in query
    )
    return " | ".join(f"({a})" for a in alternatives)


_PG_VECTOR = "to_tsvector('simple'::regconfig, registry_resident.name_key)"


def _ranked_ids(
    qs: QuerySet[Resident], query: list[list[Slot]], limit: int
) -> list[Candidate]:
    if not query:
        return []
    if connection.vendor == "postgresql":
        tsq = _tsquery(query)
        found = qs.extra(  # noqa: S610 - fixed SQL; the query is a parameter
            where=[f"{_PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"],
            params=[tsq],
        ).annotate(
            # Normalisation 2: divided by the length, so "Siti" ranks "Siti"
            # before "Siti Aminah Binti Ahmad".
            rank=RawSQL(  # noqa: S611 - fixed SQL; the query is a parameter
                f"ts_rank({_PG_VECTOR}, to_tsquery('simple'::regconfig, %s), 2)",
                (tsq,),
            )
        )
        found = found.order_by("-rank", "id")
    else:
        found = qs.extra(  # noqa: S610 - fixed SQL; the query is a parameter
            tables=[_WORDS],
            where=[f"{_WORDS}.rowid = registry_resident.rowid", f"{_WORDS} MATCH %s"],
            params=[_fts5(query)],
            order_by=[f"{_WORDS}.rank"],
        )
    return list(found.values_list("id", "name_key")[:limit])


def whole_keys(key: str, strict: list[list[Slot]], limit: int) -> list[list[str]]:
    """Return whole name keys the strict query stands for, nearest first, in
    tiers of equal distance from `key` (the key itself left out).

    "sitti aminak" stands for "siti aminah", "siti amina", ...: looked up by
    equality on the name_key index, these find the people whose whole name
    was meant, however many share it, before any ranking.
    """
    keys: list[tuple[int, str]] = []
    for alternative in strict:
        firsts = [slot[:KEY_CHOICES] for slot in alternative]
        for picks in itertools.product(*(range(len(f)) for f in firsts)):
            words = " ".join(" ".join(f[i]) for f, i in zip(firsts, picks, strict=True))
            keys.append((sum(picks), words))
    keys.sort()
    near = list(dict.fromkeys(k for _, k in keys if k != key))[:limit]
    tiers: dict[int, list[str]] = {}
    for other in near:
        tiers.setdefault(int(OSA.distance(key, other)), []).append(other)
    return [tiers[d] for d in sorted(tiers)]


def _by_keys(qs: QuerySet[Resident], keys: list[str], limit: int) -> list[Candidate]:
    """Return up to `limit` ids of people whose folded name is one of `keys`.

    Unordered: which of many namesakes comes is of no matter (they score the
    same), and an ORDER BY would make the database fetch every one of them.
    """
    if not keys or limit <= 0:
        return []
    found = (
        qs.filter(name_key=keys[0]) if len(keys) == 1 else qs.filter(name_key__in=keys)
    )
    return list(found.order_by().values_list("id", "name_key")[:limit])


def _candidates(qs: QuerySet[Resident], key: str) -> list[Candidate]:
    """Return up to CANDIDATE_LIMIT ids, likeliest first.

    First the people whose whole folded name is the query (or a near
    spelling of it: equality on the name_key index, cheap however common the
    name), then the word index ranked (every word, then all but one).
    """
    strict, relaxed = word_queries(key)
    ids: list[Candidate] = []

    def add(more: list[Candidate]) -> None:
        seen = {pk for pk, _ in ids}
        ids.extend([c for c in more if c[0] not in seen][: CANDIDATE_LIMIT - len(ids)])

    add(_by_keys(qs, [key], CANDIDATE_LIMIT))
    for tier in whole_keys(key, strict, MAX_KEYS)[:KEY_TIERS]:
        if len(ids) >= CANDIDATE_LIMIT:
            break
        add(_by_keys(qs, tier, CANDIDATE_LIMIT - len(ids)))
    if len(ids) < CANDIDATE_LIMIT:
        add(_ranked_ids(qs, strict, CANDIDATE_LIMIT))
    # All words but one, only when nothing had them all: a pair of words is
    # cheap to intersect, but the holders of a common word are a large part
    # of the register, and ranking them costs.
    if relaxed and not ids:
        add(_ranked_ids(qs, relaxed, CANDIDATE_LIMIT))
    return ids


def _coverage(query_key: str, candidate_key: str) -> float:
    """Return how well the query's words are found among the candidate's (0-100),
    each query word weighed by its length."""
    words = candidate_key.split()
    if not words:
        return 0.0
    total = weight = 0.0
    for word in query_key.split():
        total += max(fuzz.ratio(word, w) for w in words) * len(word)
        weight += len(word)
    return total / weight if weight else 0.0


def score(query_key: str, candidate_key: str) -> float:
    """Return how well a candidate's key matches the query's key (0-100).

    Word by word, both ways: the query's words found in the name count most
    ("Siti Aminah" finds "Siti Aminah binti Ahmad" well), the name's words
    explained by the query less (so "Siti Aminah" itself comes first, and
    "Siti" alone well after). Spacing ("Nur Hayati" / "Nurhayati") counts
    when the letters all but agree. The plain ratio only breaks ties (the
    same words in another order come just after).
    """
    words = 0.75 * _coverage(query_key, candidate_key) + 0.25 * _coverage(
        candidate_key, query_key
    )
    spacing = fuzz.ratio(compact_key(query_key), compact_key(candidate_key))
    if spacing < SPACING_MIN:
        spacing = 0.0
    whole = fuzz.ratio(query_key, candidate_key)
    return 0.98 * max(words, spacing) + 0.02 * whole


def _row(values: dict[str, Any], today: datetime.date, score_: float) -> ResidentRow:
    return ResidentRow(
        id=values["id"],
        name=values["name"],
        nik=mask_nik(values["nik"]),
        kk_number=mask_nik(values["family__kk_number"]),
        sex=values["sex"],
        sex_label=str(Sex(values["sex"]).label) if values["sex"] else "",
        birth_date=values["birth_date"],
        age=age_on(values["birth_date"], today),
        village_code=values["village_id"],
        village_name=values["village__name"] or "",
        kecamatan_code=values["kecamatan_code"],
        status=values["status"],
        status_label=str(ResidentStatus(values["status"]).label),
        score=round(score_, 1),
    )


def _page_number(page: int, total: int, per_page: int) -> int:
    last = max(1, math.ceil(total / per_page))
    return min(max(1, int(page)), last)


def search_residents(
    actor: Actor,
    query: str,
    *,
    kecamatan: str | None = None,
    desa: str | None = None,
    sex: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SearchPage:
    """Search the register within the actor's scope; return one page, best first."""
    actor.require_role(*READ_ROLES)
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    text = (query or "").strip()
    filters = {
        "kecamatan": kecamatan,
        "desa": desa,
        "sex": sex,
        "age_min": age_min,
        "age_max": age_max,
        "status": status,
    }
    qs = _filtered(actor, **filters)
    filters = {k: v for k, v in filters.items() if v not in (None, "")}
    today = timezone.localdate()
    number = _NUMBER_SEPARATORS.sub("", text)
    if number.isdigit():
        if len(number) != 16:
            raise BalaiError(
                "NIK dan nomor KK terdiri atas 16 angka.",
                code="number_length",
                extra={"digits": len(number)},
            )
        by_nik = list(qs.filter(nik=number).values(*_ROW_FIELDS)[:1])
        kind = "nik"
        found = by_nik
        if not by_nik:
            kind = "kk"
            found = list(
                qs.filter(family__kk_number=number)
                .order_by("shdk", "birth_date", "id")
                .values(*_ROW_FIELDS)
            )
        number_ = _page_number(page, len(found), per_page)
        start = (number_ - 1) * per_page
        rows = [_row(v, today, 100.0) for v in found[start : start + per_page]]
        return SearchPage(
            query=mask_nik(number),
            kind=kind,
            rows=rows,
            number=number_,
            per_page=per_page,
            total=len(found),
            filters=filters,
        )

    key = name_key(text)
    if len(compact_key(key)) < MIN_QUERY_LETTERS:
        raise BalaiError(
            "Ketik sedikitnya 3 huruf nama, atau 16 angka NIK/nomor KK.",
            code="query_too_short",
        )
    candidates = _candidates(qs, key)
    scored = [(score(key, found), found, pk) for pk, found in candidates]
    scored = [c for c in scored if c[0] >= MIN_SCORE]
    scored.sort(key=lambda c: (-c[0], c[1], str(c[2])))
    number_ = _page_number(page, len(scored), per_page)
    start = (number_ - 1) * per_page
    shown = scored[start : start + per_page]
    # Only the page's rows are read whole (with desa and KK number).
    values = {
        v["id"]: v
        for v in Resident.objects.filter(pk__in=[pk for *_, pk in shown]).values(
            *_ROW_FIELDS
        )
    }
    rows = [_row(values[pk], today, s) for s, _, pk in shown if pk in values]
    return SearchPage(
        query=text,
        kind="name",
        rows=rows,
        number=number_,
        per_page=per_page,
        total=len(scored),
        filters=filters,
        capped=len(candidates) >= CANDIDATE_LIMIT,
    )


def add_words(keys: list[str]) -> None:
    """Put the words of these name keys in the PostgreSQL vocabulary now, each
    in the statement's own transaction, as the insert trigger below would
    when their residents are written (the import's writers taking turns do
    this before a batch: a word the trigger inserted in a batch still
    waiting for its turn would make the batch before it wait for it). A word
    is kept even if its batch then fails: the vocabulary holds every word
    ever indexed, including words no resident bears any more."""
    if connection.vendor != "postgresql" or not keys:
        return
    if connection.in_atomic_block:
        raise RuntimeError("add_words runs outside a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_resident_word (word) "
            "SELECT DISTINCT w FROM unnest(%s::text[]) AS k, "
            "unnest(string_to_array(k, ' ')) AS w "
            "WHERE w <> '' ORDER BY 1 ON CONFLICT (word) DO NOTHING",
            [keys],
        )


# --- the index itself (migration 0002 installs it) ---------------------------------

_PG_INSTALL = (
    # The word index: a GIN over the words of name_key.
    "CREATE INDEX IF NOT EXISTS registry_resident_name_key_words "
    "ON registry_resident USING gin (to_tsvector('simple'::regconfig, name_key))",
    # The vocabulary: every word ever indexed, numbered (its max is the stamp).
    "CREATE TABLE IF NOT EXISTS registry_resident_word ("
    "seq bigserial PRIMARY KEY, word varchar(150) NOT NULL UNIQUE)",
    "CREATE OR REPLACE FUNCTION registry_resident_word_add() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO registry_resident_word (word) "
    "SELECT DISTINCT w FROM new_rows, "
    "unnest(string_to_array(new_rows.name_key, ' ')) AS w "
    "WHERE w <> '' ORDER BY 1 ON CONFLICT (word) DO NOTHING; "
    "RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS registry_resident_word_ins ON registry_resident",
    "CREATE TRIGGER registry_resident_word_ins AFTER INSERT ON registry_resident "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION registry_resident_word_add()",
    "DROP TRIGGER IF EXISTS registry_resident_word_upd ON registry_resident",
    "CREATE TRIGGER registry_resident_word_upd AFTER UPDATE ON registry_resident "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION registry_resident_word_add()",
    "INSERT INTO registry_resident_word (word) "
    "SELECT DISTINCT w FROM registry_resident, "
    "unnest(string_to_array(name_key, ' ')) AS w "
    "WHERE w <> '' ORDER BY 1 ON CONFLICT (word) DO NOTHING",
)
_PG_UNINSTALL = (
    "DROP TRIGGER IF EXISTS registry_resident_word_upd ON registry_resident",
    "DROP TRIGGER IF EXISTS registry_resident_word_ins ON registry_resident",
    "DROP FUNCTION IF EXISTS registry_resident_word_add()",
    "DROP TABLE IF EXISTS registry_resident_word",
    "DROP INDEX IF EXISTS registry_resident_name_key_words",
)
PG_TRIGGERS = ("registry_resident_word_ins", "registry_resident_word_upd")
_REBUILD = (
    "INSERT INTO registry_resident_words(registry_resident_words) VALUES ('rebuild')"
)

_WORDS_OF_NEW = (
    # The words of new.name_key as rows: name_key holds only a-z and single
    # spaces; quotes and backslashes are dropped anyway so the JSON holds.
    "INSERT OR IGNORE INTO registry_resident_word (word) SELECT value FROM "
    "json_each('[\"' || replace(replace(replace(new.name_key, '\\', ''), "
    "'\"', ''), ' ', '\",\"') || '\"]') WHERE value <> '';"
)
_SQLITE_INSTALL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS registry_resident_words USING fts5("
    "name_key, content='registry_resident', content_rowid='rowid', "
    "tokenize='ascii')",
    "DROP TABLE IF EXISTS registry_resident_words_vocab",
    "CREATE TABLE IF NOT EXISTS registry_resident_word "
    "(word TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS registry_resident_search_stamp "
    "(id INTEGER PRIMARY KEY, stamp INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO registry_resident_search_stamp (id, stamp) VALUES (1, 0)",
    # A new word changes the stamp: processes then read the vocabulary again.
    "DROP TRIGGER IF EXISTS registry_resident_word_ai",
    "CREATE TRIGGER registry_resident_word_ai "
    "AFTER INSERT ON registry_resident_word BEGIN "
    "UPDATE registry_resident_search_stamp SET stamp = random() WHERE id = 1; END",
    "DROP TRIGGER IF EXISTS registry_resident_words_ai",
    "CREATE TRIGGER registry_resident_words_ai "
    "AFTER INSERT ON registry_resident BEGIN "
    "INSERT INTO registry_resident_words(rowid, name_key) "
    "VALUES (new.rowid, new.name_key); " + _WORDS_OF_NEW + " END",
    "DROP TRIGGER IF EXISTS registry_resident_words_ad",
    "CREATE TRIGGER registry_resident_words_ad "
    "AFTER DELETE ON registry_resident BEGIN "
    "INSERT INTO registry_resident_words(registry_resident_words, rowid, name_key) "
    "VALUES ('delete', old.rowid, old.name_key); END",
    "DROP TRIGGER IF EXISTS registry_resident_words_au",
    "CREATE TRIGGER registry_resident_words_au "
    "AFTER UPDATE OF name_key ON registry_resident "
    "WHEN old.name_key IS NOT new.name_key BEGIN "
    "INSERT INTO registry_resident_words(registry_resident_words, rowid, name_key) "
    "VALUES ('delete', old.rowid, old.name_key); "
    "INSERT INTO registry_resident_words(rowid, name_key) "
    "VALUES (new.rowid, new.name_key); " + _WORDS_OF_NEW + " END",
    # Index the names written before the index existed.
    _REBUILD,
    "INSERT OR IGNORE INTO registry_resident_word (word) "
    "SELECT DISTINCT j.value FROM registry_resident AS new, "
    "json_each('[\"' || replace(replace(replace(new.name_key, '\\', ''), "
    "'\"', ''), ' ', '\",\"') || '\"]') AS j WHERE j.value <> ''",
)
_SQLITE_UNINSTALL = (
    "DROP TRIGGER IF EXISTS registry_resident_words_au",
    "DROP TRIGGER IF EXISTS registry_resident_words_ad",
    "DROP TRIGGER IF EXISTS registry_resident_words_ai",
    "DROP TRIGGER IF EXISTS registry_resident_word_ai",
    "DROP TABLE IF EXISTS registry_resident_words",
    "DROP TABLE IF EXISTS registry_resident_word",
    "DROP TABLE IF EXISTS registry_resident_search_stamp",
)
SQLITE_TRIGGERS = (
    "registry_resident_word_ai",
    "registry_resident_words_ai",
    "registry_resident_words_ad",
    "registry_resident_words_au",
)


def _execute(conn: Any, statements: tuple[str, ...]) -> None:
    with conn.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install_search_index(conn: Any = None) -> None:
    """Create the name index, or re-create what is missing, and fill it.

    Safe to run again (triggers are replaced with the current ones): a later
    migration that rebuilds registry_resident on SQLite (which drops its
    triggers) ends by calling this.
    """
    conn = conn or connection
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            # Creating an index that exists still fails inside a transaction
            # with pending trigger events: skip the index if it is there.
            cursor.execute("SELECT to_regclass('registry_resident_name_key_words')")
            has_index = cursor.fetchone()[0] is not None
        _execute(conn, _PG_INSTALL[1:] if has_index else _PG_INSTALL)
    elif conn.vendor == "sqlite":
        _execute(conn, _SQLITE_INSTALL)


def uninstall_search_index(conn: Any = None) -> None:
    conn = conn or connection
    if conn.vendor == "postgresql":
        _execute(conn, _PG_UNINSTALL)
    elif conn.vendor == "sqlite":
        _execute(conn, _SQLITE_UNINSTALL)


def rebuild_search_index() -> None:
    """Re-index every name (SQLite: after restoring a copy of the database)."""
    if connection.vendor == "sqlite":
        _execute(connection, (_REBUILD,))
