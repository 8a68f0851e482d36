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
