"""Kafka faults under a cluster (3 brokers, replication factor 3): with one
broker down writes go on; with every broker unreachable writes fail with
CLUSTERDOWN within the write timeout while reads go on, and writes work
again once the brokers are back. A record no member can apply (kcat puts
garbage in the topic) stops its partition, never silently skipped, until
an operator skips it."""

import subprocess

import pytest
import redis

from conftest import PARTITIONS, TOPIC, Cluster, KafkaMock, wait_for
from replicas import converge, dump, positions


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


def stopped(member, partition):
    info = member.client().info("replication")
    return "stopped" in str(info.get(f"cluster_partition{partition}", ""))


def test_a_record_no_member_can_apply_stops_its_partition_until_an_operator_skips_it(cluster):
    # "hello" is in slot 866: partition 0 of 8. "foo" (slot 12182) is not.
    r = cluster.members[0].client()
    r.set("hello", "before")
    converge(cluster.members)
    subprocess.run(["kcat", "-P", "-b", cluster.kafka.bootstrap, "-t", TOPIC, "-p", "0"],
                   input=b"not a changelog record\n", check=True, timeout=60)
    for m in cluster.members:
        wait_for(lambda: stopped(m, 0), "the partition did not stop at the corrupt record")
    # The other partitions go on.
    r.set("foo", "bar")
    converge(cluster.members)
    assert all(m.client().get("foo") == b"bar" for m in cluster.members)
    with pytest.raises(redis.ResponseError, match="not stopped at offset"):
        r.execute_command("CHANGELOG", "SKIP", 1, 0)
    for m in cluster.members:
        offset = positions(m)[0][0]  # the record it stopped at
        assert m.client().execute_command("CHANGELOG", "SKIP", 0, offset) == b"OK"
        assert not stopped(m, 0)
    assert r.set("hello", "after")
    converge(cluster.members)
    for m in cluster.members:
        assert m.client().get("hello") == b"after"
        assert m.client().info("replication")["cluster_records_skipped"] == 1
