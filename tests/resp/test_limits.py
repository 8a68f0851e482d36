"""What one RESP client can make quiverd spend (issue 25): memory follows
the bytes that arrive, not the lengths a request announces; the query
buffer shrinks back after a large request; before AUTH only small requests
are parsed, as Redis 7 does."""

import os
import socket

import pytest
import redis

from conftest import Quiverd
from quiverd import wait_for


def rss_bytes(server):
    with open("/proc/%d/status" % server.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def net_input(client):
    return client.info("stats")["total_net_input_bytes"]


def read_reply(sock):
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_announced_bulk_lengths_cost_nothing_until_the_bytes_come(server, r):
    before_rss = rss_bytes(server)
    before_in = net_input(r)
    sent = 0
    sockets = []
    try:
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", server.resp_port))
            payload = b"*1\r\n$536870912\r\n" + b"x" * (1 << 20)
            s.sendall(payload)
            sent += len(payload)
            sockets.append(s)
        # The server has read every byte sent once its input count says so.
        wait_for(lambda: net_input(r) - before_in >= sent, "quiverd did not read the requests")
        grown = rss_bytes(server) - before_rss
        # ThreadSanitizer's shadow memory is several times what it shadows.
        bound = (150 if os.environ.get("QUIVER_SANITIZE") == "thread" else 50) << 20
        assert grown < bound, "8 x 512 MB announced, 8 MB sent: RSS grew %d bytes" % grown
        def big():
            clients = [dict(kv.split("=", 1) for kv in line.split())
                       for line in r.execute_command("CLIENT", "LIST").decode().splitlines()]
            return [c for c in clients if int(c["qbuf"]) >= 1 << 20]
        # A connection reports its query buffer just after it counted the
        # bytes in: wait for all eight reports.
        wait_for(lambda: len(big()) == 8, "the query buffers were not reported")
        for c in big():
            assert int(c["qbuf-free"]) <= int(c["qbuf"]) + 16384, c
    finally:
        for s in sockets:
            s.close()
    assert r.ping()


def test_the_query_buffer_shrinks_after_a_large_request(r):
    r.set("big", b"v" * (5 << 20))
    me = dict(kv.split("=", 1) for kv in r.execute_command("CLIENT", "INFO").decode().split())
    assert int(me["qbuf-free"]) <= 16384, me
    assert len(r.get("big")) == 5 << 20


@pytest.fixture(scope="module")
def locked():
    s = Quiverd("--requirepass", "s3cret")
    yield s
    s.stop()


@pytest.mark.parametrize("request_bytes,error", [
    (b"*100\r\n", b"-ERR Protocol error: unauthenticated multibulk length\r\n"),
    (b"*1\r\n$100000000\r\n", b"-ERR Protocol error: unauthenticated bulk length\r\n"),
    (b"*2000000\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
])
def test_before_auth_only_small_requests_are_parsed(locked, request_bytes, error):
    with socket.create_connection(("127.0.0.1", locked.resp_port), timeout=30) as s:
        s.sendall(request_bytes)
        assert read_reply(s) == error
        assert s.recv(100) == b"", "the connection is closed after a protocol error"
    assert locked.client(password="s3cret").ping()


def test_after_auth_in_the_same_write_large_requests_are_served(locked):
    value = b"v" * 100_000
    with socket.create_connection(("127.0.0.1", locked.resp_port), timeout=30) as s:
        s.sendall(b"*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n"
                  b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + value + b"\r\n")
        replies = b""
        while replies.count(b"\r\n") < 2:
            replies += s.recv(4096)
        assert replies == b"+OK\r\n+OK\r\n"
    assert locked.client(password="s3cret").get("k") == value


def raw(r):
    """The client without redis-py's reply parsing (which turns QUEUED into False)."""
    r.response_callbacks.clear()
    return r


def client_fields(server, client_id):
    """A connection's CLIENT LIST fields, seen from another connection
    (inside MULTI, CLIENT would be queued)."""
    with server.client() as other:
        for line in other.execute_command("CLIENT", "LIST").decode().splitlines():
            fields = dict(kv.split("=", 1) for kv in line.split())
            if fields["id"] == str(client_id):
                return fields
    raise AssertionError("no client %d" % client_id)


def test_a_transaction_queues_a_bounded_number_of_commands(server, r):
    r = raw(r)
    me = r.execute_command("CLIENT", "ID")
    pipe = r.pipeline(transaction=False)
    pipe.execute_command("MULTI")
    for i in range(100_000):
        pipe.execute_command("SET", "k%d" % i, "v")
    replies = pipe.execute()
    assert replies[-1] == b"QUEUED"
    with pytest.raises(redis.ResponseError, match="transaction too large"):
        r.execute_command("SET", "one", "more")
    fields = client_fields(server, me)
    assert fields["multi"] == "100000"
    assert int(fields["multi-mem"]) > 100_000 * 8
    with pytest.raises(redis.exceptions.ExecAbortError):
        r.execute_command("EXEC")
    assert r.exists("k0") == 0, "an aborted transaction writes nothing"
    assert client_fields(server, me)["multi"] == "-1"


def test_a_transaction_queues_a_bounded_number_of_bytes(server, r):
    r = raw(r)
    me = r.execute_command("CLIENT", "ID")
    value = b"x" * (1 << 20)
    r.execute_command("MULTI")
    refused = None
    for i in range(70):
        try:
            assert r.execute_command("SET", "big%d" % i, value) == b"QUEUED"
        except Exception as e:  # the 64th MB
            refused = i
            assert "transaction too large" in str(e)
            break
    assert refused is not None and 60 <= refused <= 64, refused
    assert int(client_fields(server, me)["multi-mem"]) <= 64 << 20
    with pytest.raises(redis.exceptions.ExecAbortError):
        r.execute_command("EXEC")


def test_watch_keeps_a_bounded_number_of_keys(r):
    r = raw(r)
    with pytest.raises(Exception, match="too many watched keys"):
        r.execute_command("WATCH", *("w%d" % i for i in range(100_001)))
    assert r.execute_command("WATCH", "a", "b") == b"OK"
    assert r.execute_command("UNWATCH") == b"OK"
    key = b"k" * (1 << 20)  # a few keys, but 1 MB each: bounded in bytes too
    with pytest.raises(Exception, match="too many watched keys"):
        for i in range(70):
            r.execute_command("WATCH", key + str(i).encode())
    assert r.execute_command("UNWATCH") == b"OK"
