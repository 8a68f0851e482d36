"""Hash commands through redis-py, including a Feast-style exchange:
pipelined HSET of binary fields with EXPIRE, then pipelined HMGET."""

import struct
import threading
import time

import pytest
import redis


def test_hset_hget_hgetall(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hset("h", mapping={"b": "3", "c": "4"}) == 1
    assert r.hget("h", "b") == b"3"
    assert r.hget("h", "zz") is None
    assert r.hget("nokey", "a") is None
    assert r.hgetall("h") == {b"a": b"1", b"b": b"3", b"c": b"4"}
    assert r.hgetall("nokey") == {}
    assert r.hmget("h", "a", "zz", "c") == [b"1", None, b"4"]
    assert r.execute_command("HMSET", "h", "d", "5") is True
    assert r.hlen("h") == 4
    assert sorted(r.hkeys("h")) == [b"a", b"b", b"c", b"d"]
    assert sorted(r.hvals("h")) == [b"1", b"3", b"4", b"5"]
    assert r.hexists("h", "a") is True and r.hexists("h", "x") is False
    assert r.hstrlen("h", "a") == 1 and r.hstrlen("h", "x") == 0
    assert r.type("h") == b"hash"
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hset'"):
        r.execute_command("HSET", "h", "a")


def test_hsetnx_hdel_removes_empty_hash(r):
    assert r.hsetnx("h", "f", "1") == 1
    assert r.hsetnx("h", "f", "2") == 0
    assert r.hget("h", "f") == b"1"
    assert r.hdel("h", "f", "nope") == 1
    assert r.exists("h") == 0, "a hash left without fields is deleted"
    assert r.hdel("h", "f") == 0


def test_hincrby_hincrbyfloat(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hincrbyfloat("h", "f", 10.5) == 10.5
    assert r.hincrbyfloat("h", "f", 0.1) == pytest.approx(10.6)
    assert r.hget("h", "f") == b"10.6"
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        r.hincrby("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="hash value is not a float"):
        r.hincrbyfloat("h", "s", 1)
    r.hset("h", "big", str(2**63 - 1))
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.hincrby("h", "big", 1)


def test_wrong_type_both_ways(r):
    r.set("s", "v")
    r.hset("h", "f", "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Operation against a key"):
        r.hget("s", "f")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.hset("s", "f", "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.get("h")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.incr("h")
    assert r.get("s") == b"v" and r.hget("h", "f") == b"v", "refused commands change nothing"
    assert r.set("h", "now a string") is True, "SET replaces a value of any type"
    assert r.type("h") == b"string"


def test_hscan_hrandfield(r):
    r.hset("h", mapping={f"f{i}": str(i) for i in range(50)})
    cursor, found = r.hscan("h", 0, match="f1*")
    assert cursor == 0
    assert found == {f"f{i}".encode(): str(i).encode() for i in [1] + list(range(10, 20))}
    assert r.hrandfield("h") in {f"f{i}".encode() for i in range(50)}
    assert len(set(r.hrandfield("h", 10))) == 10
    assert len(r.hrandfield("h", -100)) == 100
    assert len(r.hrandfield("h", 100)) == 50
    pairs = r.hrandfield("h", 3, withvalues=True)
    assert len(pairs) == 6 and all(pairs[i + 1] == pairs[i][1:] for i in range(0, 6, 2))
    assert r.hrandfield("nokey") is None
    assert r.hrandfield("nokey", 5) == []


def test_ttl_and_rename_keep_the_hash(r):
    r.hset("h", "f", "v")
    r.expire("h", 100)
    r.hset("h", "g", "w")
    assert r.ttl("h") > 0, "HSET keeps the TTL"
    r.rename("h", "h2")
    assert r.hgetall("h2") == {b"f": b"v", b"g": b"w"}


def test_feast_style_exchange(r):
    # Feast's Redis online store: one hash per entity, binary field names
    # (murmur hashes of feature names) and serialized protobuf values, with
    # an EXPIRE, all pipelined; then HMGET across many entities.
    entities = [f"\x02\x00user_id\x00\x00\x00{i}".encode() + b"\x01project" for i in range(2000)]
    fields = [struct.pack("<I", 0xDEADBEEF ^ k) for k in range(8)] + [b"_ts:user_profile"]
    with r.pipeline(transaction=False) as p:
        for i, key in enumerate(entities):
            p.hset(key, mapping={f: struct.pack("<dI", i * 0.5, k) for k, f in enumerate(fields)})
            p.expire(key, 3600)
        results = p.execute()
    assert results == [len(fields), True] * len(entities)
    with r.pipeline(transaction=False) as p:
        for key in entities:
            p.hmget(key, fields)
        rows = p.execute()
    for i, row in enumerate(rows):
        assert row == [struct.pack("<dI", i * 0.5, k) for k in range(len(fields))]
    assert 3590 < r.ttl(entities[-1]) <= 3600


def test_large_hashes_change_in_place(server, r):
    """Past 128 fields (or 16 KiB) a hash is boxed: every command works the
    same, TTL and WATCH included, and memory is given back."""
    before = r.info("memory")["used_memory_dataset"]
    r.hset("big", "f0", "v0")
    r.expire("big", 1000)
    watcher = server.client()
    pipe = watcher.pipeline()
    pipe.watch("big")
    with r.pipeline(transaction=False) as p:
        for i in range(1, 3000):
            p.hset("big", f"f{i}", f"v{i}")
        assert p.execute() == [1] * 2999
    assert r.hlen("big") == 3000 and r.ttl("big") > 0
    assert r.hget("big", "f2999") == b"v2999" and r.hget("big", "nope") is None
    assert r.hmget("big", "f1", "zz", "f2") == [b"v1", None, b"v2"]
    assert r.hgetall("big") == {f"f{i}".encode(): f"v{i}".encode() for i in range(3000)}
    assert r.hset("big", "f1", "changed") == 0 and r.hsetnx("big", "f1", "x") == 0
    assert r.hincrby("big", "n", 5) == 5 and r.hexists("big", "n") is True
    assert r.hstrlen("big", "f1") == 7
    assert len(r.hkeys("big")) == len(r.hvals("big")) == 3001
    cursor, found = r.hscan("big", 0, match="f29??", count=10)
    assert cursor == 0 and len(found) == 100
    assert len(r.hrandfield("big", 5)) == 5
    pipe.multi()
    pipe.set("done", "1")
    with pytest.raises(redis.WatchError):
        pipe.execute()  # the hash changed in place since WATCH
    watcher.close()
    r.rename("big", "big2")
    assert r.hlen("big2") == 3001 and r.exists("big") == 0
    assert r.hdel("big2", *[f"f{i}" for i in range(3000)], "n") == 3001
    assert r.exists("big2") == 0, "a boxed hash left empty is deleted"
    r.hset("wide", "blob", b"x" * 20000)  # one big value boxes it too
    assert r.hget("wide", "blob") == b"x" * 20000
    r.delete("wide")
    deadline = time.monotonic() + 10  # freed after an RCU grace period
    while r.info("memory")["used_memory_dataset"] > before + 4096 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.info("memory")["used_memory_dataset"] <= before + 4096


def test_concurrent_writers_across_the_boxing(server, r):
    """Clients race to add fields (the hash is boxed midway) and to
    increment one field: nothing is lost."""
    def add(n):
        c = server.client()
        with c.pipeline(transaction=False) as p:
            for i in range(300):
                p.hset("race", f"{n}:{i}", i)
                p.hincrby("race", "count", 1)
            p.execute()

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert r.hlen("race") == 4 * 300 + 1
    assert r.hget("race", "count") == b"1200"
