"""pytest fixtures for the RESP port: a real quiverd (the binary named by
$QUIVERD) with its RESP port on a free loopback port, driven by real Redis
clients: redis-py and redis-cli."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from quiverd import Quiverd  # noqa: E402,F401  (re-exported to the tests)


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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def reference():
    """A real redis-server: the reference for every reply."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (the install script installs it)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="quiver-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
    yield client
    proc.terminate()
    proc.wait(30)
    shutil.rmtree(workdir, ignore_errors=True)


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
