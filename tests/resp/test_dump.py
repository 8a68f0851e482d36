"""DUMP and RESTORE in Redis's serialization format: every type, in every
encoding redis-server 7.0 chooses (packed and large), DUMPed from
redis-server RESTOREs into quiverd with the same contents, and back; the
options, errors and notifications are Redis's; restored keys persist."""

import struct

import pytest
import redis

from conftest import Quiverd, assert_same_replies, key_events


def populate(c):
    """Keys of every type, small (packed encodings) and large."""
    c.set("str:short", "hello")
    c.set("str:int", "-12345")
    c.set("str:bigint", "98765432109876543210")
    c.set("str:lzf", "abc" * 1000)
    c.set("str:binary", bytes(range(256)) * 3)
    c.set("str:empty", "")
    c.set("str:ttl", "t", px=500_000)
    c.rpush("list:small", "a", "1", "-300", "x" * 70, "")
    c.rpush("list:large", *[f"item{i}" * (i % 7) for i in range(5000)])
    c.rpush("list:plain", "y" * 10000, "small")  # a node too large to pack
    c.sadd("set:ints", 1, 2, -70000, 2**40)
    c.sadd("set:strs", "a", "b", "c")
    c.sadd("set:large", *range(1000))
    c.sadd("set:largestr", *[f"m{i}" for i in range(300)])
    c.hset("hash:small", mapping={"f": "v", "n": "7", "e": ""})
    c.hset("hash:large", mapping={f"field{i}": f"value{i}" for i in range(300)})
    c.zadd("zset:small", {"a": 1.5, "b": -2, "c": float("inf"), "d": float("-inf"), "e": 0.1})
    c.zadd("zset:large", {f"member{i}": i / 3 for i in range(300)})
    c.pexpire("zset:large", 400_000)


def contents(c, key):
    kind = c.type(key)
    read = {b"string": lambda: c.get(key), b"list": lambda: c.lrange(key, 0, -1),
            b"set": lambda: sorted(c.smembers(key)), b"hash": lambda: c.hgetall(key),
            b"zset": lambda: c.zrange(key, 0, -1, withscores=True)}
    return kind, read[kind](), c.pttl(key) > 0


def test_what_redis_dumps_restores_into_quiverd(r, reference):
    reference.flushall()
    populate(reference)
    for key in reference.keys("*"):
        payload = reference.dump(key)
        ttl = max(reference.pttl(key), 0)
        r.restore(key, ttl, payload)
        assert contents(r, key) == contents(reference, key), key


def test_what_quiverd_dumps_restores_into_redis(r, reference):
    reference.flushall()
    populate(r)
    for key in r.keys("*"):
        reference.restore(key, max(r.pttl(key), 0), r.dump(key))
        assert contents(reference, key) == contents(r, key), key
    assert r.dump("str:short") == reference.dump("str:short"), "the same bytes as Redis"
    assert r.dump("str:int") == reference.dump("str:int")


@pytest.mark.parametrize("protocol", [2, 3])
def test_options_and_errors_answer_as_redis(server, reference, protocol):
    reference.flushall()
    reference.set("p", "payload value")
    payload = reference.dump("p")
    assert_same_replies(server, reference, [
        ["SET", "k", "x"], ["RESTORE", "k", "0", payload], ["RESTORE", "k", "-1", payload],
        ["RESTORE", "k", "-1", payload, "REPLACE"], ["RESTORE", "n", "0", "garbage"],
        ["RESTORE", "n", "0", payload[:-1] + b"\x00"], ["RESTORE", "n", "x", payload],
        ["RESTORE", "n", "0", payload, "IDLETIME", "-1"],
        ["RESTORE", "n", "0", payload, "FREQ", "256"], ["RESTORE", "n", "0", payload, "FREQ", "x"],
        ["RESTORE", "n", "0", payload, "IDLETIME", "1", "FREQ", "1"],
        ["RESTORE", "n", "0", payload, "BOGUS"], ["RESTORE", "n", "0", payload, "IDLETIME"],
        ["RESTORE", "n", "0"], ["DUMP"],
        ["RESTORE", "n", "0", payload, "IDLETIME", "5"], ["GET", "n"],
        ["RESTORE", "k", "0", payload, "REPLACE", "FREQ", "3"], ["GET", "k"],
        ["RESTORE", "e", "1000", payload, "ABSTTL", "REPLACE"], ["EXISTS", "e"],
        ["RESTORE", "k", "1", payload, "ABSTTL", "REPLACE"], ["EXISTS", "k"],
        ["RESTORE", "t", "100000", payload], ["TTL", "t"],
        ["RESTORE", "a", "99999999999999", payload, "ABSTTL"], ["PEXPIRETIME", "a"],
        ["DUMP", "nokey"], ["DUMP", "n"],
    ], protocol)


