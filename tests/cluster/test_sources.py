"""Kafka sources in a cluster: every member consumes a view's source topic
in a consumer group of its own and computes the same windows from the
same events, since windows depend on event time alone (kcat produces the
events from outside)."""

import json
import os
import subprocess
import tempfile

import pytest

from conftest import PARTITIONS, TOPIC, Cluster, KafkaMock, wait_for
from replicas import cli, rows_of

SOURCE_TOPIC = "watch-events"
DEFS = """
sources:
  - {name: watch_events, kafka: {topic: watch-events}, format: json, event_time: "$.ts"}
entities:
  - {name: user, keys: [user_id]}
views:
  - name: user_activity
    entity: user
    source: watch_events
    keys: {user_id: "$.userId"}
    fields:
      - {name: watches, type: int64, agg: count}
      - {name: count_1h, type: int64, agg: count, window: 1h, hop: 10m}
      - {name: minutes_2h, type: float64, agg: sum, of: "$.minutes", window: 2h, hop: 30m}
      - {name: last_item, type: string, agg: last, of: "$.itemId"}
"""
USERS = [f"u{i}" for i in range(20)]
EVENTS = 600


@pytest.fixture
def source_cluster():
    kafka = KafkaMock(brokers=3, topics=[(TOPIC, PARTITIONS), (SOURCE_TOPIC, 4)])
    defs = os.path.join(tempfile.mkdtemp(prefix="quiver-defs-"), "features.yaml")
    with open(defs, "w") as f:
        f.write(DEFS)
    c = Cluster(kafka, TOPIC)
    for _ in range(3):
        c.add(extra=("--features", defs))
    yield c
    c.stop()
    kafka.stop()


def rows(member):
    return rows_of(cli(member, "get", "user_activity", "--json", *USERS))


def histories(member):
    return [rows_of(cli(member, "history", "user_activity", u, "--json")) for u in USERS]


def test_members_compute_the_same_windows_from_a_source(source_cluster):
    # Over three hours of event time, so that windows slide and expire.
    start = 1_700_000_000_000
    lines = []
    for n in range(EVENTS):
        user = USERS[(n * 7) % len(USERS)]
        event = {"userId": user, "itemId": f"i{n % 13}", "minutes": n % 17 + 0.5,
                 "ts": start + n * 18_000}
        lines.append(f"{user}\t{json.dumps(event)}")
    subprocess.run(["kcat", "-P", "-b", source_cluster.kafka.bootstrap, "-t", SOURCE_TOPIC,
                    "-K", "\t"], input="\n".join(lines).encode(), check=True, timeout=60)

    def counted(member):
        return sum(r["features"]["watches"] for r in rows(member) if r["state"] == "found")

    for m in source_cluster.members:
        wait_for(lambda: counted(m) == EVENTS, "a member did not consume every event", 120)
    # Every version each event wrote, with its windows as of the event's
    # time: the online row's windows are judged against each member's clock.
    first = histories(source_cluster.members[0])
    assert sum(len(h) for h in first) >= EVENTS  # and versions where windows slid
    assert max(v["features"]["count_1h"] for h in first for v in h) > 1
    for m in source_cluster.members[1:]:
        assert histories(m) == first
        assert [r["features"]["last_item"] for r in rows(m)] == \
            [r["features"]["last_item"] for r in rows(source_cluster.members[0])]
