"""--max-memory counts everything that grows with data or with clients
(issue 25): online rows and keys, RocksDB's memtables and block cache, the
buffers of connections, MULTI queues and WATCH lists. INFO memory, `quiver
status` and /metrics show the parts; a write is refused once their sum is
at the limit, whichever part holds the memory."""

import json
import socket
import subprocess
import urllib.request

import pytest
import redis

from conftest import Quiverd
from quiverd import wait_for

PARTS = ("rows", "windows", "history", "clients", "transactions", "dead_letters")


def memory(client):
    return client.info("memory")


def part(client, name):
    return memory(client)["quiver_memory_" + name]


def test_info_memory_is_the_sum_of_its_parts(server, r):
    r.set("k", "v" * 1000)
    info = memory(r)
    parts = [info["quiver_memory_" + p] for p in PARTS]
    assert all(p >= 0 for p in parts)
    # The parts are read one by one while RocksDB's part may be refreshed.
    assert abs(info["used_memory"] - sum(parts)) <= info["used_memory"] // 100
    assert info["used_memory_dataset"] == info["quiver_memory_rows"]
    assert info["mem_clients_normal"] == info["quiver_memory_clients"]
    assert info["quiver_memory_rows"] > 1000
    # The memtables are charged to the block cache as soon as they hold a write.
    wait_for(lambda: part(r, "history") > 0, "RocksDB's memory is not counted")


def test_a_queued_transaction_counts_against_maxmemory(server, r):
    before = part(r, "transactions")
    queuer = server.client()
    pipe = queuer.pipeline(transaction=False)
    pipe.execute_command("MULTI")
    for i in range(20):
        pipe.execute_command("SET", "queued:%d" % i, b"x" * (1 << 20))
    assert len(pipe.execute()) == 21
    wait_for(lambda: part(r, "transactions") >= before + (20 << 20),
             "the MULTI queue is not counted")
    try:
        # At the limit, a write is refused although the rows alone are far below it.
        r.config_set("maxmemory", memory(r)["used_memory"])
        assert part(r, "rows") < memory(r)["maxmemory"] // 2
        with pytest.raises(redis.ResponseError, match="^OOM command not allowed"):
            r.set("refused", "1")
        assert queuer.execute_command("DISCARD") == b"OK"
        wait_for(lambda: part(r, "transactions") == before, "DISCARD did not give the queue back")
        assert r.set("accepted", "1")
    finally:
        r.config_set("maxmemory", 0)
        queuer.close()


def test_a_request_being_read_counts_as_client_memory(server, r):
    before = part(r, "clients")
    s = socket.create_connection(("127.0.0.1", server.resp_port))
    try:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$33554432\r\n" + b"x" * (24 << 20))
        wait_for(lambda: part(r, "clients") >= before + (24 << 20),
                 "the query buffer is not counted")
    finally:
        s.close()
    wait_for(lambda: part(r, "clients") < before + (1 << 20),
             "a closed connection's buffer is still counted")


def test_status_and_metrics_show_the_same_parts(server, r):
    r.set("k", "v")
    r.config_set("maxmemory", 1 << 30)
    try:
        out = subprocess.run([server.quiver_cli, "--port", str(server.port), "status", "--json"],
                             capture_output=True, check=True, timeout=60).stdout
        status = json.loads(out)["memory"]
        assert status["max_memory"] == 1 << 30
        assert status["total"] == sum(status[p] for p in PARTS)
        assert status["rows"] > 0
        text = subprocess.run([server.quiver_cli, "--port", str(server.port), "status"],
                              capture_output=True, check=True, timeout=60).stdout.decode()
        assert "of 1024.0 MiB (--max-memory): rows" in text
        metrics = urllib.request.urlopen(
            "http://127.0.0.1:%d/metrics" % server.http_port, timeout=60).read().decode()
        for p in PARTS:
            assert 'quiver_memory_bytes{part="%s"}' % p in metrics
        assert "quiver_memory_used_bytes " in metrics
    finally:
        r.config_set("maxmemory", 0)


def test_memory_usage_counts_a_key_and_what_its_value_holds(server, r, reference):
    r.set("small", "v")
    r.set("large", "v" * 100_000)
    assert 0 < r.memory_usage("small") < 200
    assert 100_000 < r.memory_usage("large") < 101_000
    r.rpush("list", *["x" * 100] * 1000)
    r.hset("hash", mapping={f"f{i}": "y" * 100 for i in range(1000)})
    r.sadd("set", *[f"member{i}" for i in range(1000)])
    r.zadd("zset", {f"member{i}": i for i in range(1000)})
    for key in ("list", "hash", "set", "zset"):  # boxed: the box's items count
        assert r.memory_usage(key) > 10_000, key
    before = r.memory_usage("hash")
    r.hset("hash", mapping={f"g{i}": "z" * 100 for i in range(1000)})
    assert r.memory_usage("hash") > before + 100_000
    assert r.memory_usage("nokey") is None
    assert r.memory_usage("small", samples=0) == r.memory_usage("small")
    for c in (r, reference):  # the same errors as Redis
        c.set("k", "v")
        errors = []
        for args in (["MEMORY", "USAGE", "k", "SAMPLES"], ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
                     ["MEMORY", "USAGE", "k", "FOO", "1"], ["MEMORY", "USAGE"], ["MEMORY", "NOPE"],
                     ["MEMORY", "STATS", "x"], ["MEMORY", "DOCTOR", "x"]):
            with pytest.raises(redis.ResponseError) as e:
                c.execute_command(*args)
            errors.append(str(e.value))
        if c is r:
            ours = errors
    assert ours == errors
    assert r.execute_command("MEMORY", "HELP") == reference.execute_command("MEMORY", "HELP")


def test_memory_stats_doctor_and_allocator(server, r):
    r.set("k", "v" * 10_000)
    stats = r.memory_stats()
    info = memory(r)
    assert stats["keys.count"] == 1
    assert stats["dataset.bytes"] > 10_000
    assert 0 < float(stats["dataset.percentage"]) <= 100
    assert abs(stats["total.allocated"] - info["used_memory"]) <= info["used_memory"] // 50
    for name in PARTS:
        assert stats["quiver." + name] >= 0
    doctor = r.execute_command("MEMORY", "DOCTOR").decode()
    assert "Memory used:" in doctor and "1 keys" in doctor
    assert r.execute_command("MEMORY", "PURGE") == b"OK"
    malloc = r.execute_command("MEMORY", "MALLOC-STATS").decode()
    assert "jemalloc" in malloc or malloc == "Stats not supported for the current allocator"


def test_memory_doctor_warns_near_the_limit():
    s = Quiverd("--max-memory", "64mb")
    try:
        c = s.client()
        with pytest.raises(redis.ResponseError, match="OOM"):
            for i in range(1000):
                c.set(f"k{i}", "x" * 1_000_000)
        assert "within 10% of --max-memory" in c.execute_command("MEMORY", "DOCTOR").decode()
    finally:
        s.stop()
