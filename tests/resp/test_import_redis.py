"""`quiver import-redis`: a real redis-server holding every type, in
several databases, with TTLs (and a stream, which quiverd does not serve)
is copied into quiverd; every key reads back the same, with the same
expiry. Existing keys are skipped unless --replace; a password-protected
source is reached with --source-password."""

import os
import subprocess

import pytest

from conftest import RedisServer
from test_dump import contents, populate


def quiver_cli(server):
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(server.binary))),
                        "client", "quiver")


def run_import(server, source, *extra):
    return subprocess.run(
        [quiver_cli(server), "import-redis", f"127.0.0.1:{source.port}", "--resp-port",
         str(server.resp_port), "--no-progress", *extra],
        capture_output=True, text=True, timeout=300)


@pytest.fixture
def source():
    s = RedisServer()
    yield s
    s.stop()


def every_key(c, dbs):
    out = {}
    for db in dbs:
        c.execute_command("SELECT", db)
        for key in c.keys("*"):
            if c.type(key) == b"stream":
                out[(db, key)] = "a stream"
                continue
            kind, value, _ = contents(c, key)
            out[(db, key)] = (kind, value, c.pexpiretime(key))
    c.execute_command("SELECT", 0)
    return out


def test_every_type_of_every_database_is_copied_with_its_expiry(server, source):
    src = source.client
    populate(src)
    src.execute_command("SELECT", 5)
    populate(src)
    for i in range(2000):  # several SCAN batches
        src.set(f"many:{i}", i, px=1_000_000 + i if i % 3 == 0 else None)
    src.execute_command("SELECT", 0)
    src.xadd("events", {"a": "1"})
    r = server.client()
    r.flushall()
    done = run_import(server, source, "--batch", "300")
    assert done.returncode == 1, done.stderr  # the stream was skipped
    want = every_key(src, [0, 5])
    del want[(0, b"events")]
    assert every_key(r, [0, 5]) == want
    assert f"copied {len(want)} keys" in done.stdout
    assert ("skipped 1 keys: ERR Bad data format: the value is a stream, which quiver does not "
            "serve (e.g. db0 'events')") in done.stdout


def test_existing_keys_are_skipped_unless_replace(server, source):
    src = source.client
    src.set("a", "from redis")
    src.set("b", "from redis")
    r = server.client()
    r.flushall()
    r.set("a", "in quiverd")
    done = run_import(server, source)
    assert done.returncode == 1
    assert "copied 1 keys" in done.stdout
    assert "skipped 1 keys: BUSYKEY Target key name already exists. (use --replace)" in done.stdout
    assert r.get("a") == b"in quiverd"
    done = run_import(server, source, "--replace", "--db", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert r.mget("a", "b") == [b"from redis", b"from redis"]


def test_a_password_protected_source(server):
    s = RedisServer("--requirepass", "s3cret", password="s3cret")
    try:
        s.client.set("k", "v")
        r = server.client()
        r.flushall()
        refused = run_import(server, s)
        assert refused.returncode == 1
        assert "NOAUTH" in refused.stderr or "Authentication required" in refused.stderr
        done = run_import(server, s, "--source-password", "s3cret")
        assert done.returncode == 0, done.stderr
        assert r.get("k") == b"v"
        wrong = run_import(server, s, "--source-password", "nope")
        assert wrong.returncode == 1 and "AUTH failed" in wrong.stderr
    finally:
        s.stop()


def test_an_unreachable_source_fails_clearly(server):
    done = subprocess.run([quiver_cli(server), "import-redis", "127.0.0.1:1", "--resp-port",
                           str(server.resp_port)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "cannot connect to 127.0.0.1:1" in done.stderr
