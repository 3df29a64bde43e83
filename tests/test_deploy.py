"""The compose stack and its Prometheus config, checked without Docker (which cannot run here): the files parse,
refer only to files that exist, bring up the services the README names, and alert only on exported metrics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from streams.runtime import metrics

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PROMETHEUS: dict[str, Any] = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
RULES: dict[str, Any] = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())


def mounts() -> dict[str, Path]:
    """Container path -> host path of every bind mount in the compose file."""
    found = {}
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                found[target] = ROOT / source
    return found


def test_compose_brings_up_kafka_kraft_redis_the_simulator_two_workers_prometheus_and_grafana() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"kafka", "redis", "simulator", "worker-1", "worker-2", "prometheus", "grafana"}
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:") and "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert "ZOOKEEPER" not in str(kafka)
    for name in ("worker-1", "worker-2"):
        worker = services[name]
        assert worker["command"] == ["worker"] and "/ready" in " ".join(worker["healthcheck"]["test"])
        assert worker["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_compose_refers_only_to_files_that_exist() -> None:
    for name, service in COMPOSE["services"].items():
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            assert (context / "Dockerfile").is_file(), name
    assert mounts(), "no bind mounts found"
    for target, source in mounts().items():
        assert source.exists(), f"{target} is mounted from {source}, which does not exist"


def test_prometheus_scrapes_both_workers_and_loads_the_mounted_alert_rules() -> None:
    targets = PROMETHEUS["scrape_configs"][0]["static_configs"][0]["targets"]
    assert sorted(targets) == ["worker-1:6066", "worker-2:6066"]
    files = mounts()
    for rule_file in PROMETHEUS["rule_files"]:
        assert rule_file in files, f"{rule_file} is not mounted into the Prometheus container"
        assert files[rule_file].resolve() == (ROOT / "deploy/prometheus/alerts.yml").resolve()


def test_the_alert_rules_cover_the_failures_and_name_only_exported_metrics() -> None:
    rules = [rule for group in RULES["groups"] for rule in group["rules"]]
    suffixes = ("", "_total", "_bucket", "_count", "_sum")
    exported = {family.name + suffix for family in metrics.REGISTRY.collect() for suffix in suffixes}
    for rule in rules:
        assert rule["alert"].startswith("Streamgate") and rule["annotations"]["summary"], rule
        used = set(re.findall(r"\b(streamgate_[a-z_]+)", rule["expr"]))
        assert used <= exported, (rule["alert"], used - exported)
    covered = " ".join(rule["expr"] for rule in rules)
    for metric in ("breaker_open", "provider_attempts", "consumer_lag", "dead_letters", "budget_alerts"):
        assert f"streamgate_{metric}" in covered, metric
