"""Commands tools probe (issue 27): LCS, TOUCH, COPY and COMMAND GETKEYS against a real
redis-server as the reference (OBJECT's cases are in test_sets.py), then a
random set of LCS questions whose every reply, IDX ranges included, must
be Redis's."""

import random

import pytest
import redis

from conftest import assert_same_replies, reply

CASES = [
    [["SET", "a", "ohmytext"], ["SET", "b", "mynewtext"], ["LCS", "a", "b"],
     ["LCS", "a", "b", "LEN"], ["LCS", "a", "b", "IDX"], ["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
     ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4"], ["LCS", "a", "b", "IDX", "MINMATCHLEN", "-3"],
     ["LCS", "a", "b", "idx", "minmatchlen", "2", "withmatchlen"], ["LCS", "b", "a", "IDX"]],
    [["SET", "a", "abc"], ["LCS", "a", "none"], ["LCS", "none", "none", "LEN"],
     ["LCS", "none", "a", "IDX"], ["LCS", "a", "a"], ["LCS", "a", "a", "IDX", "WITHMATCHLEN"]],
    [["SET", "a", "x"], ["HSET", "h", "f", "v"], ["LCS", "a", "h"], ["LCS", "h", "none"],
     ["LCS", "a", "a", "LEN", "IDX"], ["LCS", "a", "a", "MINMATCHLEN"],
     ["LCS", "a", "a", "MINMATCHLEN", "x"], ["LCS", "a", "a", "FOO"], ["LCS", "a"]],
    [["SET", "a", "1"], ["SET", "b", "2"], ["TOUCH", "a", "b", "none", "a"], ["TOUCH", "none"],
     ["TOUCH"]],
    [["SET", "s", "v"], ["COPY", "s", "t"], ["GET", "t"], ["COPY", "s", "t"], ["SET", "s", "w"],
     ["COPY", "s", "t", "REPLACE"], ["GET", "t"], ["COPY", "none", "t"], ["COPY", "s", "s"],
     ["COPY", "s", "s", "DB", "1"], ["SELECT", "1"], ["GET", "s"], ["SELECT", "0"],
     ["COPY", "s", "u", "DB", "99"], ["COPY", "s", "u", "DB", "x"], ["COPY", "s", "u", "FOO"],
     ["COPY", "s", "u", "DB"], ["COPY", "s"], ["COPY", "s", "u", "replace", "db", "0"]],
    [["RPUSH", "l", *map(str, range(300))], ["COPY", "l", "m"], ["RPOP", "l"], ["LLEN", "m"],
     ["LRANGE", "m", "-2", "-1"], ["HSET", "h", *[f"f{i % 200}" for i in range(400)]],
     ["COPY", "h", "i"], ["HDEL", "h", "f1"], ["HLEN", "i"], ["HGET", "i", "f1"],
     ["SADD", "z", *map(str, range(1000))], ["COPY", "z", "y"], ["SREM", "z", "5"],
     ["SCARD", "y"], ["SISMEMBER", "y", "5"], ["SADD", "small", "a", "1"], ["COPY", "small", "x"],
     ["SMEMBERS", "x"], ["HSET", "sh", "a", "b"], ["COPY", "sh", "x", "REPLACE"], ["TYPE", "x"],
     ["HGETALL", "x"], ["COPY", "l", "x", "REPLACE"], ["TYPE", "x"], ["LINDEX", "x", "0"]],
    [["SET", "e", "v", "EX", "100"], ["COPY", "e", "f"], ["TTL", "f"], ["PERSIST", "e"],
     ["TTL", "f"], ["RPUSH", "el", "a"], ["EXPIRE", "el", "200"], ["COPY", "el", "fl"],
     ["TTL", "fl"]],
]


@pytest.mark.parametrize("commands", CASES, ids=lambda c: " ".join(c[-1])[:40])
def test_replies_match_redis(r, reference, commands):
    reference.flushall()
    for command in commands:
        assert reply(r, *command) == reply(reference, *command), command


def test_random_lcs_questions_get_redis_answers(r, reference):
    rng = random.Random(42)
    for n in range(300):
        alphabet = "ab" if n % 3 == 0 else "abcdefgh"
        a = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        for c in (r, reference):
            c.mset({"a": a, "b": b})
        for options in ([], ["LEN"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"]):
            command = ["LCS", "a", "b", *options]
            assert reply(r, *command) == reply(reference, *command), (a, b, options)


def test_lcs_of_strings_too_large_is_refused_before_allocating(r):
    r.set("a", "x" * 20000)
    r.set("b", "y" * 10000)  # a 800 MB table
    with pytest.raises(redis.ResponseError, match="transient memory for LCS exceeds"):
        r.lcs("a", "b")
    r.set("b", "x" * 100)
    assert r.lcs("a", "b", len=True) == 100


def test_command_getkeys_finds_the_keys_redis_finds(server, reference):
    assert_same_replies(server, reference, [
        ["COMMAND", "GETKEYS", "GET", "k"], ["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
        ["COMMAND", "GETKEYS", "MSET", "a", "1", "b"], ["COMMAND", "GETKEYS", "DEL", "a", "b", "c"],
        ["COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
        ["COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "x", "a"],
        ["COMMAND", "GETKEYS", "EVAL", "return 1", "2", "k1", "k2", "a1"],
        ["COMMAND", "GETKEYS", "EVAL", "return 1", "0"], ["COMMAND", "GETKEYS", "FCALL", "f", "1", "k"],
        ["COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"],
        ["COMMAND", "GETKEYS", "BLMPOP", "0", "1", "a", "LEFT"], ["COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b"],
        ["COMMAND", "GETKEYS", "RENAME", "a", "b"], ["COMMAND", "GETKEYS", "COPY", "a", "b", "REPLACE"],
        ["COMMAND", "GETKEYS", "LMOVE", "a", "b", "LEFT", "RIGHT"], ["COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"],
        ["COMMAND", "GETKEYS", "RESTORE", "k", "0", "x"], ["COMMAND", "GETKEYS", "PFMERGE", "d", "a", "b"],
        ["COMMAND", "GETKEYS", "PING"], ["COMMAND", "GETKEYS", "NOSUCH", "a"],
        ["COMMAND", "GETKEYS", "GET"], ["COMMAND", "GETKEYS", "GET", "a", "b"],
        ["COMMAND", "GETKEYS"], ["COMMAND", "GETKEYS", "get", "K"],
    ], 2)
