"""The price source (genai-prices, offline), config overrides and unknown prices."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest
from pydantic import ValidationError

from gateway.catalog import ModelSpec
from gateway.limits.policy import Limits
from gateway.limits.unpriced import unpriced_refusal
from gateway.price_source import SOURCE, listed_price
from gateway.pricing import PricingSettings, cost_usd, price_of, worst_case_usd
from gateway.token_counts import TokenCounts
from schemas.codes import ErrorCode


def test_the_source_is_the_pinned_package_version() -> None:
    assert SOURCE == "genai-prices@0.2.3"


def test_prices_load_with_every_network_connection_refused() -> None:
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network used")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from gateway.settings import load_settings
        from gateway.pricing import price_of
        settings = load_settings()
        print(sorted(name for name, spec in settings.models.items() if price_of(spec) is not None))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['claude-3-5-haiku', 'claude-sonnet-4', 'gpt-4o', 'gpt-4o-mini', 'o4-mini']"


def test_a_negotiated_override_replaces_only_the_fields_it_sets() -> None:
    spec = ModelSpec(provider="openai", upstream="gpt-4o", input_usd_per_mtok=2.0)
    price = price_of(spec)
    assert price is not None and price.source == "config"
    assert (price.input.base, price.cached_input.base, price.output.base) == (Decimal("2.0"), Decimal("1.25"), 10)
    # 1,000 in (200 cached) + 100 out: 800 x 2.0 + 200 x 1.25 + 100 x 10 = 2,850 micro-USD.
    assert cost_usd(price, TokenCounts(1000, 200, 0, 100)) == pytest.approx(0.00285, abs=1e-12)


def test_any_model_the_source_knows_can_be_added_with_provider_and_upstream() -> None:
    spec = ModelSpec.model_validate({"provider": "openai", "upstream": "o3"})  # what [models."o3"] in TOML gives
    assert spec.context_window == 200_000
    price = price_of(spec)
    assert price is not None and price.source == SOURCE and price.input.base == Decimal("2")


def test_a_model_the_source_does_not_know_needs_a_context_window_and_has_no_price() -> None:
    with pytest.raises(ValidationError, match="context_window"):
        ModelSpec(provider="openai", upstream="ft:my-private-model")
    spec = ModelSpec(provider="openai", upstream="ft:my-private-model", context_window=8_000)
    assert listed_price("openai", "ft:my-private-model") is None and price_of(spec) is None
    priced = ModelSpec(
        provider="openai",
        upstream="ft:my-private-model",
        context_window=8_000,
        input_usd_per_mtok=1,
        output_usd_per_mtok=2,
    )
    price = price_of(priced)
    assert price is not None and price.cached_input.base == 1  # no discount assumed that nobody listed


def test_worst_case_prices_every_prompt_token_as_the_dearest_input_kind() -> None:
    price = price_of(ModelSpec(provider="anthropic", upstream="claude-sonnet-4-20250514"))
    # 1,000 prompt tokens as cache writes at $3.75 + 100 output at $15 = 3,750 + 1,500 micro-USD.
    assert worst_case_usd(price, 1000, 100, 75.0) == pytest.approx(0.00525, abs=1e-12)
    assert worst_case_usd(None, 1000, 100, 75.0) == pytest.approx(0.0825, abs=1e-12)


UNPRICED = ModelSpec(provider="openai", upstream="ft:unpriced", context_window=8_000)
PRICED = ModelSpec(provider="openai", upstream="gpt-4o-mini")


def test_the_reject_policy_refuses_unpriced_models_only_when_a_usd_budget_applies() -> None:
    reject = PricingSettings(unknown_policy="reject")
    budget, free = Limits(usd_per_day=5.0), Limits()
    refusal = unpriced_refusal([PRICED, UNPRICED], [free, budget], reject)
    assert refusal is not None and refusal.code is ErrorCode.PRICE_UNKNOWN and "ft:unpriced" in refusal.message
    assert unpriced_refusal([PRICED, UNPRICED], [free, free], reject) is None
    assert unpriced_refusal([PRICED], [budget], reject) is None
    assert unpriced_refusal([UNPRICED], [budget], PricingSettings(unknown_policy="reserve")) is None


def test_unpriced_catalog_models_are_listed_for_the_start_up_warning() -> None:
    from gateway.catalog import DEFAULT_MODELS
    from gateway.pricing import unpriced_models

    assert unpriced_models(DEFAULT_MODELS) == []
    assert unpriced_models({**DEFAULT_MODELS, "private": UNPRICED}) == ["private"]
