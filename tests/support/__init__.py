"""Test support: where the session's Kafka and Redis come from, and small produce/consume helpers.

Import as ``from tests.support.kafka import produce, consume_until`` (``tests/conftest.py`` puts the
repository root on ``sys.path``). Fixtures are defined in ``tests/conftest.py``: ``kafka_broker``,
``kafka_bootstrap``, ``redis_url`` and ``unique_topic_prefix``.
"""

from tests.support.kafka import KafkaTarget, Record, consume_until, produce, unique_name

__all__ = ["KafkaTarget", "Record", "consume_until", "produce", "unique_name"]
