"""Clients of a cluster: a retried write is applied once, on any member
and across a restart (write ids); a read through one member waits for a
write made through another (positions); the Python client and the CLI
move to another member when theirs goes away, and lose or double nothing."""

import os
import signal
import subprocess
import threading

import pytest
import redis
import redis.sentinel

import quiver
from conftest import DEFS, PARTITIONS, Quiverd, wait_for
from replicas import cli, converge, metric_samples, rows_of, wait_caught_up

# Puts of the failover test; fewer under the sanitizers.
PUTS = 40 if os.environ.get("QUIVER_SANITIZE") else 120


def versions(member, user):
    """How many versions of a user's profile a member's history holds."""
    return len(rows_of(cli(member, "history", "profile", user, "--json")))


def fixed_id_client(member, write_id):
    """A Python client that sends every write with one write id, as a
    client retrying a write does."""
    q = quiver.Client("127.0.0.1", member.port)
    q._write_id = lambda: write_id
    return q


def test_a_retried_write_is_applied_once_on_any_member_and_after_a_restart(feature_cluster):
    a, b, c = feature_cluster.members
    # No event time: each proposal carries its member's clock, so a write
    # applied twice would leave two versions.
    row = [{"user_id": "u1", "visits": 1}]
    with fixed_id_client(a, "retry-1") as q:
        first = q.put("profile", row)
    assert first["applied"] == 1 and len(first["positions"]) == 1
    with fixed_id_client(b, "retry-1") as q:  # the client moved to b and retried
        again = q.put("profile", row)
    assert (again["applied"], again["stale"]) == (first["applied"], first["stale"])
    assert again["positions"][0][1] > first["positions"][0][1]  # a record of its own
    a.restart(kill=True)  # the ids were stored with the data they describe
    wait_caught_up(a)  # the client reads the view's schema first: LOADING until then
    with fixed_id_client(a, "retry-1") as q:
        q.put("profile", row)
    converge(feature_cluster.members)
    for m in feature_cluster.members:
        assert versions(m, "u1") == 1
        assert metric_samples(m, "quiver_cluster_write_ids")[""] == 1
    for m in (b, c):  # a's counters restarted with it
        assert metric_samples(m, "quiver_cluster_writes_deduplicated_total")[""] == 2
    with fixed_id_client(c, "another") as q:  # a new id is a new write
        q.put("profile", row)
    converge(feature_cluster.members)
    assert {versions(m, "u1") for m in feature_cluster.members} == {2}


def test_a_write_id_longer_than_64_bytes_is_refused(feature_cluster):
    with fixed_id_client(feature_cluster.members[0], "x" * 65) as q:
        with pytest.raises(quiver.QuiverError, match="write_id has 65 bytes"):
            q.put("profile", [{"user_id": "u1", "visits": 1}])


def test_a_read_waits_until_its_member_applied_the_write_it_names(feature_cluster):
    a, b, _ = feature_cluster.members
    reader = quiver.Client("127.0.0.1", b.port, timeout=60, after_timeout=30)
    reader.get_online_features("profile:visits", ["u2"])  # connected before b stops
    b.proc.send_signal(signal.SIGSTOP)  # b applies nothing until it continues
    try:
        with quiver.Client("127.0.0.1", a.port) as q:
            written = q.put("profile", [{"user_id": "u2", "visits": 42}])["positions"]
        got = {}
        read = threading.Thread(target=lambda: got.update(reader.get_online_features(
            "profile:visits", ["u2"], after=written)))
        read.start()
    finally:
        b.proc.send_signal(signal.SIGCONT)
    read.join(60)
    assert got["profile:visits"].tolist() == [42]
    # The CLI prints a write's positions and reads after them.
    out = cli(a, "put", "profile", "u3", "visits=7")
    assert out.startswith("ok  position ")
    position = out.split()[-1]
    assert [r["features"]["visits"] for r in
            rows_of(cli(b, "get", "profile", "u3", "--json", "--after", position))] == [7]
    assert "visits" in cli(b, "history", "profile", "u3", "--after", position)


