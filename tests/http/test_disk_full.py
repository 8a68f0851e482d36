"""A full disk under a real quiverd: its data directory on a small tmpfs,
filled by a ballast file until RocksDB's writes fail. Writes are refused on
every port (RESP's MISCONF, the native protocol's Unavailable "MISCONF …")
while reads go on and /health says 503; once the ballast is
removed, writes resume without a restart; a restart then finds every
acknowledged write and no refused one.

Mounting a tmpfs needs root (CAP_SYS_ADMIN); elsewhere the test is skipped
and says so. Faults of every kind (a failed fsync, no descriptors) are
injected in-process by tests/storage/history/fault_test.cc."""

import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest
import quiver
import redis

from conftest import DEFINITIONS, Quiverd
from quiverd import wait_for

VALUE = b"v" * (64 << 10)


def mount_tmpfs(size_mb):
    where = tempfile.mkdtemp(prefix="quiver-full-disk-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", where],
                          capture_output=True)
    if done.returncode != 0:
        os.rmdir(where)
        pytest.skip("cannot mount a small filesystem here (mount needs root): "
                    + done.stderr.decode().strip())
    return where


def health(server):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/health",
                                    timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def x_of(client):
    """The served value of quick:x for user u1."""
    return int(client.get_online_features(["quick:x"], ["u1"])["quick:x"][0])


def fill(path, keep_free_bytes):
    """A ballast file that leaves about keep_free_bytes free."""
    st = os.statvfs(os.path.dirname(path))
    size = max(0, st.f_bavail * st.f_frsize - keep_free_bytes)
    with open(path, "wb") as f:
        f.write(b"\0" * size)


class Writer(threading.Thread):
    """Writes keys one after another until told to stop; a write the disk
    refused is recorded, a write in flight simply waits."""

    def __init__(self, server, prefix="w"):
        super().__init__(daemon=True)
        self.client = server.client(socket_timeout=120, retry_on_timeout=False)
        self.prefix = prefix
        self.acked, self.refused = [], []
        self.closed = None  # the key in flight when the server closed the connection
        self.stop = threading.Event()

    def run(self):
        i = 0
        while not self.stop.is_set():
            key = f"{self.prefix}{i}"
            try:
                self.client.set(key, VALUE)
                self.acked.append(key)
            except redis.ResponseError as e:
                assert str(e).startswith("MISCONF"), str(e)
                self.refused.append(key)
                time.sleep(0.01)  # pacing a retry loop, not synchronisation
            except redis.ConnectionError:
                self.closed = key  # quiverd stopped: never acknowledged
                return
            i += 1


def test_a_full_disk_refuses_writes_keeps_reads_and_resumes_when_space_returns():
    mount = mount_tmpfs(48)
    server = None
    try:
        server = Quiverd.with_definitions(DEFINITIONS, "--durability", "sync",
                                          data_dir=os.path.join(mount, "data"))
        r = server.client()
        r.set("before", b"kept")
        native = quiver.Client(port=server.port)
        native.put("quick", [{"user_id": "u1", "x": 1}])
        ballast = os.path.join(mount, "ballast")
        fill(ballast, 6 << 20)

        writer = Writer(server)
        writer.start()
        wait_for(lambda: health(server)[0] == 503, "the full disk is reported by /health")
        code, body = health(server)
        assert body["status"] == "failing"
        assert "No space left on device" in body["reason"], body

        # Another client: its write is refused at once, in Redis's words.
        with pytest.raises(redis.ResponseError, match="^MISCONF .*No space left on device"):
            r.set("refused", b"x")
        assert r.get("refused") is None, "a refused write changes nothing"
        with pytest.raises(quiver.QuiverError) as refused:
            native.put("quick", [{"user_id": "u1", "x": 2}])
        assert refused.value.code == "Unavailable"
        assert refused.value.message.startswith("MISCONF"), refused.value.message
        assert r.get("before") == b"kept", "reads go on"
        assert x_of(native) == 1, "reads go on"
        assert "aof_last_write_status:err" in server.cli("INFO", "persistence")

        freed = time.monotonic()
        os.remove(ballast)
        wait_for(lambda: health(server)[0] == 200, "writes resume once there is room")
        refused_for = time.monotonic() - freed
        print(f"writes were refused for {refused_for:.2f} s after space came back")
        r.set("after", b"written")
        native.put("quick", [{"user_id": "u1", "x": 3}])
        acked_before = len(writer.acked)
        wait_for(lambda: len(writer.acked) > acked_before, "the writer goes on")
        writer.stop.set()
        writer.join(120)
        assert not writer.is_alive()

        # quiverd stops cleanly while the disk is full again: the write in
        # flight fails (it was never acknowledged) and SIGTERM is obeyed.
        fill(ballast, 6 << 20)
        second = Writer(server, "s")
        second.start()
        wait_for(lambda: health(server)[0] == 503, "the disk is full again")
        server.terminate()  # during a disk fault
        second.join(120)
        assert not second.is_alive()
        os.remove(ballast)

        server.start()
        r = server.client()
        for key in second.acked:
            assert r.get(key) == VALUE, f"acknowledged write {key} lost"
        for key in second.refused:
            assert r.get(key) is None, f"refused write {key} is visible"
        assert x_of(quiver.Client(port=server.port)) == 3
        assert r.get("before") == b"kept"
        assert r.get("after") == b"written"
        for key in writer.acked:
            assert r.get(key) == VALUE, f"acknowledged write {key} lost"
        for key in writer.refused:
            assert r.get(key) is None, f"refused write {key} is visible"
        assert r.get("refused") is None
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["umount", mount], check=False)
        os.rmdir(mount)
