"""pytest fixtures: a real quiverd (the binary named by $QUIVERD) on a free
loopback port with its data in a temporary directory."""

import os
import socket
import subprocess
import time

import pytest

import quiver


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp_path):
        self.binary = os.environ.get("QUIVERD", "build/release/server/quiverd")
        self.data = str(tmp_path / "data")
        self.port = free_port()
        self.proc = None

    def start(self):
        port_file = self.data + ".port"
        if os.path.exists(port_file):
            os.remove(port_file)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--resp-port", "0", "--http-port", "0",
             "--port-file",
             port_file, "--data-dir", self.data, "--log-level", "warn",
             # The tests write event times up to a day ahead of now.
             "--max-future-skew", "2d"])
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            assert self.proc.poll() is None, "quiverd exited"
            assert time.monotonic() < deadline, "quiverd did not start"
            time.sleep(0.02)

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def client(server):
    with quiver.Client("127.0.0.1", server.port, timeout=10) as c:
        yield c
