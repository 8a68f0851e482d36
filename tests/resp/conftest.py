"""pytest fixtures for the RESP port: a real quiverd (the binary named by
$QUIVERD) with its RESP port on a free loopback port, driven by real Redis
clients: redis-py and redis-cli."""

import os
import socket
import sys

import pytest
import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from quiverd import Quiverd, wait_for  # noqa: E402,F401  (Quiverd re-exported to the tests)
from redis_server import RedisServer, free_port  # noqa: E402,F401  (re-exported)


def kill_running_script(port, *kill):
    """Sends the kill (SCRIPT KILL, FUNCTION KILL) from a new client until
    it is not NOTBUSY, once a script runs. A client accepted on the
    script's I/O thread just before it started waits for it, as on Redis,
    so each try has a client of its own and a timeout."""
    def killed():
        c = redis.Redis(port=port, socket_timeout=5)
        try:
            assert c.execute_command(*kill) == b"OK"
            return True
        except redis.ResponseError as e:
            assert "NOTBUSY" in str(e)  # not started yet
            return False
        except redis.TimeoutError:
            return False
        finally:
            c.close()
    wait_for(killed, "the kill never got through", timeout=60)


@pytest.fixture(scope="module")
def server():
    s = Quiverd()
    yield s
    s.stop()


@pytest.fixture
def r(server):
    """A redis-py client on a database of its own, flushed first."""
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture(scope="module")
def reference():
    """A real redis-server: the reference for every reply."""
    s = RedisServer()
    yield s.client
    s.stop()


# Replies that are sets in Redis (RESP3 "~"): compared without order.
UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "SPOP", "SRANDMEMBER", "SSCAN"}


def reply(client, *args):
    """A command's reply, or "error: ..." for an error reply, with set
    replies sorted: the same on quiverd and on the reference for the same
    command."""
    name = str(args[0]).upper()
    # redis-py's parser of OBJECT's replies wants the subcommand.
    options = {"infotype": args[1] if len(args) > 1 else None} if name == "OBJECT" else {}
    try:
        out = client.execute_command(*args, **options)
    except redis.ResponseError as e:
        return "error: " + str(e)
    if name == "SSCAN":
        return [out[0], sorted(out[1])]
    if name in UNORDERED and isinstance(out, (list, set)):
        return sorted(out)
    return out


class Raw:
    """A RESP connection that returns each reply's bytes as the server
    wrote them, so that replies compare byte for byte, scores, RESP3 types
    and error texts included."""

    def __init__(self, port, protocol):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.f = self.sock.makefile("rb")
        if protocol == 3:
            self.call("HELLO", "3")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()
        kind, body = line[:1], line[1:-2]
        if kind in b"$=!" and int(body) >= 0:
            return line + self.f.read(int(body) + 2)
        if kind in b"*~>":
            return line + b"".join(self.read() for _ in range(max(int(body), 0)))
        if kind == b"%":
            return line + b"".join(self.read() for _ in range(2 * int(body)))
        return line

    def close(self):
        self.f.close()
        self.sock.close()


def key_events(client, flags="KEA"):
    """Turns keyspace notifications on (flags) and returns a listener of
    every key event of database 0."""
    client.config_set("notify-keyspace-events", flags)
    listener = client.pubsub()
    listener.psubscribe("__keyevent@0__:*")
    assert listener.get_message(timeout=10)["type"] == "psubscribe"
    return listener


def raw(client):
    """The client without redis-py's reply conversions: scores as bytes."""
    client.response_callbacks.clear()
    return client


def assert_same_replies(server, reference, commands, protocol, compared=lambda name, out: out):
    """Runs commands on emptied quiverd and Redis, over Raw connections in
    `protocol`, and asserts byte-identical replies (as `compared` sees
    them: given the command's name and its reply)."""
    reference.flushall()
    raw(redis.Redis(port=server.resp_port)).flushall()
    ours = Raw(server.resp_port, protocol)
    theirs = Raw(reference.connection_pool.connection_kwargs["port"], protocol)
    try:
        for command in commands:
            assert compared(command[0], ours.call(*command)) == \
                compared(command[0], theirs.call(*command)), command
    finally:
        ours.close()
        theirs.close()
