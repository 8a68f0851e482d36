"""Kafka sources in a cluster: every member consumes every partition of a
view's source topic itself and computes the same windows from the same
events, since windows depend on event time alone (kcat produces the events
from outside)."""

import json
import os
import subprocess
import tempfile

import pytest

from conftest import PARTITIONS, TOPIC, Cluster, KafkaMock, wait_for
from replicas import cli, http_get, rows_of

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
START_MS = 1_700_000_000_000


def start_cluster(source_partitions):
    """Three members with the definitions; the source topic is created
    beforehand with source_partitions, or not at all (0)."""
    topics = [(TOPIC, PARTITIONS)] + ([(SOURCE_TOPIC, source_partitions)] if source_partitions else [])
    kafka = KafkaMock(brokers=3, topics=topics)
    defs = os.path.join(tempfile.mkdtemp(prefix="quiver-defs-"), "features.yaml")
    with open(defs, "w") as f:
        f.write(DEFS)
    c = Cluster(kafka, TOPIC)
    for _ in range(3):
        c.add(extra=("--features", defs))
    return c


@pytest.fixture(params=[4])
def source_cluster(request):
    """request.param: the source topic's partitions, 0 for none yet."""
    c = start_cluster(request.param)
    yield c
    c.stop()
    c.kafka.stop()


def rows(member):
    return rows_of(cli(member, "get", "user_activity", "--json", *USERS))


def histories(member):
    return [rows_of(cli(member, "history", "user_activity", u, "--json")) for u in USERS]


def produce(cluster, first, count):
    """Events first..first+count, 18 s of event time apart (600 of them span
    three hours, so that windows slide and expire), produced by kcat."""
    lines = []
    for n in range(first, first + count):
        user = USERS[(n * 7) % len(USERS)]
        event = {"userId": user, "itemId": f"i{n % 13}", "minutes": n % 17 + 0.5,
                 "ts": START_MS + n * 18_000}
        lines.append(f"{user}\t{json.dumps(event)}")
    subprocess.run(["kcat", "-P", "-b", cluster.kafka.bootstrap, "-t", SOURCE_TOPIC, "-K", "\t"],
                   input="\n".join(lines).encode(), check=True, timeout=60)


def counted(member):
    """The events a member has applied; -1 while it refuses reads (LOADING)."""
    try:
        return sum(r["features"]["watches"] for r in rows(member) if r["state"] == "found")
    except subprocess.CalledProcessError:
        return -1


def committed(member):
    """The source's messages whose batches are in the member's history: its
    rows are visible before then (a history read would race them)."""
    status, body = http_get(member, "/v1/status")
    assert status == 200, body
    return sum(p["next_offset"] for p in json.loads(body)["kafka"]["partitions"]
               if p["topic"] == SOURCE_TOPIC)


def consumed_by_all(cluster, events):
    for m in cluster.members:
        wait_for(lambda: counted(m) == events and committed(m) == events,
                 "a member did not consume every event", 120)


def test_members_compute_the_same_windows_from_a_source(source_cluster):
    # Each member publishes the rows it computes to __quiver__:user_activity.
    listeners = []
    for m in source_cluster.members:
        listener = m.client(decode_responses=True).pubsub()
        listener.subscribe("__quiver__:user_activity")
        assert listener.get_message(timeout=10)["type"] == "subscribe"
        listeners.append(listener)
    produce(source_cluster, 0, EVENTS)
    consumed_by_all(source_cluster, EVENTS)
    # Every version each event wrote, with its windows as of the event's
    # time: the online row's windows are judged against each member's clock.
    first = histories(source_cluster.members[0])
    assert sum(len(h) for h in first) >= EVENTS  # and versions where windows slid
    assert max(v["features"]["count_1h"] for h in first for v in h) > 1
    for m in source_cluster.members[1:]:
        assert histories(m) == first
        assert [r["features"]["last_item"] for r in rows(m)] == \
            [r["features"]["last_item"] for r in rows(source_cluster.members[0])]
    # One message per version, on every member.
    versions = sorted((u, v["features"]["watches"], v["features"]["count_1h"])
                      for u, h in zip(USERS, first) for v in h)
    for listener in listeners:
        published = []
        while len(published) < len(versions):
            m = listener.get_message(timeout=30)
            assert m is not None, f"{len(published)} of {len(versions)} rows were published"
            if m["type"] == "message":
                row = json.loads(m["data"])
                published.append((row["key"], row["row"]["watches"], row["row"]["count_1h"]))
        assert sorted(published) == versions
        listener.close()


def test_a_member_killed_consumes_its_source_again_at_once(source_cluster):
    produce(source_cluster, 0, EVENTS)
    consumed_by_all(source_cluster, EVENTS)
    crashed = source_cluster.members[2]
    crashed.proc.kill()
    crashed.proc.wait(60)
    # Produced while it is down: consumed after its restart, from the
    # offsets stored with its data, each event once. A member that rejoined
    # a consumer group would wait for its dead session to expire (45 s).
    produce(source_cluster, EVENTS, 100)
    crashed.start()
    wait_for(lambda: counted(crashed) == EVENTS + 100,
             "the restarted member did not consume its source within 20 s", 20)
    consumed_by_all(source_cluster, EVENTS + 100)
    assert_same_histories(histories(crashed), histories(source_cluster.members[0]))


def assert_same_histories(got, want):
    """Names the user and the first version that differ (pytest's own diff
    of these lists is cut short)."""
    for user, g, w in zip(USERS, got, want):
        first = next((i for i, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
        assert g == w, (f"{user}: {len(g)} versions against {len(w)}; version {first}: "
                        f"{g[first:first + 1]} against {w[first:first + 1]}")


@pytest.mark.parametrize("source_cluster", [0], indirect=True)
def test_a_source_topic_created_after_the_members_started_is_consumed(source_cluster):
    # kcat's produce creates the topic (the mock creates topics on use);
    # every member finds it when it next reads the topics' metadata.
    produce(source_cluster, 0, 50)
    consumed_by_all(source_cluster, 50)