def test_a_read_naming_a_position_its_member_lacks_fails_in_time(feature_cluster):
    with quiver.Client("127.0.0.1", feature_cluster.members[0].port, after_timeout=0.2) as q:
        with pytest.raises(quiver.QuiverError, match="had not applied offset 1000000000 of "
                                                     "changelog partition 1") as e:
            q.get_online_features("profile:visits", ["u1"], after=[(1, 10**9)])
        assert e.value.code == "Unavailable"
        with pytest.raises(quiver.QuiverError, match="no such changelog position") as e:
            q.get_online_features("profile:visits", ["u1"], after=[(PARTITIONS, 0)])
        assert e.value.code == "InvalidArgument"
        q.ping()  # the connection serves on
    bad = subprocess.run([feature_cluster.members[0].quiver_cli, "--port",
                          str(feature_cluster.members[0].port), "get", "profile", "u1",
                          "--after", "1:x"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "expected PARTITION:OFFSET" in bad.stderr


def test_a_single_server_refuses_to_wait_for_positions():
    single = Quiverd.with_definitions(DEFS)
    try:
        with quiver.Client("127.0.0.1", single.port) as q:
            assert q.put("profile", [{"user_id": "u1", "visits": 1}])["positions"] == []
            with pytest.raises(quiver.QuiverError, match="not a cluster member") as e:
                q.get_online_features("profile:visits", ["u1"], after=[(0, 0)])
            assert e.value.code == "FailedPrecondition"
    finally:
        single.stop()


def test_clients_move_to_another_member_when_theirs_is_killed(feature_cluster):
    a, b, c = feature_cluster.members
    servers = [f"127.0.0.1:{m.port}" for m in (a, b, c)]
    q = quiver.Client(servers=servers, read_your_writes=True)
    assert q.server == servers[0]
    acked = []

    def kill_a_mid_stream():
        wait_for(lambda: len(acked) >= PUTS // 3, "the puts did not start")
        a.proc.kill()  # whatever put is in flight: not sent, sent, or in the log
        a.proc.wait(60)

    killer = threading.Thread(target=kill_a_mid_stream)
    killer.start()
    for n in range(PUTS):
        # No event time: a put applied twice would leave two versions.
        assert q.put("profile", [{"user_id": f"k{n}", "visits": n}])["applied"] == 1
        acked.append(n)
    killer.join()
    assert q.server == servers[1]
    # Read-your-writes on the member the client moved to.
    got = q.get_online_features("profile:visits", [f"k{n}" for n in acked])
    assert got["profile:visits"].tolist() == acked
    q.close()
    # The CLI (the C++ client) given the same list skips the dead member.
    out = subprocess.run([b.quiver_cli, "--host", ",".join(servers), "get", "profile", "k0",
                          "--json"], capture_output=True, text=True, check=True, timeout=60).stdout
    assert rows_of(out)[0]["features"]["visits"] == 0
    a.start()  # back on its data directory: it catches up
    converge(feature_cluster.members)
    assert all(versions(b, f"k{n}") == 1 for n in acked)
    for m in (a, c):
        assert rows_of(cli(m, "get", "profile", "--json", *[f"k{n}" for n in acked])) == \
            rows_of(cli(b, "get", "profile", "--json", *[f"k{n}" for n in acked]))


def test_redis_sentinel_clients_find_a_serving_member_and_move_when_it_dies(cluster):
    a, b, _ = cluster.members
    topic = cluster.topic  # the "master"'s name
    r = a.client()
    assert r.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", topic) == \
        [b"127.0.0.1", str(a.resp_port).encode()]
    assert r.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other") is None
    with pytest.raises(redis.ResponseError, match="No such master with that name"):
        r.execute_command("SENTINEL", "MASTER", "other")
    with pytest.raises(redis.ResponseError, match="Unknown sentinel subcommand"):
        r.execute_command("SENTINEL", "FAILOVER", topic)
    assert r.execute_command("SENTINEL", "REPLICAS", topic) == []
    # redis-py's Sentinel client, given every member as a sentinel.
    sentinel = redis.sentinel.Sentinel([("127.0.0.1", m.resp_port) for m in cluster.members],
                                       socket_timeout=10)
    assert sentinel.discover_master(topic) == ("127.0.0.1", a.resp_port)
    master = sentinel.master_for(topic, socket_timeout=10)
    assert master.incr("n") == 1
    a.proc.kill()
    a.proc.wait(60)
    try:  # the pooled connection to a is found dead before the command is sent
        value = master.incr("n")
    except redis.ConnectionError:  # or while it is sent: a is gone, it applied nothing
        value = master.incr("n")
    assert value == 2
    assert sentinel.discover_master(topic) == ("127.0.0.1", b.resp_port)


def test_a_blocking_pop_on_one_member_is_woken_by_a_push_through_another(cluster):
    a, b, c = cluster.members
    waiter_a = a.client()
    replies = {}

    def pop(name, member, *command):
        client = member.client()
        replies[name] = client.execute_command(*command)
        client.close()

    threads = [threading.Thread(target=pop, args=("a", a, "BLPOP", "{q}jobs", "0")),
               threading.Thread(target=pop, args=("c", c, "BZPOPMIN", "{q}board", "0"))]
    for t in threads:
        t.start()
    wait_for(lambda: waiter_a.info("clients")["blocked_clients"] == 1, "a's client did not wait")
    wait_for(lambda: c.client().info("clients")["blocked_clients"] == 1, "c's client did not wait")
    pusher = b.client()
    assert pusher.rpush("{q}jobs", "job1") == 1
    assert pusher.zadd("{q}board", {"m": 2.5}) == 1
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert list(replies["a"]) == [b"{q}jobs", b"job1"]
    assert list(replies["c"]) == [b"{q}board", b"m", 2.5]
    converge(cluster.members)
    for m in cluster.members:  # popped once, on every replica
        assert m.client().exists("{q}jobs", "{q}board") == 0
    # A timeout still ends the wait.
    assert waiter_a.blpop(["{q}none"], timeout=0.2) is None


def test_every_member_notifies_the_keyspace_events_of_writes_through_any(cluster):
    a, b, c = cluster.members
    listeners = []
    for m in (a, c):
        client = m.client(decode_responses=True)
        client.config_set("notify-keyspace-events", "KEA")  # each member's own setting
        listener = client.pubsub()
        listener.psubscribe("__keyevent@0__:*")
        assert listener.get_message(timeout=10)["type"] == "psubscribe"
        listeners.append((client, listener))
    try:
        writer = b.client()
        writer.set("{n}user:1", "x")
        writer.rpush("{n}queue", "a", "b")
        writer.delete("{n}user:1")
        for _, listener in listeners:  # as each member applied the writes, in order
            got = [listener.get_message(timeout=30) for _ in range(3)]
            assert [(m["channel"], m["data"]) for m in got] == [
                ("__keyevent@0__:set", "{n}user:1"), ("__keyevent@0__:rpush", "{n}queue"),
                ("__keyevent@0__:del", "{n}user:1")]
    finally:
        for client, listener in listeners:
            listener.close()
            client.config_set("notify-keyspace-events", "")


def test_scripts_that_write_are_refused_on_a_member_and_read_only_ones_run(cluster):
    a, b, _ = cluster.members
    b.client().set("{s}k", "v")
    converge(cluster.members)
    r = a.client()
    with pytest.raises(redis.ResponseError, match="EVAL is not replicated through the changelog"):
        r.eval("return redis.call('set', KEYS[1], 'x')", 1, "{s}k")
    assert r.execute_command("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "{s}k") == b"v"
    with pytest.raises(redis.ResponseError, match="not allowed from read-only scripts"):
        r.execute_command("EVAL_RO", "return redis.call('set', KEYS[1], 'x')", 1, "{s}k")
    converge(cluster.members)
    assert all(m.client().get("{s}k") == b"v" for m in cluster.members)


def test_dump_restore_and_sort_store_replicate(cluster):
    a, b, _ = cluster.members
    r = a.client()
    r.rpush("{t}src", "3", "1", "2")
    r.hset("{t}h", mapping={"f": "v", "g": "w"})
    r.restore("{t}copy", 60_000, r.dump("{t}h"))
    assert r.sort("{t}src", store="{t}sorted") == 3
    with pytest.raises(redis.ResponseError, match="refused on a cluster member"):
        r.sort("{t}src", by="{t}w_*", store="{t}sorted")
    assert r.sort("{t}src", get=["#", "{t}w_*"]) == [b"1", None, b"2", None, b"3", None]
    converge(cluster.members)
    for m in cluster.members:
        c = m.client()
        assert c.hgetall("{t}copy") == {b"f": b"v", b"g": b"w"}
        assert 0 < c.pttl("{t}copy") <= 60_000
        assert c.lrange("{t}sorted", 0, -1) == [b"1", b"2", b"3"]
