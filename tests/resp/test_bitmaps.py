"""Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
BITFIELD_RO answer as redis-server 7 does, byte for byte in RESP2 and
RESP3, errors included; a long random sequence of them leaves both servers
with the same strings."""

import random

import pytest
import redis

from conftest import Raw, assert_same_replies, raw

FIXED = [
    ["SETBIT", "b", "7", "1"], ["SETBIT", "b", "7", "1"], ["SETBIT", "b", "7", "0"],
    ["SETBIT", "b", "100", "1"], ["GET", "b"], ["STRLEN", "b"], ["GETBIT", "b", "100"],
    ["GETBIT", "b", "99999"], ["GETBIT", "nokey", "3"],
    ["SETBIT", "b", "-1", "1"], ["SETBIT", "b", "4294967296", "1"], ["SETBIT", "b", "x", "1"],
    ["SETBIT", "b", "1", "2"], ["SETBIT", "b", "1", "-1"], ["SETBIT", "b", "1", "01"],
    ["GETBIT", "b", "-1"], ["GETBIT", "b", "4294967296"],
    ["SET", "s", "foobar"], ["BITCOUNT", "s"], ["BITCOUNT", "s", "0", "0"],
    ["BITCOUNT", "s", "1", "1"], ["BITCOUNT", "s", "1", "1", "BYTE"],
    ["BITCOUNT", "s", "5", "30", "BIT"], ["BITCOUNT", "s", "-3", "-1", "bit"],
    ["BITCOUNT", "s", "-1", "-3"], ["BITCOUNT", "s", "-1", "-3", "nope"],
    ["BITCOUNT", "s", "0"], ["BITCOUNT", "s", "0", "1", "BIT", "x"], ["BITCOUNT", "s", "a", "1"],
    ["BITCOUNT", "s", "0", "1", "nope"], ["BITCOUNT", "nokey", "a", "b"], ["BITCOUNT", "nokey"],
    ["SET", "p", b"\xff\xf0\x00"], ["BITPOS", "p", "0"], ["BITPOS", "p", "1"],
    ["BITPOS", "p", "0", "2"], ["BITPOS", "p", "1", "2"], ["BITPOS", "p", "1", "2", "-1"],
    ["BITPOS", "p", "0", "0", "0"], ["BITPOS", "p", "0", "0", "1"],
    ["BITPOS", "p", "0", "7", "15", "BIT"], ["BITPOS", "p", "1", "7", "15", "bit"],
    ["BITPOS", "p", "0", "3", "-1", "BIT"], ["BITPOS", "p", "0", "5", "BYTE"],
    ["BITPOS", "p", "2"], ["BITPOS", "p", "x"], ["BITPOS", "p", "1", "x"],
    ["BITPOS", "p", "1", "0", "x"], ["BITPOS", "p", "1", "0", "1", "nope"],
    ["BITPOS", "p", "1", "0", "1", "bit", "x"], ["BITPOS", "nokey", "0"], ["BITPOS", "nokey", "1"],
    ["SET", "e", ""], ["BITPOS", "e", "0"], ["BITPOS", "e", "1"], ["BITCOUNT", "e"],
    ["SET", "ones", b"\xff\xff"], ["BITPOS", "ones", "0"], ["BITPOS", "ones", "0", "0", "-1"],
    ["BITPOS", "ones", "0", "1"], ["BITPOS", "ones", "0", "3", "BIT"],
    ["SET", "k1", "foobar"], ["SET", "k2", "abcdef"], ["BITOP", "AND", "dest", "k1", "k2"],
    ["GET", "dest"], ["BITOP", "or", "dest", "k1", "k2", "nokey"], ["GET", "dest"],
    ["BITOP", "XOR", "dest", "k1", "b"], ["GET", "dest"], ["BITOP", "NOT", "dest", "k1"],
    ["GET", "dest"], ["BITOP", "NOT", "dest", "k1", "k2"], ["BITOP", "nand", "dest", "k1"],
    ["BITOP", "AND", "dest", "nokey", "nokey2"], ["EXISTS", "dest"],
    ["LPUSH", "list", "x"], ["BITOP", "AND", "dest", "k1", "list"], ["SETBIT", "list", "1", "1"],
    ["GETBIT", "list", "1"], ["BITCOUNT", "list"], ["BITPOS", "list", "1"],
    ["SET", "t", "x", "EX", "100"], ["SETBIT", "t", "3", "1"], ["TTL", "t"],
    ["BITOP", "OR", "t", "k1"], ["TTL", "t"],
    ["BITFIELD", "f", "SET", "i8", "0", "100", "GET", "u4", "0", "INCRBY", "i5", "100", "1"],
    ["BITFIELD", "f", "GET", "i8", "#0", "GET", "i8", "#1", "SET", "u8", "#2", "255"],
    ["BITFIELD", "f", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"],
    ["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100", "INCRBY", "i8", "0", "100"],
    ["BITFIELD", "f", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "100", "INCRBY", "u8", "8", "-300"],
    ["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "i8", "0", "1000", "SET", "u8", "8", "-5"],
    ["BITFIELD", "f", "OVERFLOW", "WRAP", "SET", "i8", "0", "1000", "SET", "u8", "8", "-5"],
    ["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "i8", "0", "1000", "SET", "u8", "8", "-5"],
    ["BITFIELD", "f", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0",
     "INCRBY", "i64", "0", "-1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"],
    ["BITFIELD", "f", "SET", "u63", "3", "9223372036854775807", "GET", "u63", "3",
     "INCRBY", "u63", "3", "1"],
    ["GET", "f"], ["BITFIELD", "f"], ["BITFIELD", "nokey", "GET", "u8", "0"], ["EXISTS", "nokey"],
    ["BITFIELD", "f", "GET", "u64", "0"], ["BITFIELD", "f", "GET", "i65", "0"],
    ["BITFIELD", "f", "GET", "x8", "0"], ["BITFIELD", "f", "GET", "i0", "0"],
    ["BITFIELD", "f", "GET", "i8", "-1"], ["BITFIELD", "f", "GET", "i8", "#-1"],
    ["BITFIELD", "f", "GET", "i8", "4294967296"], ["BITFIELD", "f", "GET", "i8"],
    ["BITFIELD", "f", "SET", "i8", "0"], ["BITFIELD", "f", "SET", "i8", "0", "x"],
    ["BITFIELD", "f", "OVERFLOW", "nope", "GET", "i8", "0"], ["BITFIELD", "f", "OVERFLOW"],
    ["BITFIELD", "f", "FROB", "i8", "0"], ["BITFIELD", "list", "GET", "i8", "0"],
    ["BITFIELD", "list", "SET", "i8", "0", "1"],
    ["BITFIELD_RO", "f", "GET", "i8", "0", "GET", "u4", "#3"],
    ["BITFIELD_RO", "f", "SET", "i8", "0", "1"], ["BITFIELD_RO", "f", "INCRBY", "i8", "0", "1"],
    ["BITFIELD_RO", "nokey", "GET", "i8", "0"],
    ["BITFIELD", "g", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "10"], ["GET", "g"],
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_bitmap_commands_answer_as_redis(server, reference, protocol):
    assert_same_replies(server, reference, FIXED, protocol)


def random_command(rng):
    key = rng.choice(["a", "b", "c"])
    offset = lambda: str(rng.choice([rng.randrange(64), rng.randrange(2000)]))  # noqa: E731
    index = lambda: str(rng.randrange(-40, 40))  # noqa: E731
    unit = lambda: rng.choice([[], ["BYTE"], ["BIT"]])  # noqa: E731
    kind = rng.randrange(9)
    if kind == 0:
        return ["SETBIT", key, offset(), str(rng.randrange(2))]
    if kind == 1:
        return ["GETBIT", key, offset()]
    if kind == 2:
        return ["BITCOUNT", key] + rng.choice([[], [index(), index()] + unit()])
    if kind == 3:
        tail = rng.choice([[], [index()], [index(), index()], [index(), index()] + unit()])
        return ["BITPOS", key, str(rng.randrange(2))] + tail
    if kind == 4:
        op = rng.choice(["AND", "OR", "XOR"])
        return ["BITOP", op, rng.choice(["a", "b", "c"]), key] + rng.sample(["a", "b", "c"], 2)
    if kind == 5:
        return ["BITOP", "NOT", rng.choice(["a", "b", "c"]), key]
    if kind == 6:
        return ["GET", key]
    ops = []
    for _ in range(rng.randrange(1, 4)):
        t = rng.choice(["i", "u"]) + str(rng.randrange(1, 64))
        where = rng.choice([offset(), "#" + str(rng.randrange(20))])
        what = rng.randrange(4)
        if what == 0:
            ops += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
        elif what == 1:
            ops += ["GET", t, where]
        else:
            value = str(rng.choice([rng.randrange(-300, 300), rng.randrange(-2**63, 2**63)]))
            ops += [rng.choice(["SET", "INCRBY"]), t, where, value]
    return ["BITFIELD", key] + ops


def test_a_random_sequence_leaves_the_same_strings(server, reference):
    rng = random.Random(2026)
    commands = [random_command(rng) for _ in range(3000)]
    assert_same_replies(server, reference, commands, 2)
