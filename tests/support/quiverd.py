"""A real quiverd for the Python test suites (tests/resp, tests/http): the
binary named by $QUIVERD, every port on a free loopback port, its data in a
fresh temporary directory."""

import os
import subprocess
import tempfile
import time

import redis


def wait_for(condition, what, timeout=30):
    """Polls a condition that quiverd's own state answers (not a sleep
    standing in for synchronisation); fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


class Quiverd:
    def __init__(self, *extra, data_dir=None):
        """data_dir: where the data lives (default: in a fresh temporary
        directory)."""
        self.binary = os.environ.get("QUIVERD", "build/release/server/quiverd")
        self.dir = tempfile.mkdtemp(prefix="quiver-resp-")
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        self.extra = extra
        self.start()

    @classmethod
    def with_definitions(cls, yaml, *extra, data_dir=None):
        """A quiverd started with these feature definitions (--features)."""
        defs = os.path.join(tempfile.mkdtemp(prefix="quiver-defs-"), "features.yaml")
        with open(defs, "w") as f:
            f.write(yaml)
        return cls("--features", defs, *extra, data_dir=data_dir)

    def start(self, *more):
        """Starts quiverd on the data directory (again, after a stop)."""
        port_file = os.path.join(self.dir, "ports")
        if os.path.exists(port_file):
            os.remove(port_file)
        # Every port on a free one, but those the test sets itself.
        ports = [x for flag in ("--port", "--resp-port", "--http-port")
                 if flag not in self.extra + more for x in (flag, "0")]
        # Two I/O threads unless the test says, so that the suites' clients
        # are served by different threads whatever the machine (the default
        # is one per core but one: one on 2 cores).
        threads = [] if "--threads" in self.extra + more else ["--threads", "2"]
        self.proc = subprocess.Popen(
            [self.binary, *ports, *threads, "--port-file", port_file,
             "--data-dir", self.data_dir, "--log-level", "warn",
             *self.extra, *more])
        deadline = time.monotonic() + 60
        while not os.path.exists(port_file):
            assert self.proc.poll() is None, "quiverd exited"
            assert time.monotonic() < deadline, "quiverd did not start"
            time.sleep(0.02)
        with open(port_file) as f:
            ports = [int(x) for x in f.read().split()]
        # native, RESP, HTTP, RESP over TLS, native over TLS, HTTPS (0: none)
        (self.port, self.resp_port, self.http_port, self.tls_port, self.tls_native_port,
         self.tls_http_port) = ports

    def restart(self, kill=False):
        """Stops quiverd (SIGKILL if kill, else SIGTERM) and starts it again
        on the same data directory."""
        if kill:
            self.proc.kill()
            self.proc.wait(60)
        else:
            self.terminate()
        self.start()

    def client(self, host="127.0.0.1", **kwargs):
        return redis.Redis(host=host, port=self.resp_port, **kwargs)

    def cli(self, *args, stdin=None, check=True):
        """Runs redis-cli against the RESP port; returns its stdout."""
        done = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.resp_port), *args],
            input=stdin, capture_output=True, check=check, timeout=60)
        return done.stdout.decode()

    def terminate(self):
        """SIGTERM, and asserts a clean exit within 60 s. A quiverd that
        does not exit is killed first, so that no failed test leaves one
        running (taking a core from every test after it)."""
        self.proc.terminate()
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(60)
            raise AssertionError("quiverd did not exit within 60 s of SIGTERM")
        assert code == 0, f"quiverd did not exit cleanly (exit status {code})"

    def stop(self):
        try:
            self.terminate()
        finally:
            subprocess.run(["rm", "-rf", self.dir], check=False)

    @property
    def quiver_cli(self):
        """The `quiver` CLI built beside this quiverd."""
        return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(self.binary))),
                            "client", "quiver")
