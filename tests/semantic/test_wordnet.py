"""The WordNet tables: built from WordNet's own file format, and the shipped tables answer as WordNet does."""

from __future__ import annotations

from pathlib import Path

from gateway.semantic import wordnet
from gateway.semantic.wordnet_build import frequent_senses, opposites, read_synsets, synonyms, write

# Three verb synsets in WordNet's data format: {better, improve} <-antonym-> {worsen}, and {bribe, buy}, a sense
# of "buy" too rare to make "bribe" its synonym.
VERBS = (
    "00000001 30 v 02 better 0 improve 0 001 ! 00000002 v 0101 | to make better\n"
    "00000002 30 v 01 worsen 0 001 ! 00000001 v 0101 | to make worse\n"
    "00000003 40 v 02 bribe 0 buy 0 000 | make illegal payments to\n"
    "00000004 40 v 02 buy 0 purchase 0 000 | obtain by purchase\n"
)
SENSES = (
    "better%2:30:00:: 00000001 1 4\nimprove%2:30:00:: 00000001 1 9\nworsen%2:30:00:: 00000002 1 3\n"
    "bribe%2:40:00:: 00000003 1 2\nbuy%2:40:01:: 00000003 2 1\nbuy%2:40:00:: 00000004 1 100\n"
    "purchase%2:40:00:: 00000004 1 20\n"
)


def wordnet_dict(folder: Path) -> Path:
    for name in ("noun", "adj", "adv"):
        (folder / f"data.{name}").write_text("  1 licence header line\n")
    (folder / "data.verb").write_text("  1 licence header line\n" + VERBS)
    (folder / "index.sense").write_text(SENSES)
    return folder


def test_antonym_pointers_oppose_every_word_of_both_synsets(tmp_path: Path) -> None:
    table = opposites(read_synsets(wordnet_dict(tmp_path)))
    assert table["improve"] == {"worsen"} and table["better"] == {"worsen"}
    assert table["worsen"] == {"better", "improve"}
    assert "buy" not in table


def test_synonyms_need_a_frequent_sense_of_both_words(tmp_path: Path) -> None:
    folder = wordnet_dict(tmp_path)
    table = synonyms(read_synsets(folder), frequent_senses(folder))
    assert table["buy"] == {"purchase"}  # "bribe" shares only buy's rare sense (1 of 101 uses)
    assert table["improve"] == {"better"}


def test_tables_are_written_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "table.txt.gz"
    write({"improve": {"worsen", "aggravate"}, "empty": set()}, path)
    assert wordnet._table(path) == {"improve": ("aggravate", "worsen")}


def test_the_shipped_tables_answer_as_wordnet_does() -> None:
    assert {"worsen", "aggravate"} <= set(wordnet.opposites("improve"))
    assert "expensive" in wordnet.opposites("cheap")
    assert "shop" in wordnet.synonyms("store") and "purchase" in wordnet.synonyms("buy")
    assert "bribe" not in wordnet.synonyms("buy") and wordnet.opposites("zzzz") == ()
