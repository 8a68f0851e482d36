"""pytest fixtures for the RESP port: a real quiverd (the binary named by
$QUIVERD) with its RESP port on a free loopback port, driven by real Redis
clients: redis-py and redis-cli."""

import os
import sys

import pytest

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
