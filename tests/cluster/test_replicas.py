"""Three quiverd members replicating through a Kafka changelog (librdkafka's
mock cluster with 3 brokers): writes through any member reach every member
in the same order, answers are what every replica computed, and a member
killed mid-stream comes back with every acknowledged write applied once."""

import json
import os
import subprocess
import tempfile
import threading

import pytest
import redis

import quiver

from conftest import PARTITIONS, wait_for
from replicas import converge, dump, health, metric_samples, positions

# Per client; fewer under the sanitizers, which slow quiverd ten times.
INCRS = 40 if os.environ.get("QUIVER_SANITIZE") else 150


def write_load(member, worker, stop=None):
    """One client's mixed writes through one member; returns INCR's replies."""
    r = member.client()
    replies = []
    for i in range(INCRS):
        if stop is not None and stop.is_set():
            break
        replies.append(r.incr("counter"))
        r.set(f"shared:{i % 7}", f"{worker}:{i}")  # conflicting writes to the same keys
        r.hincrby("hits", f"k{i % 5}", 1)
        r.rpush(f"log:{worker}", i)
        r.set(f"session:{worker}:{i % 3}", i, ex=3600)
        r.sadd("pool", f"{worker}:{i}", i)  # boxed past 128 members
        if i % 4 == 3:  # every member must pop the same ones
            r.spop("pool", 2)
        r.zincrby("{board}", 1.5, f"p{i % 200}")  # boxed past 128 members
        r.zadd("{board}", {f"{worker}:{i}": i}, gt=True)
        if i % 5 == 4:
            r.zpopmin("{board}", 2)
            r.zmpop(2, ["{board}:empty", "{board}"], max=True)
        r.setbit("{bits}", i % 3000, i % 2)
        r.pfadd("{visitors}", f"{worker}:{i}", i % 50)  # dense past a few hundred
        if i % 10 == 9:
            assert r.pfcount("{visitors}") > 0  # counts, but leaves the value as it is
            r.execute_command("BITFIELD", "{bits}", "INCRBY", "u8", f"#{i % 20}", 7)
        with r.pipeline(transaction=True) as tx:  # one atomic record
            tx.incr("{acct}:a").decr("{acct}:b")
            tx.execute()
    r.close()
    return replies