def payload_of(body):
    """A DUMP payload of body with a good footer (RDB 10, Redis's CRC-64)."""
    data = body + struct.pack("<H", 10)
    crc = 0
    for byte in data:  # Redis's CRC-64 (Jones, reflected), bit by bit
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
    return data + struct.pack("<Q", crc)


def test_malformed_values_are_refused_and_change_nothing(r, reference):
    r.set("k", "kept")
    for body, why in [
            (b"\x02\x02\x01x\x01x", "a duplicate member or field"),
            (b"\x01\x00", "an empty collection"),
            (b"\x01\x02\x01a", "the payload ends inside its value"),
            (b"\x01\x05\x01a", "a count beyond the payload"),
            (b"\x0f\x00", "the value is a stream, which quiver does not serve"),
            (b"\x63", "an unknown value type 99")]:
        payload = payload_of(body)
        with pytest.raises(redis.ResponseError, match="^Bad data format"):
            reference.restore("k", 0, payload, replace=True)
        with pytest.raises(redis.ResponseError, match=f"^Bad data format: {why}$"):
            r.restore("k", 0, payload, replace=True)
        assert r.get("k") == b"kept"
    # Redis ignores bytes after the value; quiverd refuses a payload it
    # cannot account for whole.
    with pytest.raises(redis.ResponseError, match="^Bad data format: bytes after the value$"):
        r.restore("k", 0, payload_of(b"\x00\x01ab"), replace=True)
    assert r.get("k") == b"kept"
    with pytest.raises(redis.ResponseError, match="^keys under 'quiver:' are feature rows"):
        r.restore("quiver:v:1", 0, payload_of(b"\x00\x01a"))


def test_a_value_over_the_memory_limit_is_refused():
    s = Quiverd("--max-memory", "64mb")
    try:
        c = s.client()
        big = redis.Redis(port=s.resp_port)
        # A string LZF-compressed 88 to 1: 2.4 MB that would decompress to 200 MB.
        n = 200 << 20
        run = bytes([0]) + b"a" + b"\xe0\xff\x00" * ((n - 1) // 264)
        body = (b"\x00\xc3" + b"\x80" + struct.pack(">I", len(run)) + b"\x80" +
                struct.pack(">I", 1 + (n - 1) // 264 * 264) + run)
        with pytest.raises(redis.ResponseError, match="^the restored value would take more than"):
            big.restore("k", 0, payload_of(body))
        assert c.exists("k") == 0
        assert c.ping()
    finally:
        s.stop()


def test_restore_notifies_and_persists():
    s = Quiverd()
    try:
        c = s.client()
        reference_payloads = {}
        populate(c)
        for key in c.keys("*"):
            reference_payloads[key] = (contents(c, key), c.dump(key))
        c.flushall()
        listener = key_events(c, "KEA")
        for key, (_, payload) in reference_payloads.items():
            c.restore(key, 300_000, payload)
        got = [listener.get_message(timeout=10) for _ in reference_payloads]
        assert [(m["channel"], m["data"]) for m in got] == [
            (b"__keyevent@0__:restore", key) for key in reference_payloads]
        listener.close()
        s.restart(kill=True)
        c = s.client()
        for key, (want, _) in reference_payloads.items():
            kind, value, _ = want
            assert contents(c, key) == (kind, value, True), key
    finally:
        s.stop()
