"""name_key: one key for the ways one Indonesian name is written."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balai.registry.names import compact_key, fold_word, name_key

# Each row: ways of writing one name that must give one key.
SAME_NAME = [
    # Muhammad and its abbreviations and transliterations
    (
        "Muhammad Rizki",
        "Muhamad Rizki",
        "Mohammad Rizki",
        "Mohamad Rizki",
        "Muhamat Rizki",
        "Mochammad Rizki",
        "Moch. Rizki",
        "Moh. Rizki",
        "Moh Rizki",
        "Muh. Rizki",
        "Mhd. Rizki",
        "M. Rizki",
        "M Rizki",
    ),
    # Nur / Noor, also at the start of a word
    ("Nur Hayati", "Noor Hayati", "Nour Hayati"),
    ("Nurhayati", "Noorhayati"),
    # Old spelling: oe -> u, dj -> j, tj -> c
    ("Soekarno", "Sukarno"),
    ("Djoko Santoso", "Joko Santoso"),
    ("Tjipto", "Cipto"),
    ("Soedjatmiko", "Sujatmiko"),
    # Doubled letters
    ("Abdullah", "Abdulah"),
    ("Sitti Aminah", "Siti Aminah"),
    ("Jamaluddin", "Jamaludin"),
    # A final -y is -i
    ("Hendy", "Hendi"),
    ("Rizky Ananda", "Rizki Ananda"),
    # Achmad / Akhmad / Ahmad, Qomariah / Komariah, Dzulkifli / Zulkifli
    ("Achmad Fauzi", "Akhmad Fauzi", "Ahmad Fauzi"),
    ("Qomariah", "Komariah"),
    ("Dzulkifli", "Zulkifli"),
    # Case, spacing and punctuation
    ("SITI  AMINAH", "siti aminah", " Siti Aminah "),
    ("Siti-Aminah", "Siti Aminah"),
    ("Ma'ruf", "Maruf"),
    # Accents
    ("Rénaldi", "Renaldi"),
    # Titles before, degrees after: not part of the name
    ("H. Abdul Rahman", "Abdul Rahman", "Hj. Abdul Rahman", "Drs. Abdul Rahman"),
    ("Prof. Dr. Ir. H. Ahmad Yani", "Ahmad Yani"),
    ("Siti Aminah, S.Pd.", "Siti Aminah", "Siti Aminah, S.Pd., M.Pd."),
    ("Siti Aminah S.Pd", "Siti Aminah"),
    ("Budi Santoso, S. Pd.", "Budi Santoso"),
    ("Abd. Rahman", "Abdul Rahman"),
]

# Names that must stay apart (a fold must not merge different people's names).
DIFFERENT = [
    ("Andi Baso", "Baso"),  # Andi (Bugis), Aji, Awang, Dayang are name parts
    ("Aji Muhammad Idris", "Muhammad Idris"),
    ("Awang Faroek", "Faroek"),
    ("Dayang Nurul", "Nurul"),
    ("Siti Aminah", "Siti Amina Putri"),
    ("Budi", "Rudi"),
    ("M", "Muhammad"),  # a lone initial is not Muhammad
]


@pytest.mark.parametrize("names", SAME_NAME, ids=[n[0] for n in SAME_NAME])
def test_spelling_variants_give_one_key(names):
    keys = {name_key(n) for n in names}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_names_stay_apart(a, b):
    assert name_key(a) != name_key(b)


def test_key_is_lower_case_words_single_spaced():
    assert name_key("  H. MOCH.  Soekarno ,  S.Pd. ") == "muhamad sukarno"


def test_titles_kept_when_they_are_the_whole_name():
    assert name_key("H.") == "h"
    assert name_key("S.Pd") == "spd"


def test_kutai_and_bugis_name_parts_stay():
    assert name_key("Andi Aji Awang Dayang") == "andi aji awang dayang"


def test_empty_and_punctuation_only():
    assert name_key("") == ""
    assert name_key(None) == ""  # type: ignore[arg-type]
    assert name_key(" .,- ") == ""


def test_compact_key_ignores_spacing():
    assert compact_key(name_key("Nur Hayati")) == compact_key(name_key("Nurhayati"))


def test_fold_word_matches_name_key_per_word():
    assert fold_word("noor") == "nur"
    assert fold_word("soekarno") == name_key("Soekarno")


_names = st.text(
    alphabet=st.sampled_from(list("abcdeghijklmnoqrstuwyzABCDJMNOQTY .,'-éÄ")),
    max_size=40,
)


@given(_names)
def test_name_key_is_stable(name):
    assert name_key(name_key(name)) == name_key(name)


@given(_names)
def test_name_key_ignores_case(name):
    assert name_key(name.upper()) == name_key(name.lower()) == name_key(name)


@given(_names)
def test_name_key_holds_only_letters_and_single_spaces(name):
    key = name_key(name)
    assert key == key.strip()
    assert "  " not in key
    assert all(c.isascii() and (c.isalpha() or c == " ") for c in key)
    assert key == key.lower()
