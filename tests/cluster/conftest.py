"""pytest fixtures for replicated clusters: quiverd members (the binary
named by $QUIVERD) sharing a changelog topic on librdkafka's mock Kafka
cluster of 3 brokers, every port on loopback."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kafka_mock import KafkaMock  # noqa: E402
from quiverd import Quiverd, wait_for  # noqa: E402,F401  (re-exported to the tests)

TOPIC = "quiver-changelog"
PARTITIONS = 8


class Cluster:
    """A mock Kafka and members joined to one changelog topic."""

    def __init__(self, kafka, topic):
        self.kafka = kafka
        self.topic = topic
        self.members = []

    def add(self, replica_id=None, data_dir=None, extra=()):
        replica_id = replica_id or f"r{len(self.members) + 1}"
        member = Quiverd("--kafka-brokers", self.kafka.bootstrap, "--cluster-topic", self.topic,
                         "--replica-id", replica_id, "--kafka-config",
                         "topic.metadata.refresh.interval.ms=1000", *extra, data_dir=data_dir)
        self.members.append(member)
        return member

    def stop(self):
        for m in self.members:
            if m.proc.poll() is None:
                m.stop()


@pytest.fixture
def cluster():
    """Three members on a fresh topic (each test its own)."""
    kafka = KafkaMock(brokers=3, topics=[(TOPIC, PARTITIONS)])
    c = Cluster(kafka, TOPIC)
    for _ in range(3):
        c.add()
    yield c
    c.stop()
    kafka.stop()
