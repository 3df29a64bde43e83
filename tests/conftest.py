"""Session fixtures: a real Kafka broker and a real Redis (see ``tests/support``), and unique topic names.

- ``kafka_broker`` -> :class:`tests.support.kafka.KafkaTarget` (``.kind`` is "external", "container" or
  "embedded"; exactly-once needs Apache Kafka, so such tests skip on "embedded").
- ``kafka_bootstrap`` -> ``"host:port"`` of that broker.
- ``redis_url`` -> a Redis that answers PING (fails the test with a clear message when there is none).
- ``unique_topic_prefix`` -> a per-test prefix such as ``"test-round-trip-1a2b3c4d5e."``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # lets `import tests.support` work under a bare `pytest` too
    sys.path.insert(0, str(ROOT))

from tests.support.kafka import KafkaTarget, kafka_session, unique_name  # noqa: E402
from tests.support.redis import RedisUnavailable, redis_session  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the chaos suite (``tests/chaos``, minutes long) out unless ``-m`` names it (``make chaos``)."""
    if "chaos" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("chaos") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaTarget]:
    """The session's Kafka broker: external, a testcontainers Kafka, or an embedded Tansu broker."""
    with kafka_session(tmp_path_factory.mktemp("kafka")) as target:
        yield target


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaTarget) -> str:
    """Bootstrap servers of the session's Kafka broker."""
    return kafka_broker.bootstrap_servers


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis URL that answers: ``REDIS_URL``/the default, else a private ``redis-server``; never a mock."""
    session = redis_session(tmp_path_factory.mktemp("redis"))
    try:
        url = session.__enter__()
    except RedisUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield url
    finally:
        session.__exit__(None, None, None)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the session's Redis for one test, closed after it."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def unique_topic_prefix(request: pytest.FixtureRequest) -> str:
    """A topic-name prefix unique to this test (ends with a dot), e.g. ``f"{prefix}requests"``."""
    return unique_name(request.node.name) + "."
