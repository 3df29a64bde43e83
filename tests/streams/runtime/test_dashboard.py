"""The provisioned Grafana dashboard queries only metrics the workers export, and compose provisions it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streams.runtime import metrics

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "deploy/grafana/dashboards/streamgate.json"


def exported_names() -> set[str]:
    """Every series name the registry can expose (a family with no labelled child yet has no samples)."""
    suffixes = ("", "_total", "_bucket", "_count", "_sum")
    return {family.name + suffix for family in metrics.REGISTRY.collect() for suffix in suffixes}


def test_every_dashboard_query_names_an_exported_metric() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\b(streamgate_[a-z_]+)", expr)}
    assert used and used <= exported_names()
    for family in ("requests", "tokens", "cost_usd", "saved_usd", "consumer_lag", "guard_verdicts", "breaker"):
        assert any(family in name for name in used), family


def test_compose_provisions_prometheus_and_grafana_with_the_dashboard() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards" in compose
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in compose
    provider = (ROOT / "deploy/grafana/provisioning/dashboards/streamgate.yml").read_text()
    assert "/var/lib/grafana/dashboards" in provider
    targets = (ROOT / "deploy/prometheus/prometheus.yml").read_text()
    assert "worker-1:6066" in targets and "worker-2:6066" in targets
