"""Generic key commands, databases, SCAN and KEYS through redis-py."""

import time

import pytest
import redis


def test_del_exists_type(r):
    r.mset({"a": "1", "b": "2"})
    assert r.exists("a", "b", "a", "c") == 3
    assert r.type("a") == b"string"
    assert r.type("c") == b"none"
    assert r.delete("a", "b", "c") == 2
    assert r.exists("a", "b") == 0
    r.set("u", "1")
    assert r.unlink("u", "zz") == 1


def test_expire_family(r):
    r.set("k", "v")
    assert r.expire("k", 100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.expire("nokey", 100) is False
    assert r.pexpire("k", 50_000) is True
    assert 49_000 < r.pttl("k") <= 50_000
    at = int(time.time()) + 1000
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    assert r.pexpireat("k", at * 1000 + 5) is True
    assert r.pexpiretime("k") == at * 1000 + 5
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.ttl("k") == -1 and r.pttl("k") == -1 and r.expiretime("k") == -1
    assert r.ttl("nokey") == -2 and r.pexpiretime("nokey") == -2
    assert r.expire("k", -1) is True
    assert r.exists("k") == 0, "a TTL in the past deletes the key"


def test_expire_conditions(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.expire("k", 100, nx=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.expire("k", 300, lt=True) is False
    assert r.expire("k", 10, lt=True) is True
    r.set("p", "v")
    assert r.expire("p", 10, gt=True) is False, "no TTL counts as infinite for GT"
    assert r.expire("p", 10, lt=True) is True
    with pytest.raises(redis.ResponseError, match="NX and XX, GT or LT options at the same time"):
        r.execute_command("EXPIRE", "k", "10", "NX", "XX")
    with pytest.raises(redis.ResponseError, match="GT and LT options at the same time"):
        r.execute_command("EXPIRE", "k", "10", "GT", "LT")
    with pytest.raises(redis.ResponseError, match="Unsupported option FOO"):
        r.execute_command("EXPIRE", "k", "10", "FOO")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'expire' command"):
        r.execute_command("EXPIRE", "k", str(2**62))


def test_rename(r):
    r.set("a", "1", ex=100)
    assert r.rename("a", "b") is True
    assert r.get("b") == b"1" and r.exists("a") == 0
    assert r.ttl("b") > 0, "RENAME keeps the TTL"
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.rename("a", "c")
    r.set("c", "3")
    assert r.renamenx("b", "c") is False
    assert r.renamenx("b", "d") is True
    assert r.get("d") == b"1"
    assert r.rename("d", "d") is True


def test_keys_and_patterns(r):
    r.mset({"user:1": "a", "user:2": "b", "user:10": "c", "item:1": "d", "h[x]": "e"})
    assert sorted(r.keys("user:*")) == [b"user:1", b"user:10", b"user:2"]
    assert sorted(r.keys("user:?")) == [b"user:1", b"user:2"]
    assert sorted(r.keys("*:1")) == [b"item:1", b"user:1"]
    assert sorted(r.keys("user:[12]")) == [b"user:1", b"user:2"]
    assert sorted(r.keys("user:[^1]")) == [b"user:2"]
    assert r.keys("h\\[x\\]") == [b"h[x]"]
    assert r.keys("item:1") == [b"item:1"]
    assert len(r.keys("*")) == 5


def test_scan_visits_every_key_once_per_pass(r):
    keys = {f"key:{i}".encode() for i in range(5000)}
    with r.pipeline(transaction=False) as p:
        for k in keys:
            p.set(k, "v")
        p.execute()
    seen = []
    cursor = 0
    while True:
        cursor, batch = r.scan(cursor, count=100)
        seen.extend(batch)
        if cursor == 0:
            break
    assert set(seen) == keys
    assert len(seen) == len(keys), "no key comes twice when nothing changes"
    assert set(r.scan_iter(match="key:1??")) == {f"key:{i}".encode() for i in range(100, 200)}
    assert list(r.scan_iter(_type="hash")) == []
    assert len(list(r.scan_iter(_type="STRING", count=1000))) == 5000
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.execute_command("SCAN", "abc")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SCAN", "0", "COUNT", "0")


def test_scan_while_the_table_grows(r):
    before = {f"old:{i}".encode() for i in range(2000)}
    for k in before:
        r.set(k, "v")
    seen = set()
    cursor, rounds = 0, 0
    while True:
        cursor, batch = r.scan(cursor, count=50)
        seen.update(batch)
        with r.pipeline(transaction=False) as p:  # grow the table during the scan
            for i in range(200):
                p.set(f"new:{rounds}:{i}", "v")
            p.execute()
        rounds += 1
        if cursor == 0:
            break
    assert before <= seen, "keys present for the whole scan are all returned"


def test_randomkey_dbsize_select_flush(r, server):
    assert r.randomkey() is None
    assert r.dbsize() == 0
    r.mset({"a": "1", "b": "2"})
    assert r.randomkey() in (b"a", b"b")
    assert r.dbsize() == 2
    other = server.client(db=3)
    assert other.dbsize() == 0
    other.set("a", "db3")
    assert other.get("a") == b"db3" and r.get("a") == b"1"
    assert r.flushdb() is True
    assert r.dbsize() == 0 and other.dbsize() == 1
    assert other.flushall() is True
    assert other.dbsize() == 0
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.execute_command("SELECT", "16")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("SELECT", "x")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("FLUSHDB", "NOW")
    other.close()


def test_dbsize_counts_expiry_and_deletes(r):
    expired_before = r.info("stats")["expired_keys"]
    r.set("a", "1", px=100)
    r.set("b", "2")
    r.set("c", "3", ex=100)
    info = r.info("keyspace")
    assert info["db0"]["keys"] == 3 and info["db0"]["expires"] == 2
    r.delete("b")
    deadline = time.monotonic() + 10
    while r.dbsize() != 1 and time.monotonic() < deadline:
        time.sleep(0.1)  # the sweep runs every second
    assert r.dbsize() == 1
    assert r.info("keyspace")["db0"] == {"keys": 1, "expires": 1, "avg_ttl": 0}
    # The sweep removed "a" because it expired; "b" was deleted.
    assert r.info("stats")["expired_keys"] == expired_before + 1
