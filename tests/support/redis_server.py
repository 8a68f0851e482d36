"""A real redis-server on a free loopback port, for the suites that compare
quiverd with Redis or feed it Redis's data."""

import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A real redis-server on a free loopback port (extra: its options)."""

    def __init__(self, *extra, password=None):
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed (the install script installs it)")
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="quiver-redis-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.workdir, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port, password=password)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self):
        """SIGTERM; SIGKILL if it has not exited within 30 s (a redis-server
        running a script that a failed test left does not stop on SIGTERM)."""
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        shutil.rmtree(self.workdir, ignore_errors=True)
