"""pytest fixtures for replicated clusters: quiverd members (the binary
named by $QUIVERD) sharing a changelog topic on librdkafka's mock Kafka
cluster of 3 brokers, every port on loopback."""

import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kafka_mock import KafkaMock  # noqa: E402
from quiverd import Quiverd, wait_for  # noqa: E402,F401  (re-exported to the tests)
from replicas import wait_caught_up  # noqa: E402

TOPIC = "quiver-changelog"
PARTITIONS = 8

# Feature views the feature-row suites write (test_feature_rows.py,
# test_clients.py).
DEFS = """
entities:
  - {name: user, keys: [user_id]}
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: profile
    entity: user
    fields:
      - {name: visits, type: int64}
      - {name: score, type: float64}
      - {name: name, type: string}
  - name: affinity
    entity: user_item
    fields:
      - {name: weight, type: float32}
"""

USERS = [f"u{i}" for i in range(12)]


# The mock broker answers a fetch only when fetch.wait.max.ms runs out, and
# each write waits for the member's fetch of its own record
# (docs/cluster.md): 1 ms instead of quiverd's 10 made the Release build's
# cluster suites three times faster. Not under the sanitizers: there the
# members' polling every millisecond took the CPU the tests beside them
# needed (CI's suites took longer, not shorter).
FETCH_WAIT_MS = 10 if os.environ.get("QUIVER_SANITIZE") else 1


class Cluster:
    """A mock Kafka and members joined to one changelog topic."""

    def __init__(self, kafka, topic):
        self.kafka = kafka
        self.topic = topic
        self.members = []

    def add(self, replica_id=None, data_dir=None, extra=(), caught_up=True):
        """A new member; once it has caught up with the changelog (it
        refuses reads until then), unless caught_up is False."""
        replica_id = replica_id or f"r{len(self.members) + 1}"
        member = Quiverd("--kafka-brokers", self.kafka.bootstrap, "--cluster-topic", self.topic,
                         "--replica-id", replica_id, "--kafka-config",
                         f"topic.metadata.refresh.interval.ms=1000,fetch.wait.max.ms={FETCH_WAIT_MS}",
                         *extra, data_dir=data_dir)
        self.members.append(member)
        if caught_up:
            wait_caught_up(member)
        return member

    def stop(self):
        for m in self.members:
            if m.proc.poll() is None:
                m.stop()


def three_members(*extra):
    """A fresh topic on a fresh mock Kafka, and three members started with
    `extra` arguments; stops them all after the test."""
    kafka = KafkaMock(brokers=3, topics=[(TOPIC, PARTITIONS)])
    c = Cluster(kafka, TOPIC)
    for _ in range(3):
        c.add(extra=extra)
    yield c
    c.stop()
    kafka.stop()


@pytest.fixture
def cluster():
    """Three members on a fresh topic (each test its own)."""
    yield from three_members()


@pytest.fixture
def defs_file():
    path = os.path.join(tempfile.mkdtemp(prefix="quiver-defs-"), "features.yaml")
    with open(path, "w") as f:
        f.write(DEFS)
    return path


@pytest.fixture
def feature_cluster(defs_file):
    """Three members started with the same definitions (DEFS)."""
    yield from three_members("--features", defs_file)
