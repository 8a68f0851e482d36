"""Kafka faults under a cluster (3 brokers, replication factor 3): with one
broker down writes go on; with every broker unreachable writes fail with
CLUSTERDOWN within the write timeout while reads go on, and writes work
again once the brokers are back."""

import pytest
import redis

from conftest import PARTITIONS, TOPIC, Cluster, KafkaMock, wait_for
from replicas import converge, dump


@pytest.fixture
def short_timeout_cluster():
    kafka = KafkaMock(brokers=3, topics=[(TOPIC, PARTITIONS)])
    c = Cluster(kafka, TOPIC)
    for _ in range(3):
        c.add(extra=("--cluster-write-timeout", "2s"))
    yield c
    c.stop()
    kafka.stop()


def test_with_one_broker_down_writes_go_on(short_timeout_cluster):
    cluster = short_timeout_cluster
    r = cluster.members[0].client(socket_timeout=30)
    r.set("before", "1")
    cluster.kafka.broker_down(2)
    for p in range(PARTITIONS):  # the controller moves the leaders away
        cluster.kafka.set_leader(TOPIC, p, 1 if p % 2 else 3)
    for i in range(30):
        assert r.incr("{n}counter") == i + 1
        cluster.members[i % 3].client(socket_timeout=30).set(f"{{n}}k{i}", i)
    converge(cluster.members)
    state = dump(cluster.members[0])
    assert state[b"{n}counter"][1] == b"30"
    for m in cluster.members[1:]:
        assert dump(m) == state


def test_with_every_broker_down_writes_fail_and_reads_go_on(short_timeout_cluster):
    cluster = short_timeout_cluster
    cluster.members[0].client().set("k", "v")
    converge(cluster.members)
    for broker in (1, 2, 3):
        cluster.kafka.broker_down(broker)
    # The client waits longer than the write timeout: the server answers.
    r = cluster.members[1].client(socket_timeout=30)
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN"):
        r.set("k", "w")
    for m in cluster.members:
        assert m.client(socket_timeout=30).get("k") == b"v"
    for broker in (1, 2, 3):
        cluster.kafka.broker_up(broker)

    def writes_again():
        try:
            return r.set("k", "x")
        except redis.ResponseError as e:
            assert str(e).startswith("CLUSTERDOWN"), e
            return False

    wait_for(writes_again, "writes did not resume once the brokers were back", timeout=120)
    converge(cluster.members)
    for m in cluster.members:
        assert m.client().get("k") == b"x"
