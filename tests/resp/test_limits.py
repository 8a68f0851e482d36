"""What one RESP client can make quiverd spend (issue 25): memory follows
the bytes that arrive, not the lengths a request announces; the query
buffer shrinks back after a large request; before AUTH only small requests
are parsed, as Redis 7 does."""

import socket

import pytest

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
        assert grown < 50 << 20, "8 x 512 MB announced, 8 MB sent: RSS grew %d bytes" % grown
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
