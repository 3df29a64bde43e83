"""Scoring with numpy: the classifier's char n-grams looked up as integers, all segments of a text at once.

The reference scorer (:meth:`guards.injection.model.InjectionModel.reference_scores`) builds every character
3-5-gram of every segment as a Python string, hashes it into a set and looks each one up in a 100k-entry dict,
once per segment and once more for the whole text: ~2-4 ms of CPU per KB, most of the guard's cost. Here each
character of the vocabulary's alphabet gets a small code (0 for a character no n-gram of the vocabulary holds), an
n-gram is its codes and its size packed into one ``uint64``, and the vocabulary's n-grams are one open-addressing
hash table (linear probing, a quarter full): the n-grams of all segments are built with a few shifts, looked up
with a few gathers, de-duplicated per segment with one sort and summed with ``np.bincount``. Segments are joined
with a code-0 separator, so no n-gram spans two of them; an n-gram holding a code 0 equals no vocabulary entry
(all of theirs are non-zero). Word features are few (~400 per KB) and stay dict lookups. The sums are the
reference's, added in another order (~1e-16 apart; ``tests/guards/test_injection_vectorized.py`` compares both).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from guards.injection.features import CHAR_SIZES, word_feature_list

IntArray = npt.NDArray[np.int64]
_SIZE_SHIFT = 60  # an n-gram's size sits above its packed codes, so a 4-gram is never read as a 3-gram
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of key * this pick the slot


@dataclass(frozen=True)
class VectorScorer:
    """The model's weights as arrays: words by a name -> index dict, character n-grams by packed codes."""

    word_index: dict[str, int]
    char_codes: npt.NDArray[np.uint64]  # code point -> character code (0: not in the vocabulary's alphabet)
    bits: int
    slot_keys: npt.NDArray[np.uint64]  # the hash table: packed n-gram per slot (0: empty)
    slot_ids: IntArray  # feature id per slot (-1: empty)
    size_bits: int  # log2(table size)
    probes: int  # the longest probe sequence of any key in the table
    dot: npt.NDArray[np.float64]  # feature id -> idf * coef
    norm: npt.NDArray[np.float64]  # feature id -> idf ** 2
    intercept: float

    @classmethod
    def build(cls, words: Mapping[str, complex], chars: Mapping[str, complex], intercept: float) -> VectorScorer | None:
        """The arrays for the two blocks (values as :class:`InjectionModel` keeps them: ``idf*coef + idf^2 j``);
        ``None`` when the char n-grams cannot be packed (sizes other than :data:`CHAR_SIZES`, or too many
        distinct characters for 60 bits), and the reference scorer is used."""
        alphabet = sorted({ch for name in chars for ch in name})
        bits = max(1, len(alphabet).bit_length())
        if any(len(name) not in CHAR_SIZES for name in chars) or bits * max(CHAR_SIZES) > _SIZE_SHIFT:
            return None
        char_codes = np.zeros(max(map(ord, alphabet), default=0) + 2, dtype=np.uint64)
        char_codes[[ord(ch) for ch in alphabet]] = np.arange(1, len(alphabet) + 1, dtype=np.uint64)
        names = list(chars)
        keys = np.zeros(len(names), dtype=np.uint64)
        for size in CHAR_SIZES:
            of_size = np.array([i for i, name in enumerate(names) if len(name) == size], dtype=np.int64)
            joined = "".join(names[i] for i in of_size).encode("utf-32-le", "surrogatepass")
            codes = char_codes[np.frombuffer(joined, dtype=np.uint32)].reshape(len(of_size), size)
            keys[of_size] = _packed([codes[:, i] for i in range(size)], bits)
        size_bits = max(4, (4 * len(chars)).bit_length())
        slot_keys, slot_ids, probes = _hash_table(keys, np.arange(len(names)) + len(words), size_bits)
        values = np.array([*words.values(), *chars.values()], dtype=np.complex128)
        return cls(
            word_index={name: i for i, name in enumerate(words)},
            char_codes=char_codes,
            bits=bits,
            slot_keys=slot_keys,
            slot_ids=slot_ids,
            size_bits=size_bits,
            probes=probes,
            dot=np.ascontiguousarray(values.real),
            norm=np.ascontiguousarray(values.imag),
            intercept=intercept,
        )

    def logits(self, pieces: Sequence[str], union: int) -> tuple[float, list[float]]:
        """The logit of the union of the first ``union`` pieces' features, and each piece's own logit (pieces are
        normalised text, as :func:`guards.injection.features.segments` gives them)."""
        seg_ids, feature_ids = self._found(pieces)
        if len(pieces) == 1:
            ids = _distinct(feature_ids)
            whole = float(self._group_logits(ids, np.zeros(len(ids), dtype=np.int64), 1)[0])
            return whole, [whole]
        width = len(self.dot)
        seg_of, ids = np.divmod(_distinct(seg_ids * width + feature_ids), width)
        # The union is one more group (number len(pieces)): the distinct features of its pieces.
        joint = _distinct(ids[seg_of < union])
        groups = np.concatenate([seg_of, np.full(len(joint), len(pieces), dtype=np.int64)])
        logits = self._group_logits(np.concatenate([ids, joint]), groups, len(pieces) + 1).tolist()
        return logits[-1], logits[:-1]

    def _group_logits(self, ids: IntArray, groups: IntArray, count: int) -> npt.NDArray[np.float64]:
        """Each group's logit over its distinct feature ids (``groups[i]`` is the group of ``ids[i]``): the
        intercept plus, per block that has a feature, the sum of idf*coef over the l2 norm of the idfs."""
        block = (ids >= len(self.word_index)).astype(np.int64)
        block += 2 * groups
        dots = np.bincount(block, weights=self.dot[ids], minlength=2 * count)
        norms = np.bincount(block, weights=self.norm[ids], minlength=2 * count)
        parts = np.divide(dots, np.sqrt(norms), out=np.zeros(2 * count), where=norms > 0)
        logits: npt.NDArray[np.float64] = self.intercept + parts[0::2] + parts[1::2]
        return logits

    def _found(self, parts: Sequence[str]) -> tuple[IntArray, IntArray]:
        """(segment, feature id) of every vocabulary feature present, repeats included."""
        names: list[str] = []
        counts: list[int] = []
        for part in parts:
            found = word_feature_list(part)
            names += found
            counts.append(len(found))
        word_ids = np.fromiter(map(self.word_index.get, names, itertools.repeat(-1)), np.int64, len(names))
        word_segs = np.repeat(np.arange(len(parts), dtype=np.int64), counts)
        known = word_ids >= 0
        padded = [f" {p} " for p in parts]
        points = np.frombuffer("\0".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = self.char_codes[np.minimum(points, len(self.char_codes) - 1)]
        lengths = np.array([len(p) + 1 for p in padded], dtype=np.int64)
        codes[np.cumsum(lengths)[:-1] - 1] = 0  # the separators
        position_seg = np.repeat(np.arange(len(parts), dtype=np.int64), lengths)
        grams: list[npt.NDArray[np.uint64]] = []
        for size in CHAR_SIZES:
            count = len(codes) - size + 1
            if count > 0:
                grams.append(_packed([codes[i : i + count] for i in range(size)], self.bits))
        if not grams:
            return word_segs[known], word_ids[known]
        char_segs, char_ids = self._lookup(
            np.concatenate(grams), np.concatenate([position_seg[: len(g)] for g in grams])
        )
        return np.concatenate([word_segs[known], char_segs]), np.concatenate([word_ids[known], char_ids])

    def _lookup(self, grams: npt.NDArray[np.uint64], segs: IntArray) -> tuple[IntArray, IntArray]:
        """The (segment, feature id) of each of ``grams`` that is in the table."""
        mask = np.uint64(len(self.slot_keys) - 1)
        slots = _slots(grams, self.size_bits)
        pending = np.arange(len(grams))
        found_segs: list[IntArray] = []
        found_ids: list[IntArray] = []
        for probe in range(self.probes + 1):
            at = (slots[pending] + np.uint64(probe)) & mask
            keys = self.slot_keys[at]
            hit = keys == grams[pending]
            found_ids.append(self.slot_ids[at[hit]])
            found_segs.append(segs[pending[hit]])
            pending = pending[(keys != 0) & ~hit]
            if not len(pending):
                break
        ids = np.concatenate(found_ids)
        real = ids >= 0  # a gram of all zero codes "finds" an empty slot
        return np.concatenate(found_segs)[real], ids[real]


def _packed(columns: Sequence[npt.NDArray[np.uint64]], bits: int) -> npt.NDArray[np.uint64]:
    """N-grams as integers (the hash table's keys): ``columns[i]`` holds each n-gram's i-th character code; the
    n-gram's size goes above the codes."""
    packed = columns[0].copy()
    for column in columns[1:]:
        packed <<= np.uint64(bits)
        packed |= column
    packed |= np.uint64(len(columns) << _SIZE_SHIFT)
    return packed


def _slots(keys: npt.NDArray[np.uint64], size_bits: int) -> npt.NDArray[np.uint64]:
    """Each key's home slot in a table of ``2**size_bits`` slots."""
    return (keys * _MULTIPLIER) >> np.uint64(64 - size_bits)


def _hash_table(
    keys: npt.NDArray[np.uint64], ids: IntArray, size_bits: int
) -> tuple[npt.NDArray[np.uint64], IntArray, int]:
    """An open-addressing table of ``keys`` (linear probing) and the longest probe sequence in it. Keys are placed
    in rounds: in round r every unplaced key tries its home slot + r and the first claimant of a free slot gets it,
    so every slot between a key's home and its own is taken (what a lookup, stopping at an empty slot, needs)."""
    mask = np.uint64((1 << size_bits) - 1)
    slot_keys = np.zeros(1 << size_bits, dtype=np.uint64)
    slot_ids = np.full(1 << size_bits, -1, dtype=np.int64)
    home = _slots(keys, size_bits)
    pending = np.arange(len(keys))
    probe = 0
    while len(pending):
        at = (home[pending] + np.uint64(probe)) & mask
        free = slot_keys[at] == 0
        claimed, first = np.unique(at[free], return_index=True)
        winners = pending[free][first]
        slot_keys[claimed] = keys[winners]
        slot_ids[claimed] = ids[winners]
        placed = np.zeros(len(keys), dtype=bool)
        placed[winners] = True
        pending = pending[~placed[pending]]
        probe += 1
    return slot_keys, slot_ids, max(0, probe - 1)


def _distinct(values: IntArray) -> IntArray:
    """The sorted distinct values (``np.unique`` without its hashing path, several times slower on these sizes)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
