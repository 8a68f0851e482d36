"""String commands through redis-py, compared with Redis 7's documented
replies."""

import time

import pytest
import redis


def test_get_set_binary_safe(r):
    value = bytes(range(256)) * 4
    assert r.set(b"k\x00\r\n", value) is True
    assert r.get(b"k\x00\r\n") == value
    assert r.get("missing") is None
    assert r.strlen(b"k\x00\r\n") == 1024


def test_set_options(r):
    assert r.set("k", "v1", nx=True) is True
    assert r.set("k", "v2", nx=True) is None
    assert r.get("k") == b"v1"
    assert r.set("other", "x", xx=True) is None
    assert r.exists("other") == 0
    assert r.set("k", "v3", xx=True) is True
    assert r.set("k", "v4", get=True) == b"v3"
    assert r.set("new", "v", get=True) is None
    assert r.set("k", "v5", ex=100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "v6", keepttl=True) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "v7") is True
    assert r.ttl("k") == -1, "SET without KEEPTTL clears the TTL"
    assert r.set("k", "v", px=100_000) is True
    assert 99_000 < r.pttl("k") <= 100_000
    now = int(time.time())
    assert r.set("k", "v", exat=now + 1000) is True
    assert r.expiretime("k") == now + 1000
    assert r.set("k", "v", pxat=(now + 500) * 1000) is True
    assert r.pexpiretime("k") == (now + 500) * 1000
    assert r.set("k", "v", pxat=1) is True
    assert r.get("k") is None, "an expiry in the past deletes the key"


def test_set_option_errors(r):
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "NX", "XX")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "EX", "10", "PX", "100")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "KEEPTTL", "EX", "10")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.execute_command("SET", "k", "v", "EX", "0")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("SET", "k", "v", "EX", "ten")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.execute_command("SET", "k", "v", "EX", str(2**62))
    assert r.exists("k") == 0, "a refused SET changes nothing"


def test_setnx_setex_psetex_getset(r):
    assert r.setnx("k", "a") is True
    assert r.setnx("k", "b") is False
    assert r.setex("e", 50, "v") is True
    assert 49 <= r.ttl("e") <= 50
    assert r.psetex("p", 5000, "v") is True
    assert 4000 < r.pttl("p") <= 5000
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'setex' command"):
        r.setex("e", -1, "v")
    assert r.getset("k", "c") == b"a"
    assert r.getset("nokey", "c") is None
    assert r.get("k") == b"c"


def test_getdel_getex(r):
    r.set("k", "v")
    assert r.getdel("k") == b"v"
    assert r.exists("k") == 0
    assert r.getdel("k") is None
    r.set("k", "v")
    assert r.getex("k", ex=100) == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k") == b"v"
    assert r.getex("missing", ex=10) is None
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("GETEX", "k", "EX")


def test_mget_mset_msetnx(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c") == [b"1", b"2", None]
    assert r.msetnx({"c": "3", "a": "x"}) is False
    assert r.get("c") is None, "MSETNX sets nothing if any key exists"
    assert r.msetnx({"c": "3", "d": "4"}) is True
    assert r.mget("c", "d") == [b"3", b"4"]
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'mset' command"):
        r.execute_command("MSET", "a", "1", "b")


def test_append_strlen_ranges(r):
    assert r.append("k", "Hello") == 5
    assert r.append("k", " World") == 11
    assert r.strlen("k") == 11
    assert r.strlen("missing") == 0
    assert r.getrange("k", 0, 4) == b"Hello"
    assert r.getrange("k", -5, -1) == b"World"
    assert r.getrange("k", 0, -1) == b"Hello World"
    assert r.getrange("k", 10, 100) == b"d"
    assert r.getrange("k", 5, 3) == b""
    assert r.getrange("k", -1, -5) == b""
    assert r.getrange("missing", 0, -1) == b""
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == b"Hello Redis"
    assert r.setrange("pad", 3, "x") == 4
    assert r.get("pad") == b"\x00\x00\x00x"
    assert r.setrange("none", 0, "") == 0
    assert r.exists("none") == 0
    with pytest.raises(redis.ResponseError, match="offset is out of range"):
        r.setrange("k", -1, "x")
    with pytest.raises(redis.ResponseError, match="string exceeds maximum allowed size"):
        r.setrange("k", 512 * 1024 * 1024, "x")
    r.set("t", "v", ex=100)
    r.append("t", "w")
    assert r.ttl("t") > 0, "APPEND keeps the TTL"


def test_incr_family(r):
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.decr("n") == 41
    assert r.decrby("n", 40) == 1
    assert r.incrby("n", -2) == -1
    r.set("big", str(2**63 - 1))
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("big")
    assert r.get("big") == str(2**63 - 1).encode()
    r.set("s", "abc")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("s")
    r.set("lead", "007")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("lead")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("INCRBY", "n", "1.5")
    with pytest.raises(redis.ResponseError, match="decrement would overflow"):
        r.execute_command("DECRBY", "n", str(-2**63))


def test_incrbyfloat(r):
    r.set("f", "10.50")
    assert r.incrbyfloat("f", 0.1) == pytest.approx(10.6)
    assert r.get("f") == b"10.6"
    r.set("e", "5.0e3")
    assert r.incrbyfloat("e", "2.0e2") == 5200
    assert r.get("e") == b"5200"
    assert r.incrbyfloat("new", 3) == 3
    with pytest.raises(redis.ResponseError, match="value is not a valid float"):
        r.incrbyfloat("f", "abc")
    with pytest.raises(redis.ResponseError, match="increment would produce NaN or Infinity"):
        r.incrbyfloat("f", "inf")
    r.set("s", "abc")
    with pytest.raises(redis.ResponseError, match="value is not a valid float"):
        r.incrbyfloat("s", 1)


def test_expiry_happens(r):
    r.set("k", "v", px=150)
    assert r.get("k") == b"v"
    time.sleep(0.3)
    assert r.get("k") is None
    assert r.ttl("k") == -2
    assert r.exists("k") == 0
