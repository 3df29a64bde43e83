"""Verification of a semantic-cache candidate: refuse pairs whose answers differ although their embeddings agree.

Cosine similarity does not see the one word that changes the answer: a negation ("safe" / "unsafe"), a changed
number or date ("7am" / "7pm"), a swapped entity ("Paris" / "Rome"), a different scope ("full-time" / "part-time",
"the warranty" / "the extended warranty"). After the similarity threshold, a hit must pass these checks:

1. **cues**: negations, antonym pairs, numbers, times, dates, capitalised names and quantifier/scope words must agree;
2. **roles**: the same words in swapped roles ("from savings to current" / "from current to savings") are refused;
3. **wording**: the content words (compared by lemma, listed synonym or one typo) that only one side has tell what
   changed. None: a repeat (case, punctuation, filler, typos, word order). Some, in a **minimal pair** (the two
   questions are the same sentence but for those words, ``MINIMAL_PAIR_RATIO`` of the word sequence in common):
   the words *are* the difference, a swapped slot ("chicken" / "beef") or an added qualifier ("my child"),
   refused. Some, in a reworded question: a paraphrase, served at or above the stricter ``restructured_threshold``.

Everything here is plain string work on two short questions (tens of microseconds), measured in ``cache bench``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache
from itertools import pairwise

from gateway.semantic.lemmas import lemma, lemma_keys
from gateway.semantic.lexicon import (
    ANTONYM_PAIRS,
    CONJUNCTION_SUBJECTS,
    DAY_AND_MONTH_NAMES,
    DECREASING,
    DIGITS,
    DIRECTIONAL,
    FILLERS,
    INCREASING,
    IRREGULAR_NOT,
    NEGATING_PREFIXES,
    NEGATIONS,
    NUMBER_WORDS,
    PHRASES,
    QUANTIFIERS,
    STOPWORDS,
    SYNONYM_GROUPS,
)
from gateway.semantic.valence import leaning
from gateway.semantic.wordnet import opposites, synonyms

# Share of the two word sequences (lemmas, fillers dropped) in common from which a pair is one sentence with a
# slot changed. Tuned on data/cache_eval/dev.jsonl only: the swapped-slot traps there are all >= 0.62, the
# reworded paraphrases mostly below 0.6.
MINIMAL_PAIR_RATIO = 0.6

_WORD = re.compile(r"[a-z0-9£$€%]+(?:[.:,][0-9]+)*|[£$€%]")
_THOUSANDS = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:[.][0-9]+)?$")
_UNIT = re.compile(r"^([£$€]?)([0-9][0-9.,]*)(%?)$")
_PHRASE = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(PHRASES, key=len, reverse=True))) + r")\b")
_POSSESSIVE = re.compile(r"\b([a-z][a-z-]*)'s\b")
# Words whose "'s" is "is" or "has" ("what's", "it's"), not a possessive.
_IS_CONTRACTED = frozenset({
    "what", "it", "that", "there", "here", "who", "where", "how", "he", "she", "let", "when", "why", "this", "which",
    "everyone", "everything", "nothing", "something", "someone", "somebody", "nobody",
})  # fmt: skip
# Personal pronouns by person: "to me" and "my account" name the same party; "to them" another one.
_PERSON = {w: f"person_{n}" for n, group in enumerate((("i", "me", "my", "mine", "myself"), ("you", "your", "yours"),
           ("we", "us", "our", "ours"), ("they", "them", "their"), ("he", "him", "his"), ("she", "her", "hers")))
           for w in group}  # fmt: skip
_OBJECT_PRONOUNS = frozenset({"me", "you", "us", "them", "him", "her"})  # "to me": a party, unlike "to my ..."
_BEFORE_PRONOUN_ONE = frozenset({"a", "the", "this", "that", "which", "new", "other", "another", "each", "every"})
_CONTRACTIONS = {
    "n't": " not", "'s": " is", "'re": " are", "'m": " am", "'ve": " have", "'ll": " will", "'d": " would",
}  # fmt: skip


@cache
def _opposite_table() -> dict[str, frozenset[str]]:
    """The hand-made antonym pairs by word and by lemma (built on first use: lemmas load ``lemminflect``'s tables,
    and spaCy with them, tens of MB that a worker with no semantic caching never needs)."""
    found: dict[str, set[str]] = {}
    for left, right in ANTONYM_PAIRS:
        for one, other in ((left, right), (right, left)):
            found.setdefault(one, set()).update({other, lemma(other)})
            found.setdefault(lemma(one), set()).update({other, lemma(other)})
    return {word: frozenset(group) for word, group in found.items()}


@cache
def _synonym_table() -> dict[str, frozenset[str]]:
    """The hand-made synonym groups by lemma (built on first use, like :func:`_opposite_table`)."""
    found: dict[str, set[str]] = {}
    for group in SYNONYM_GROUPS:
        lemmas = {lemma(word) for word in group}
        for each in lemmas:
            found.setdefault(each, set()).update(lemmas - {each})
    return {word: frozenset(group) for word, group in found.items()}


def load() -> None:
    """Build the verifier's tables now (with the embedding model), so the first lookup does not pay for them."""
    _opposite_table(), _synonym_table()


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a candidate may be served, and if not, which check refused it."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    """The facts the checks compare, extracted once per question (and cached)."""

    words: tuple[str, ...]
    negations: int
    numbers: frozenset[str]
    names: frozenset[str]
    name_order: tuple[str, ...]  # the names in the order they are written ("from Octopus to British Gas")
    quantifiers: frozenset[str]
    content: frozenset[str]
    roles: frozenset[tuple[str, str]]
    possessors: frozenset[str]  # "my colleague's password": whose thing it is
    word_keys: frozenset[str]  # every lemma of every word (what the pair checks subtract)
    content_keys: frozenset[str]  # every lemma of every content word
    modifiers: tuple[tuple[str, str], ...]  # (noun, the noun right before it): "gas bill" -> ("bill", "gas")
    frame: tuple[str, ...]  # every word's lemma, fillers dropped: what a minimal pair shares
    leanings: tuple[tuple[frozenset[str], str], ...]  # (keys, "+" or "-") of each content word VADER rates good or bad


@lru_cache(maxsize=16384)
def analyse(text: str) -> Question:
    """Extract the compared facts of a question."""
    words = tuple(_words(text))
    names = _names(text)
    content = frozenset(w for w in words if w not in STOPWORDS and w not in NEGATIONS and not _is_number(w))
    return Question(
        words=words,
        negations=sum(1 for w in words if w in NEGATIONS),
        numbers=frozenset(_as_number(w) for i, w in enumerate(words) if _is_number(w) and not _adverbial(words, i)),
        names=frozenset(names),
        name_order=tuple(dict.fromkeys(names)),
        quantifiers=frozenset(w for w in words if w in QUANTIFIERS),
        content=content,
        roles=frozenset(_roles(words)),
        possessors=_possessors(text),
        word_keys=_keys(words),
        content_keys=_keys(content),
        modifiers=_noun_modifiers(words, content),
        frame=tuple(_as_number(w) if _is_number(w) else lemma(w) for w in words if w not in FILLERS),
        leanings=tuple((keys, kind) for w in sorted(content) if (kind := leaning(keys := lemma_keys(w)))),
    )


def verify(cached: str, query: str, similarity: float, *, restructured_threshold: float) -> Verdict:
    """Whether the answer cached for ``cached`` may answer ``query`` (their cosine similarity given)."""
    a, b = analyse(cached), analyse(query)
    if a.negations != b.negations:
        return Verdict(False, "negation")
    if a.numbers != b.numbers:
        return Verdict(False, "number_or_date")
    if a.quantifiers != b.quantifiers:
        return Verdict(False, "scope")
    if not (_names_covered(a.names, b.words) and _names_covered(b.names, a.words)):
        return Verdict(False, "entity")
    if _reordered(a.name_order, b.name_order):
        return Verdict(False, "role_swap")
    if not (_possessors_covered(a, b) and _possessors_covered(b, a)):
        return Verdict(False, "scope")
    if _opposed(a.words, b.words) or _wordnet_opposed(a, b) or _direction_flipped(a, b):
        return Verdict(False, "antonym")
    if _valence_flipped(a, b):
        return Verdict(False, "polarity")
    if _modifier_swapped(a, b):
        return Verdict(False, "substitution")
    if _swapped(a.roles, b.roles) or _direction_swapped(a, b) or (a.roles != b.roles and a.content == b.content):
        return Verdict(False, "role_swap")
    only_a, only_b = _unmatched(a, b), _unmatched(b, a)
    if not only_a and not only_b:
        return Verdict(True)
    if minimal_pair(a, b):
        return Verdict(False, "substitution" if only_a and only_b else "added_qualifier")
    if similarity < restructured_threshold:
        return Verdict(False, "restructured_below_threshold")
    return Verdict(True)


def minimal_pair(a: Question, b: Question) -> bool:
    """Whether the two questions are one sentence with a slot changed (most of their word sequence in common)."""
    return SequenceMatcher(None, a.frame, b.frame, autojunk=False).ratio() >= MINIMAL_PAIR_RATIO


def _possessors(text: str) -> frozenset[str]:
    """The lemmas of the words before a possessive "'s" ("my colleague's password" -> colleague), not "what's"."""
    found = _POSSESSIVE.finditer(text.lower().replace("\u2019", "'"))
    return frozenset(lemma(m.group(1)) for m in found if m.group(1) not in _IS_CONTRACTED)


def _possessors_covered(a: Question, b: Question) -> bool:
    """Whether every possessor of ``a`` ("my colleague's password") is a word of ``b`` too (by lemma): whose thing
    is asked about is scope, refused even in a reworded question ("I forgot my password" / "reset my colleague's
    password"); "Australia's capital" / "the capital of Australia" keeps it."""
    return all(lemma_keys(p) & b.word_keys for p in a.possessors)


def _modifier_swapped(a: Question, b: Question) -> bool:
    """Whether a noun both questions ask about has a different noun in front of it on each side, neither found
    on the other side ("my gas bill" / "my electricity bill", "a season ticket" / "a return ticket"): a swapped slot
    even in a reworded question."""
    before_b = dict(b.modifiers)
    for head, modifier_a in a.modifiers:
        modifier_b = before_b.get(head)
        if modifier_b is None:
            continue
        keys_a, keys_b = lemma_keys(modifier_a), lemma_keys(modifier_b)
        if keys_a & keys_b or keys_a & b.content_keys or keys_b & a.content_keys:
            continue  # the same word, or the word is there elsewhere: reworded, not swapped
        if _synonymous(keys_a, keys_b):
            continue
        return True
    return False


def _noun_modifiers(words: tuple[str, ...], content: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """(content noun's lemma, the content noun right before it): "gas bill" -> ("bill", "gas")."""
    import lemminflect

    return tuple(
        (lemma(head), modifier)
        for modifier, head in pairwise(words)
        if head in content and modifier in content
        and "NOUN" in lemminflect.getAllLemmas(modifier) and "NOUN" in lemminflect.getAllLemmas(head)
    )  # fmt: skip


def _keys(words: tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    return frozenset().union(*(lemma_keys(w) for w in words)) if words else frozenset()


def _direction_flipped(a: Question, b: Question) -> bool:
    """Whether the words only one side has all say "more" and those only the other has all say "less" (or the
    reverse): "increase my credit limit" / "make my credit limit smaller"."""
    kinds_a, kinds_b = _directions(a.word_keys - b.word_keys), _directions(b.word_keys - a.word_keys)
    return len(kinds_a) == 1 and len(kinds_b) == 1 and kinds_a != kinds_b


def _valence_flipped(a: Question, b: Question) -> bool:
    """Whether the content words only one side has (by lemma) are all good and those only the other side has
    all bad, by the VADER lexicon: "improve my credit score" / "what will damage my credit rating", "accept the
    offer" / "refuse the offer". A side with both, or with neither, says nothing."""
    kinds_a = {kind for keys, kind in a.leanings if not keys & b.content_keys}
    kinds_b = {kind for keys, kind in b.leanings if not keys & a.content_keys}
    return len(kinds_a) == 1 and len(kinds_b) == 1 and kinds_a != kinds_b


def _directions(keys: frozenset[str]) -> set[str]:
    """Which of "more" (``+``) and "less" (``-``) the words of ``keys`` say."""
    return {kind for kind, words in (("+", INCREASING), ("-", DECREASING)) if keys & words}


def _wordnet_opposed(a: Question, b: Question) -> bool:
    """Whether a content word only one side has is a WordNet opposite of one only the other side has ("improve my
    score" / "worsen my score"). Stopwords are left to the hand-made list ("get" / "leave" is no question's flip)."""
    only_a = a.content_keys - b.content_keys - STOPWORDS
    only_b = b.content_keys - a.content_keys - STOPWORDS
    return any(not only_b.isdisjoint(opposites(word)) for word in only_a)


def _synonymous(keys: frozenset[str], others: frozenset[str]) -> bool:
    """Whether a lemma in ``keys`` has a synonym among ``others``: the hand-made groups first, then WordNet's."""
    table = _synonym_table()
    return any(not others.isdisjoint(table.get(key, ())) or not others.isdisjoint(synonyms(key)) for key in keys)


def _reordered(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether the names both questions have come in another order ("leaving British Gas for Octopus" /
    "move from Octopus to British Gas"): the same entities in swapped roles."""
    shared = set(a) & set(b)
    return len(shared) >= 2 and [n for n in a if n in shared] != [n for n in b if n in shared]


def _adverbial(words: tuple[str, ...], index: int) -> bool:
    """Whether a number word is used as no number: "once" as a conjunction ("once I've been here five years"),
    "first" closing the question ("without warning me first")."""
    word = words[index]
    following = words[index + 1] if index + 1 < len(words) else ""
    if word == "once":
        return following in CONJUNCTION_SUBJECTS
    return word == "first" and not following


def _words(text: str) -> list[str]:
    lowered = text.lower().replace("\u2019", "'")
    lowered = _PHRASE.sub(lambda m: PHRASES[m.group(0)], lowered)
    for contraction, expanded in IRREGULAR_NOT.items():
        lowered = lowered.replace(contraction, expanded)
    for suffix, expanded in _CONTRACTIONS.items():
        lowered = lowered.replace(suffix, expanded)
    words: list[str] = []
    # "non-members" / "self-employed" are split on the hyphen: the prefix stays a word of its own ("non", "self").
    for token in _WORD.findall(lowered.replace("-", " ")):
        unit = _UNIT.match(token)
        if unit and (unit.group(1) or unit.group(3)):  # "15%", "£50": number and unit, as in "fifty pounds"
            words += [unit.group(2), unit.group(1) or unit.group(3)]
        elif token == "one" and words and words[-1] in _BEFORE_PRONOUN_ONE:
            words.append("one_")  # "a new one", "which one": a pronoun, not a number
        else:
            words.append(_cue_spelling(token))
    return words


_CUE_WORDS = tuple(sorted({*DAY_AND_MONTH_NAMES, *QUANTIFIERS, *NUMBER_WORDS, *DIGITS} - {"%"}))
_CUE_SET = frozenset(_CUE_WORDS)
_CUES_BY_LENGTH: dict[int, tuple[str, ...]] = {
    n: tuple(c for c in _CUE_WORDS if len(c) == n and len(c) >= 5) for n in {len(c) for c in _CUE_WORDS}
}


@lru_cache(maxsize=4096)
def _cue_spelling(word: str) -> str:
    """A misspelt cue word ("mondys", "annul", "retrn") read as the cue, so the cue checks compare like with like."""
    if len(word) < 5 or word in _CUE_SET or not is_typo_candidate(word):
        return word
    near = (
        _CUES_BY_LENGTH.get(len(word) - 1, ())
        + _CUES_BY_LENGTH.get(len(word), ())
        + _CUES_BY_LENGTH.get(len(word) + 1, ())
    )
    return next((cue for cue in near if typo_of(word, cue)), word)


def _swapped(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> bool:
    """Whether a word follows one preposition on one side and another preposition on the other."""
    governed_a = {word: prep for prep, word in a}
    return any(word in governed_a and governed_a[word] != prep and (prep, word) not in a for prep, word in b)


def _roles(words: tuple[str, ...]) -> list[tuple[str, str]]:
    """(directional preposition, the content word after it): "from savings to current" != "from current to ..."."""
    found = []
    for index, word in enumerate(words):
        if word in DIRECTIONAL and not (word == "to" and _infinitive(words[index + 1 : index + 2])):
            following = next((w for w in words[index + 1 :] if w not in STOPWORDS or w in _OBJECT_PRONOUNS), "")
            found.append((word, _PERSON.get(following) or (_as_number(following) if _is_number(following)
                                                           else lemma(following))))  # fmt: skip
    return found


def _direction_swapped(a: Question, b: Question) -> bool:
    """Whether a preposition leads to another party on each side, each party found on the other side too: "send
    money to my partner" / "my partner sends money to me" (the same two parties, the other way round)."""
    present_a = {_PERSON.get(w) or lemma(w) for w in a.words}
    present_b = {_PERSON.get(w) or lemma(w) for w in b.words}
    to_a = {prep: word for prep, word in a.roles}
    return any(
        prep in to_a and to_a[prep] != word and to_a[prep] in present_b and word in present_a
        and (prep, to_a[prep]) not in b.roles
        for prep, word in b.roles
    )  # fmt: skip


def _infinitive(following: tuple[str, ...]) -> bool:
    """Whether "to" is followed by a verb ("OK to bring"), not by what something goes to."""
    import lemminflect

    known = lemminflect.getAllLemmas(following[0]) if following else {}
    return bool(known) and set(known) == {"VERB"}


def _names(text: str) -> list[str]:
    """Capitalised words that are not the first word and not a stopword: names of things (lowercased)."""
    if not any(c.islower() for c in text):
        return []  # "CAN I UPLOAD FILES?": capitals say nothing about names
    tokens = re.findall(r"\b[A-Za-z][A-Za-z0-9'&]*", text)
    found = []
    for index, token in enumerate(tokens):
        bare = token.split("'")[0]
        if index > 0 and bare[:1].isupper() and bare.lower() not in STOPWORDS and bare != "I":
            found.append(_cue_spelling(bare.lower()))
    return found


def _names_covered(names: frozenset[str], other_words: tuple[str, ...]) -> bool:
    present = set(other_words)
    other_keys = set().union(*(lemma_keys(w) for w in other_words)) if other_words else set()
    return all(
        name in present or lemma_keys(name) & other_keys or any(typo_of(name, w) for w in present) for name in names
    )


def _opposed(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    set_a, set_b = {*a, *map(lemma, a)}, {*b, *map(lemma, b)}
    table = _opposite_table()
    for word in set_a ^ set_b:
        own, other = (set_a, set_b) if word in set_a else (set_b, set_a)
        if table.get(word, frozenset()) & (other - own):  # "non-members" has both words on one side
            return True
        if word in STOPWORDS or len(word) < 3:
            continue  # "to" / "into" is no "in-" negation
        if any(word == p + o or o == p + word for o in other - own if len(o) >= 3 for p in NEGATING_PREFIXES):
            return True
    return False


@lru_cache(maxsize=16384)
def _is_number(word: str) -> bool:
    return (
        any(c.isdigit() for c in word)
        or word in NUMBER_WORDS
        or word in DIGITS
        or word in "£$€%"
        or (word.endswith("s") and word[:-1] in NUMBER_WORDS)  # "weekends", "thirds"
    )


def _as_number(word: str) -> str:
    """One spelling per number, day and unit: "fifteen" -> "15", "sundays" -> "sunday", "pounds" -> "£",
    "400,000" -> "400000"."""
    word = DIGITS.get(word, word)
    if _THOUSANDS.match(word):
        return word.replace(",", "")
    if word.endswith("s") and word[:-1] in NUMBER_WORDS:  # "sundays", "weekends"
        return word[:-1]
    return word


def _unmatched(a: Question, b: Question) -> set[str]:
    """Content words of ``a`` with no same-lemma, synonym or one-typo counterpart among the words of ``b``."""
    other_keys = b.content_keys
    missing = set()
    for word in a.content - b.content:
        keys = lemma_keys(word)
        if word in FILLERS or keys & other_keys:
            continue
        if _synonymous(keys, other_keys):
            continue
        if any(typo_of(word, o) for o in b.words):  # "wehre" / "where", "rmeote" / "remote"
            continue
        missing.add(lemma(word))
    return missing


@lru_cache(maxsize=65536)
def typo_of(word: str, other: str) -> bool:
    """Whether ``word`` reads as a misspelling of ``other``: one edit apart, and not two real words
    ("hotel" / "hostel" is a swap, "hotle" / "hotel" a typo). Substitutions count from five letters on
    ("cold" / "gold"), an inserted, dropped or transposed letter from four ("waht" / "what")."""
    if word == other or abs(len(word) - len(other)) > 1 or max(len(word), len(other)) < 4:
        return False
    if not (is_typo_candidate(word) or is_typo_candidate(other)):
        return False
    if len(word) == len(other) and len(word) < 5 and sorted(word) != sorted(other):
        return False
    return _one_edit(word, other)


@lru_cache(maxsize=32768)
def is_typo_candidate(word: str) -> bool:
    """Whether ``word`` is no English word the lemma tables know (so it may be a misspelling)."""
    import lemminflect

    return word not in STOPWORDS and not lemminflect.getAllLemmas(word)


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one insertion, deletion, substitution or transposition."""
    if a == b:
        return True
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    if abs(len(a) - len(b)) != 1:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
