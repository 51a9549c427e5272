"""Possible duplicates in the register: find them, review them, merge them.

**Finding** (`find_pairs`). Comparing every resident with every other is
impossible at a million, so candidates come from blocks: residents who share
a blocking key. One wrong field must not hide a pair, so there are several
keys, each leaving out a different field:

- ``P``: sex, birth year, mother's and father's names (the person's own name
  and the day of birth free: typos, placeholder dates such as 1 January or
  31 December, a missing day);
- ``V``: sex, desa, birth year and the words of the name, sorted (any day,
  the words in any order);
- ``Q``: sex, desa, day and month *as a set* and the name's words (any year:
  a slip in the year; a day/month swap gives the same key);
- ``Y``: sex, birth year and a name of two words or more, sorted (anywhere
  in the regency);
- ``D``: sex, birth year, day and month as a set and the first three
  letters of one word of the name (one key per word: a typo or a dropped
  word leaves another word to meet on).

Names are compared by their folded key (`names.name_key`: spelling variants,
titles and "M." for Muhammad already folded). A block larger than
`MAX_BLOCK` says nothing about anyone (everyone called Muhammad born in
1990) and is skipped; the count is reported.

**Scoring** (rapidfuzz): name 40%, birth date 25%, parents 20%, desa 10%,
birth place 5%, less 0.15 when both records name both parents and they are
clearly other people; a pair scoring `THRESHOLD` or more is a candidate.

**Twins are not duplicates**: born the same day of the same parents with a
different given name (each has a name word the other lacks), or born the
same day in the same KK with names that differ by more than a slip (a word
added or dropped counts). Such pairs are never proposed.

**Merging** is a correction, never a deletion: the officer proposes that the
duplicate's status become *tidak valid*, with the kept record's id in the
correction's evidence (``ganda:<id>``), and a registrar who is not that
officer approves it (`approve_correction`). The correction event then carries
the pointer; both histories stay; the kept record gains nothing silently
(anything to take over from the duplicate is a correction of its own).
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from balai.audit.actions import record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, NotFound
from balai.registry.actions import (
    APPROVER_ROLES,
    BULK_ROLES,
    approve_correction,
    propose_correction,
    reject_correction,
)
from balai.registry.models import Resident, ResidentStatus
from balai.registry.models_digitisation import DuplicatePair, PairStatus
from balai.registry.names import name_key

ROLES = BULK_ROLES
THRESHOLD = 0.80
MAX_BLOCK = 150
WEIGHTS = {"name": 0.40, "date": 0.25, "parents": 0.20, "place": 0.10, "born": 0.05}
EVIDENCE_PREFIX = "ganda:"
MUHAMMAD = name_key("Muhammad")
# Two alike name words are two names when each is borne by at least
# NAME_WORD_MIN residents and the rarer by at least NAME_WORD_SHARE as many as
# the commoner (a slip of a common name repeats too, but far less often);
# counted only when at least NAME_STATS_MIN residents are compared.
NAME_WORD_MIN = 3
NAME_WORD_SHARE = 0.02
NAME_STATS_MIN = 10_000
# Parents named on both records who agree less than this are other people.
PARENTS_DIFFER = 0.75
PARENTS_PENALTY = 0.15


@dataclass(frozen=True)
class Person:
    """What the comparison reads of a resident (folded once)."""

    id: Any
    name: str  # folded key
    sex: str
    birth: datetime.date
    born_in: str  # folded birth place
    father: str  # folded
    mother: str  # folded
    village: str
    family: Any

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.name.split())


@dataclass
class Candidate:
    first: Any
    second: Any
    score: float
    reasons: dict[str, Any]


@dataclass
class Stats:
    residents: int = 0
    blocks: int = 0
    skipped_blocks: int = 0
    compared: int = 0
    twins: int = 0
    found: int = 0
    seconds: float = 0.0
    keys: dict[str, int] = field(default_factory=dict)


def fold_place(text: str) -> str:
    return " ".join(name_key(text or "").split())


def person_of(row: dict[str, Any] | Any) -> Person:
    get = row.get if isinstance(row, dict) else lambda n: getattr(row, n)
    return Person(
        id=get("id"),
        name=get("name_key") or name_key(get("name")),
        sex=get("sex"),
        birth=get("birth_date"),
        born_in=fold_place(get("birth_place")),
        father=name_key(get("father_name") or ""),
        mother=name_key(get("mother_name") or ""),
        village=get("village_id"),
        family=get("family_id"),
    )


# --- Blocking -----------------------------------------------------------------


KEY_KINDS = ("P", "V", "Q", "Y", "D")


def keys_of(p: Person, kind: str) -> list[tuple]:
    """The blocking keys of one kind a resident has (see the module's doc)."""
    birth = p.birth
    if kind == "P":
        if p.mother or p.father:
            return [("P", p.sex, birth.year, p.mother, p.father)]
        return []
    words = sorted(set(p.words))
    if not words:
        return []
    joined = " ".join(words)
    if kind == "V":
        return [("V", p.sex, p.village, birth.year, joined)]
    if kind == "Y":
        # Anywhere in the regency: only for names of two words or more (one
        # common word a year is everyone called Siti born that year).
        return [("Y", p.sex, birth.year, joined)] if len(words) > 1 else []
    day_month = (
        (birth.day, birth.month)
        if birth.day <= birth.month
        else (birth.month, birth.day)
    )
    if kind == "Q":
        return [("Q", p.sex, p.village, day_month, joined)]
    return [("D", p.sex, birth.year, day_month, w[:3]) for w in words if len(w) >= 2]


def blocking_keys(p: Person) -> Iterator[tuple]:
    for kind in KEY_KINDS:
        yield from keys_of(p, kind)


def _met_before(a: Person, b: Person, kinds: tuple[str, ...]) -> bool:
    """Whether a and b share a key of an earlier kind (compared there)."""
    return any(set(keys_of(a, kind)) & set(keys_of(b, kind)) for kind in kinds)


# --- Scoring ------------------------------------------------------------------


def _word_match(
    a: str, b: str, *, initials: bool = True, names: dict[str, int] | None = None
) -> bool:
    """The same name word but for a slip: an initial, one edit in a short
    word, two in a long one (Rizal and Rizki are two names). With
    `initials`, "muhamad" (how name_key reads "M.") may stand for any word
    beginning with M. With `names` (how many bear each word), two words
    that many bear are two names, however alike (Hasnawati, Hasniati); a
    slip makes a word few others bear."""
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    if initials and MUHAMMAD in (a, b):
        return a[0] == b[0]
    if names is not None:
        fewer, more = sorted((names.get(a, 0), names.get(b, 0)))
        if fewer >= NAME_WORD_MIN and fewer >= NAME_WORD_SHARE * more:
            return False
    shorter = min(len(a), len(b))
    if shorter <= 3:
        return False
    limit = 1 if shorter <= 6 else 2
    return OSA.distance(a, b, score_cutoff=limit) <= limit


def _unmatched(
    words: tuple[str, ...],
    others: tuple[str, ...],
    *,
    initials: bool = True,
    names: dict[str, int] | None = None,
) -> list[str]:
    """The words of one name that no word of the other accounts for, each
    word of the other used once (equal words first, then slips)."""
    left = list(others)
    rest = []
    for word in words:
        if word in left:
            left.remove(word)
        else:
            rest.append(word)
    unmatched = []
    for word in rest:
        for i, other in enumerate(left):
            if _word_match(word, other, initials=initials, names=names):
                del left[i]
                break
        else:
            unmatched.append(word)
    return unmatched


def name_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    best = max(fuzz.token_sort_ratio(a, b), 0.95 * fuzz.token_set_ratio(a, b))
    return best / 100.0


def date_score(a: datetime.date, b: datetime.date) -> float:
    if a == b:
        return 1.0
    if a.year == b.year:
        if (a.day, a.month) == (b.month, b.day):
            return 0.9  # day and month swapped
        if _placeholder(a) or _placeholder(b):
            return 0.75  # 1 January, 1 July or 31 December for "not known"
        if a.month == b.month:
            return 0.6  # the same month (an unknown day is often the 1st)
        return 0.3
    if abs(a.year - b.year) == 1 and (a.month, a.day) == (b.month, b.day):
        return 0.5  # a slip in the year
    return 0.0


def _placeholder(day: datetime.date) -> bool:
    return (day.month, day.day) in ((1, 1), (12, 31), (7, 1))


def _text_score(a: str, b: str) -> float | None:
    if not a or not b:
        return None
    return fuzz.ratio(a, b) / 100.0


def twins(a: Person, b: Person, names: dict[str, int] | None = None) -> bool:
    """Born the same day of the same parents, or in the same KK, with a given
    name that differs: two people, not one.

    With `names` (how many residents bear each name word), a given name
    "differs" only when each record has a word the other lacks that other
    people bear too: Rizal and Rizki are two names; Rusdi and Urshdi are one
    name and a slip of the keyboard.
    """
    if a.birth != b.birth:
        return False
    if a.family is not None and a.family == b.family and a.name != b.name:
        # Two members of one KK born the same day: twins unless every word of
        # each name is a word of the other but for a slip.
        return bool(
            _unmatched(a.words, b.words, initials=False, names=names)
            or _unmatched(b.words, a.words, initials=False, names=names)
        )
    parents = (_text_score(a.mother, b.mother), _text_score(a.father, b.father))
    known = [s for s in parents if s is not None]
    if not known or min(known) < 0.9:
        return False
    only_a = _unmatched(a.words, b.words, names=names)
    only_b = _unmatched(b.words, a.words, names=names)
    if not (only_a and only_b):
        return False
    if names is None:
        return True
    return any(names.get(w, 0) >= NAME_WORD_MIN for w in only_a) and any(
        names.get(w, 0) >= NAME_WORD_MIN for w in only_b
    )


def score(a: Person, b: Person) -> tuple[float, dict[str, float]]:
    parts: dict[str, float] = {
        "name": name_score(a.name, b.name),
        "date": date_score(a.birth, b.birth),
    }
    parents = (_text_score(a.mother, b.mother), _text_score(a.father, b.father))
    known = [s for s in parents if s is not None]
    parts["parents"] = sum(known) / len(known) if known else 0.5
    if a.village == b.village:
        parts["place"] = 1.0
    elif a.village.rsplit(".", 1)[0] == b.village.rsplit(".", 1)[0]:
        parts["place"] = 0.5
    else:
        parts["place"] = 0.2
    born = _text_score(a.born_in, b.born_in)
    parts["born"] = 0.5 if born is None else born
    total = sum(WEIGHTS[k] * v for k, v in parts.items())
    if len(known) == 2 and parts["parents"] < PARENTS_DIFFER:
        # Both records name both parents, and they are other people.
        total -= PARENTS_PENALTY
    return total, parts


def find_pairs(
    people: Iterable[Person],
    *,
    threshold: float = THRESHOLD,
    stats: Stats | None = None,
) -> list[Candidate]:
    """Return the candidate pairs among `people`, best first."""
    stats = stats if stats is not None else Stats()
    started = time.perf_counter()
    everyone: list[Person] = []
    names: dict[str, int] = defaultdict(int)
    for person in people:
        everyone.append(person)
        for word in set(person.words):
            names[word] += 1
    stats.residents = len(everyone)
    # How common a name word is says something only over many people; in a
    # small register every different word counts as a different name.
    common = names if len(everyone) >= NAME_STATS_MIN else None
    found: list[Candidate] = []
    key_hits: dict[str, int] = defaultdict(int)
    # One kind of key at a time (memory); a pair that met on an earlier kind
    # was compared there and is skipped.
    for position, kind in enumerate(KEY_KINDS):
        earlier = KEY_KINDS[:position]
        blocks: dict[int, list[int]] = defaultdict(list)
        for index, person in enumerate(everyone):
            for key in set(keys_of(person, kind)):
                blocks[hash(key)].append(index)
        stats.blocks += len(blocks)
        for members in blocks.values():
            size = len(members)
            if size < 2:
                continue
            if size > MAX_BLOCK:
                stats.skipped_blocks += 1
                continue
            for x in range(size):
                a = everyone[members[x]]
                for y in range(x + 1, size):
                    b = everyone[members[y]]
                    if earlier and _met_before(a, b, earlier):
                        continue
                    stats.compared += 1
                    total, parts = score(a, b)
                    if total < threshold:
                        continue
                    if twins(a, b, common):
                        stats.twins += 1
                        continue
                    key_hits[kind] += 1
                    first, second = (a, b) if str(a.id) < str(b.id) else (b, a)
                    found.append(
                        Candidate(
                            first.id,
                            second.id,
                            round(total, 4),
                            {"key": kind, **{k: round(v, 3) for k, v in parts.items()}},
                        )
                    )
        del blocks
    found.sort(key=lambda c: -c.score)
    stats.found = len(found)
    stats.keys = dict(key_hits)
    stats.seconds = time.perf_counter() - started
    return found


# --- Reading the register and recording pairs ---------------------------------

_FIELDS = (
    "id",
    "name_key",
    "sex",
    "birth_date",
    "birth_place",
    "father_name",
    "mother_name",
    "village_id",
    "family_id",
)


def residents(actor: Actor, *, kecamatan: str = "") -> Iterator[Person]:
    """The living residents the actor covers, folded for comparison."""
    qs = Resident.objects.filter(status=ResidentStatus.ALIVE).filter(
        actor.scope_q("village__code")
    )
    if kecamatan:
        qs = qs.filter(kecamatan_code=kecamatan)
    places: dict[str, str] = {}
    names: dict[str, str] = {}

    def fold(cache: dict[str, str], text: str, fn) -> str:
        found = cache.get(text)
        if found is None:
            found = cache[text] = fn(text)
        return found

    for row in qs.values_list(*_FIELDS).iterator(chunk_size=20000):
        pk, key, sex, birth, born_in, father, mother, village, family = row
        yield Person(
            id=pk,
            name=key,
            sex=sex,
            birth=birth,
            born_in=fold(places, born_in, fold_place),
            father=fold(names, father, name_key),
            mother=fold(names, mother, name_key),
            village=village,
            family=family,
        )


@action("registry.duplicates.record")
def record_pairs(*, actor: Actor, candidates: list[Candidate]) -> int:
    """Store candidate pairs for review (a pair already stored, whatever its
    state, is left as it is). Returns how many are new."""
    actor.require_role(*ROLES)
    before = DuplicatePair.objects.count()
    rows = [
        DuplicatePair(
            first_id=c.first,
            second_id=c.second,
            score=c.score,
            reasons=c.reasons,
        )
        for c in candidates
    ]
    DuplicatePair.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    added = DuplicatePair.objects.count() - before
    record_many(
        actor=actor,
        targets=[],
        summary={"candidates": len(candidates), "new_pairs": added},
    )
    return added


def pairs_for(
    actor: Actor, *, status: str = PairStatus.OPEN
) -> QuerySet[DuplicatePair]:
    """Pairs the actor may review: at least one of the two within his scope."""
    actor.require_role(*ROLES)
    qs = DuplicatePair.objects.select_related("first", "second", "kept", "correction")
    if actor.scope is not None:
        qs = qs.filter(
            Q(first__in=Resident.objects.filter(actor.scope_q("village__code")))
            | Q(second__in=Resident.objects.filter(actor.scope_q("village__code")))
        )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-score", "id")


def get_pair(actor: Actor, pair_id: Any) -> DuplicatePair:
    try:
        pk = uuid.UUID(str(pair_id))
    except ValueError as exc:
        raise NotFound() from exc
    pair = pairs_for(actor, status="").filter(pk=pk).first()
    if pair is None:
        raise NotFound()
    return pair


def _locked_pair(actor: Actor, pair: DuplicatePair) -> DuplicatePair:
    locked = (
        DuplicatePair.objects.select_for_update(of=("self",))
        .select_related("first", "second", "correction")
        .filter(pk=pair.pk)
        .first()
    )
    if locked is None or not (
        actor.covers(locked.first.village_id) or actor.covers(locked.second.village_id)
    ):
        raise NotFound()
    return locked


def _audit(actor: Actor, pair: DuplicatePair, **details: Any) -> None:
    record_many(
        actor=actor,
        targets=[pair],
        details=[{"status": pair.status, **details}],
        change=None,
    )


@action("registry.duplicates.propose_merge")
def propose_merge(
    *,
    actor: Actor,
    pair: DuplicatePair,
    keep: Resident | uuid.UUID | str,
    note: str = "",
) -> DuplicatePair:
    """Propose that the other resident of the pair become *tidak valid*,
    pointing at `keep`; a registrar who is not this officer approves it."""
    actor.require_role(*ROLES)
    pair = _locked_pair(actor, pair)
    if pair.status != PairStatus.OPEN:
        raise Conflict(_("Pasangan ini sudah ditinjau."))
    keep_id = keep.pk if isinstance(keep, Resident) else uuid.UUID(str(keep))
    if keep_id not in (pair.first_id, pair.second_id):
        raise BalaiError(
            _("Pilih salah satu dari kedua penduduk."), code="keep_invalid"
        )
    kept = pair.first if keep_id == pair.first_id else pair.second
    duplicate = pair.second if keep_id == pair.first_id else pair.first
    for person in (kept, duplicate):
        if person.status != ResidentStatus.ALIVE:
            raise Conflict(
                _("%(name)s tidak lagi berstatus hidup; tinjau ulang pasangan ini.")
                % {"name": person.name}
            )
    correction = propose_correction(
        actor=actor,
        resident=duplicate,
        field="status",
        new_value=ResidentStatus.INVALID,
        reason=(
            note.strip()
            or _("Data ganda: orang yang sama dengan %(name)s (NIK %(nik)s).")
            % {"name": kept.name, "nik": kept.nik or "-"}
        ),
        evidence=f"{EVIDENCE_PREFIX}{kept.pk} pasangan:{pair.pk}",
    )
    pair.status = PairStatus.PROPOSED
    pair.kept = kept
    pair.correction = correction
    pair.decided_by = actor.username
    pair.decided_at = timezone.now()
    pair.note = note.strip()
    pair.save()
    _audit(actor, pair, kept=str(kept.pk), duplicate=str(duplicate.pk))
    return pair


@action("registry.duplicates.approve_merge")
def approve_merge(
    *, actor: Actor, pair: DuplicatePair, note: str = ""
) -> DuplicatePair:
    """A registrar approves the merge another officer proposed: the duplicate
    becomes *tidak valid* through the correction event."""
    actor.require_role(*APPROVER_ROLES)
    pair = _locked_pair(actor, pair)
    if pair.status != PairStatus.PROPOSED or pair.correction_id is None:
        raise Conflict(_("Penggabungan pasangan ini tidak sedang diusulkan."))
    approve_correction(actor=actor, correction=pair.correction, note=note)
    pair.status = PairStatus.MERGED
    pair.save()
    _audit(actor, pair, correction=str(pair.correction_id))
    return pair


@action("registry.duplicates.reject_merge")
def reject_merge(*, actor: Actor, pair: DuplicatePair, note: str) -> DuplicatePair:
    """A registrar turns the proposed merge down; the pair is open again."""
    actor.require_role(*APPROVER_ROLES)
    pair = _locked_pair(actor, pair)
    if pair.status != PairStatus.PROPOSED or pair.correction_id is None:
        raise Conflict(_("Penggabungan pasangan ini tidak sedang diusulkan."))
    reject_correction(actor=actor, correction=pair.correction, note=note)
    pair.status = PairStatus.OPEN
    pair.kept = None
    pair.correction = None
    pair.note = note.strip()
    pair.save()
    _audit(actor, pair, rejected=True)
    return pair


@action("registry.duplicates.mark_distinct")
def mark_distinct(*, actor: Actor, pair: DuplicatePair, note: str) -> DuplicatePair:
    """Record that the two are different people (twins, namesakes)."""
    actor.require_role(*ROLES)
    pair = _locked_pair(actor, pair)
    if pair.status != PairStatus.OPEN:
        raise Conflict(_("Pasangan ini sudah ditinjau."))
    if not note.strip():
        raise BalaiError(_("Alasan wajib diisi."), code="note_required")
    pair.status = PairStatus.DISTINCT
    pair.decided_by = actor.username
    pair.decided_at = timezone.now()
    pair.note = note.strip()
    pair.save()
    _audit(actor, pair)
    return pair
