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
