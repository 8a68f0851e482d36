"""HyperLogLog: PFADD, PFCOUNT, PFMERGE and PFDEBUG keep Redis's string
representation byte for byte (sparse and dense, cache included) and count
as redis-server 7 counts, so an HLL value moves between the two servers
with GET and SET."""

import random

import pytest
import redis

from conftest import assert_same_replies, raw

HEADER = b"HYLL\x01\x00\x00\x00" + bytes(8)

FIXED = [
    ["PFADD", "h"], ["GET", "h"], ["PFCOUNT", "h"], ["GET", "h"], ["PFADD", "h", "a", "b", "c"],
    ["GET", "h"], ["PFADD", "h", "a"], ["PFCOUNT", "h"], ["GET", "h"], ["PFADD", "h", ""],
    ["PFCOUNT", "h", "nokey"], ["PFCOUNT", "nokey"], ["PFDEBUG", "ENCODING", "h"],
    ["PFDEBUG", "DECODE", "h"], ["PFDEBUG", "GETREG", "nokey"], ["PFDEBUG", "NOPE", "h"],
    ["PFADD", "g"] + [f"e{i}" for i in range(300)], ["PFCOUNT", "g"], ["GET", "g"],
    ["PFMERGE", "m", "h", "g", "nokey"], ["GET", "m"], ["PFCOUNT", "m"], ["PFCOUNT", "h", "g"],
    ["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "ENCODING", "m"],
    ["PFDEBUG", "DECODE", "m"], ["PFCOUNT", "m"], ["GET", "m"], ["PFADD", "m", "zz"],
    ["GET", "m"], ["PFMERGE", "m2", "h"], ["GET", "m2"], ["PFMERGE", "m2", "m"],
    ["PFDEBUG", "ENCODING", "m2"], ["PFMERGE", "empty"], ["GET", "empty"],
    ["LPUSH", "list", "x"], ["PFADD", "list", "a"], ["PFCOUNT", "list"], ["PFMERGE", "m", "list"],
    ["SET", "str", "hello"], ["PFADD", "str", "a"], ["PFCOUNT", "str"], ["PFDEBUG", "GETREG", "str"],
    ["SET", "short", "HYLL"], ["PFCOUNT", "short"],
    ["SET", "badenc", b"HYLL\x02" + bytes(11) + b"\x7f\xff"], ["PFADD", "badenc", "a"],
    ["SET", "badlen", b"HYLL\x00" + bytes(11) + bytes(100)], ["PFCOUNT", "badlen"],
    # A sparse value with a register run past 16384, and one that stops short.
    ["SET", "tail", HEADER + b"\x7f\xff\x00"], ["PFCOUNT", "tail"], ["PFADD", "tail", "x"],
    ["PFMERGE", "m", "tail"],
    ["SET", "short2", HEADER + b"\x7f\xfe"], ["PFCOUNT", "short2"], ["PFADD", "short2", "a"],
    ["SET", "ttl", "x"], ["DEL", "ttl"], ["PFADD", "ttl", "a"], ["EXPIRE", "ttl", "100"],
    ["PFADD", "ttl", "b"], ["TTL", "ttl"], ["PFCOUNT", "ttl"], ["TTL", "ttl"],
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_hll_commands_answer_and_store_as_redis(server, reference, protocol):
    assert_same_replies(server, reference, FIXED, protocol)


def random_command(rng, universe):
    key = rng.choice(["a", "b", "c"])
    kind = rng.randrange(10)
    if kind < 5:
        n = rng.choice([1, 3, 20, 200])
        return ["PFADD", key] + [f"x{rng.randrange(universe)}" for _ in range(n)]
    if kind == 5:
        return ["PFCOUNT"] + rng.sample(["a", "b", "c", "d"], rng.randrange(1, 4))
    if kind == 6:
        return ["PFMERGE", key] + rng.sample(["a", "b", "c", "d"], rng.randrange(0, 3))
    if kind == 7:
        return ["GET", key]
    if kind == 8:
        return ["PFDEBUG", rng.choice(["ENCODING", "DECODE", "GETREG"]), key]
    return ["CONFIG", "SET", "hll-sparse-max-bytes", str(rng.choice([30, 200, 3000, 6000]))]


@pytest.mark.parametrize("universe", [500, 100000])
def test_a_random_sequence_keeps_the_same_bytes(server, reference, universe):
    rng = random.Random(universe)
    commands = [random_command(rng, universe) for _ in range(800)]
    try:
        assert_same_replies(server, reference, commands, 2)
    finally:
        for client in (server.client(), reference):
            client.config_set("hll-sparse-max-bytes", "3000")


def test_values_move_between_redis_and_quiver(server, reference):
    ours = raw(server.client())
    theirs = raw(redis.Redis(port=reference.connection_pool.connection_kwargs["port"]))
    for client in (ours, theirs):
        client.flushall()
    theirs.pfadd("from_redis", *[f"u{i}" for i in range(20000)])
    theirs.pfadd("sparse_from_redis", "a", "b")
    ours.pfadd("from_quiver", *[f"v{i}" for i in range(5000)])
    for key in ("from_redis", "sparse_from_redis"):
        ours.set(key, theirs.get(key))
    theirs.set("from_quiver", ours.get("from_quiver"))
    for key in ("from_redis", "sparse_from_redis", "from_quiver"):
        assert ours.pfcount(key) == theirs.pfcount(key)
        for client in (ours, theirs):
            client.pfadd(key, "one", "more")
        assert ours.get(key) == theirs.get(key)
    assert 19000 < ours.pfcount("from_redis") < 21000