def run_writers(members, per_member, stop=None):
    results = {}

    def run(member, worker):
        results[worker] = write_load(member, worker, stop)

    threads = [threading.Thread(target=run, args=(m, f"{n}.{j}"))
               for n, m in enumerate(members) for j in range(per_member)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def assert_equal_replicas(members):
    converge(members)
    dumps = [dump(m) for m in members]
    for d in dumps[1:]:
        assert d == dumps[0]
    return dumps[0]


def test_writes_through_every_member_reach_every_member_alike(cluster):
    results = run_writers(cluster.members, per_member=2)
    replies = sorted(v for rs in results.values() for v in rs)
    total = len(results) * INCRS
    # Every INCR was applied once, in one order every member followed: its
    # answers are exactly 1..total, none twice, none skipped.
    assert replies == list(range(1, total + 1))
    state = assert_equal_replicas(cluster.members)
    assert state[b"counter"][1] == str(total).encode()
    assert int(state[b"{acct}:a"][1]) == total and int(state[b"{acct}:b"][1]) == -total
    assert sum(int(v) for _, v in state[b"hits"][1]) == total
    for worker in results:
        assert state[f"log:{worker}".encode()][1] == [str(i).encode() for i in range(INCRS)]
    expiry = state[f"session:{next(iter(results))}:0".encode()][2]
    assert expiry > 0  # EX became the same absolute time on every member


def test_health_and_metrics_show_each_partition(cluster):
    cluster.members[0].client().set("k", "v")
    converge(cluster.members)
    for m in cluster.members:
        # Caught up once it applied what the log held when it started.
        wait_for(lambda: health(m)[0] == 200, "a member did not catch up")
        status, body = health(m)
        assert status == 200 and body["status"] == "ok"
        assert body["cluster"]["topic"] == cluster.topic and body["cluster"]["caught_up"]
        applied = metric_samples(m, "quiver_cluster_applied_offset")
        assert len(applied) == PARTITIONS and sum(applied.values()) >= 1
        lag = metric_samples(m, "quiver_cluster_lag")  # ticks may be in flight
        assert len(lag) == PARTITIONS and all(v >= 0 for v in lag.values())
        assert metric_samples(m, "quiver_cluster_records_applied_total")[""] >= 1
    assert metric_samples(cluster.members[0], "quiver_cluster_records_proposed_total")[""] == 1


def test_status_shows_the_changelog_in_the_cli_and_the_python_client(cluster):
    member = cluster.members[1]
    member.client().incr("n")
    converge(cluster.members)
    out = subprocess.run([member.quiver_cli, "--port", str(member.port), "status", "--json"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    status = json.loads(out)["cluster"]
    assert status["topic"] == cluster.topic and status["replica_id"] == "r2"
    assert status["caught_up"] and status["proposed"] == 1
    assert [p["partition"] for p in status["partitions"]] == list(range(PARTITIONS))
    assert all(p["waiting"] == "" and p["stopped"] == "" for p in status["partitions"])
    text = subprocess.run([member.quiver_cli, "--port", str(member.port), "status"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert "cluster         topic " + cluster.topic in text and "caught up" in text
    with quiver.Client("127.0.0.1", member.port) as q:
        py = q.status()["cluster"]
    assert py["replica_id"] == "r2" and len(py["partitions"]) == PARTITIONS
    assert sum(p["applied"] for p in py["partitions"]) >= 1


def test_relative_ttls_become_one_absolute_time(cluster):
    a, b, c = (m.client() for m in cluster.members)
    a.set("t", "v", ex=100)
    b.expire("t", 500)
    c.getex("t", px=70000)
    converge(cluster.members)
    expiries = {m.client().pexpiretime("t") for m in cluster.members}
    assert len(expiries) == 1 and expiries.pop() > 0


def test_keys_of_one_record_must_share_a_partition(cluster):
    r = cluster.members[0].client()
    with pytest.raises(redis.ResponseError, match="^CROSSSLOT"):
        r.mset({"alpha": 1, "beta": 2, "gamma": 3, "delta": 4})
    assert r.mset({"{user:1}:a": 1, "{user:1}:b": 2})
    with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
        with r.pipeline(transaction=True) as tx:
            tx.set("alpha", 1).set("beta", 2).set("gamma", 3).set("delta", 4)
            tx.execute()
    with pytest.raises(redis.ResponseError, match="FLUSHALL inside a transaction"):
        with r.pipeline(transaction=True) as tx:
            tx.set("alpha", 1).flushall()
            tx.execute()
    converge(cluster.members)
    for m in cluster.members:
        assert m.client().mget("{user:1}:a", "{user:1}:b") == [b"1", b"2"]


def test_flushdb_and_flushall_empty_every_member_alike(cluster):
    a, b, c = cluster.members
    for i in range(40):
        a.client().set(f"k{i}", i)
        b.client(db=1).set(f"one:{i}", i)
    converge(cluster.members)
    assert b.client().flushdb() is True  # database 0 only
    converge(cluster.members)
    assert all(m.client().dbsize() == 0 and m.client(db=1).dbsize() == 40
               for m in cluster.members)
    # Amid writes through the other members, each partition is emptied at
    # its own point of the log, the same on every member.
    writers = threading.Thread(target=run_writers, args=([a, c], 1))
    writers.start()
    wait_for(lambda: int(a.client().get("counter") or 0) >= 20, "writes did not start")
    assert b.client().flushall() is True
    writers.join()
    assert_equal_replicas(cluster.members)
    assert all(m.client(db=1).dbsize() == 0 for m in cluster.members)


def test_a_member_killed_mid_stream_catches_up_with_nothing_lost_or_doubled(cluster):
    first, second, third = cluster.members
    third.client().set("before", "kill")
    stop = threading.Event()
    writers = threading.Thread(target=run_writers, args=([first, second], 1, stop))
    writers.start()
    wait_for(lambda: int(first.client().get("counter") or 0) >= 50, "writes did not start")
    third.restart(kill=True)
    writers.join()
    assert_equal_replicas(cluster.members)
    assert int(third.client().get("counter")) == 2 * INCRS


def test_a_new_empty_member_catches_up_from_the_log(cluster):
    run_writers(cluster.members[:1], per_member=1)
    late = cluster.add("late")
    assert_equal_replicas(cluster.members)
    assert int(late.client().get("counter")) == INCRS


def test_a_new_member_starts_from_a_checkpoint_of_another_and_catches_up(cluster):
    first, second, _ = cluster.members
    run_writers([first], per_member=1)
    converge(cluster.members)
    before = sum(applied for applied, _ in positions(first).values())
    directory = os.path.join(tempfile.mkdtemp(prefix="quiver-checkpoint-"), "copy")
    out = subprocess.run([first.quiver_cli, "--port", str(first.port), "checkpoint", directory],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert f"written to {directory}" in out
    again = subprocess.run([first.quiver_cli, "--port", str(first.port), "checkpoint", directory],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "exists" in again.stderr
    run_writers([second], per_member=1)  # after the checkpoint: only in the log
    late = cluster.add("from-checkpoint", data_dir=directory)
    state = assert_equal_replicas(cluster.members)
    assert int(state[b"counter"][1]) == 2 * INCRS
    # It applied the records after the checkpoint's offsets, not the whole log.
    log = sum(applied for applied, _ in positions(late).values())
    assert metric_samples(late, "quiver_cluster_records_applied_total")[""] <= log - before
