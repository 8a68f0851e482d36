"""Set commands (issue 27) against a real redis-server as the reference:
the same commands, errors included, must get the same replies (sets
compared as sets, since Redis's hash tables order members by chance), and
a long random sequence over small and large sets, ints and strings, must
leave both servers holding the same sets. Then what the reference cannot
check: the random commands' promises, encodings, RESP3 reply types and
concurrency."""

import random
import socket
import threading

import pytest
import redis

from conftest import reply

CASES = [
    [["SADD", "s", "a", "b", "2"], ["SADD", "s", "b", "c"], ["SCARD", "s"], ["SCARD", "none"]],
    [["SADD", "s", "a"], ["SISMEMBER", "s", "a"], ["SISMEMBER", "s", "z"],
     ["SISMEMBER", "none", "a"], ["SMISMEMBER", "s", "a", "z", "a"], ["SMISMEMBER", "none", "a"]],
    [["SADD", "i", "1", "2", "-3", "01", "-0", "+4", " 5", "9223372036854775807",
      "-9223372036854775808", "9223372036854775808"], ["SMEMBERS", "i"],
     ["SISMEMBER", "i", "01"], ["SISMEMBER", "i", "1"], ["SREM", "i", "1", "01", "x"],
     ["SMEMBERS", "i"]],
    [["SADD", "i", "3", "1", "2"], ["SMEMBERS", "i"], ["SISMEMBER", "i", "2"],
     ["SREM", "i", "2", "2"], ["SMEMBERS", "i"], ["SREM", "i", "1", "3"], ["EXISTS", "i"]],
    [["SADD", "s", "a"], ["SREM", "s", "a"], ["EXISTS", "s"], ["SREM", "none", "a"]],
    [["SADD", "s", "a", "b"], ["SMOVE", "s", "d", "a"], ["SMEMBERS", "s"], ["SMEMBERS", "d"],
     ["SMOVE", "s", "d", "zz"], ["SMOVE", "none", "d", "a"], ["SMOVE", "s", "s", "b"],
     ["SMOVE", "s", "s", "zz"], ["SMOVE", "s", "d", "b"], ["EXISTS", "s"], ["SMEMBERS", "d"]],
    [["SET", "str", "v"], ["SADD", "s", "a"], ["SADD", "str", "a"], ["SMOVE", "str", "s", "a"],
     ["SMOVE", "s", "str", "a"], ["SINTER", "s", "str"], ["SINTER", "none", "str"],
     ["SUNION", "s", "str"], ["SDIFF", "str", "s"], ["SINTERSTORE", "d", "s", "str"],
     ["SCARD", "str"], ["SPOP", "str"], ["SRANDMEMBER", "str"], ["SMEMBERS", "str"],
     ["SINTERCARD", "2", "s", "str"], ["SSCAN", "str", "0"], ["SMISMEMBER", "str", "a"]],
    [["SADD", "a", "1", "2", "3", "x"], ["SADD", "b", "2", "3", "y"], ["SADD", "c", "3", "x"],
     ["SINTER", "a", "b"], ["SINTER", "a", "b", "c"], ["SINTER", "a", "none"], ["SINTER", "a"],
     ["SUNION", "a", "b", "c", "none"], ["SDIFF", "a", "b"], ["SDIFF", "a", "b", "c"],
     ["SDIFF", "none", "a"], ["SDIFF", "a", "none"], ["SINTERCARD", "2", "a", "b"],
     ["SINTERCARD", "3", "a", "b", "c"], ["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
     ["SINTERCARD", "2", "a", "b", "limit", "0"], ["SINTERCARD", "1", "none"]],
    [["SADD", "a", "1", "2", "3"], ["SADD", "b", "2", "3", "4"], ["SET", "d", "old"],
     ["EXPIRE", "d", "100"], ["SINTERSTORE", "d", "a", "b"], ["TTL", "d"], ["SMEMBERS", "d"],
     ["SUNIONSTORE", "d", "a", "b"], ["SMEMBERS", "d"], ["SDIFFSTORE", "d", "a", "b"],
     ["SMEMBERS", "d"], ["SINTERSTORE", "d", "a", "none"], ["EXISTS", "d"],
     ["SUNIONSTORE", "a", "a", "b"], ["SMEMBERS", "a"], ["SDIFFSTORE", "e", "none"],
     ["EXISTS", "e"]],
    [["SADD", "s", "a"], ["SINTERCARD", "x", "s"], ["SINTERCARD", "0", "s"],
     ["SINTERCARD", "-1", "s"], ["SINTERCARD", "3", "s"], ["SINTERCARD", "1", "s", "foo", "1"],
     ["SINTERCARD", "1", "s", "LIMIT"], ["SINTERCARD", "1", "s", "LIMIT", "x"],
     ["SINTERCARD", "1", "s", "LIMIT", "-1"], ["SINTERCARD", "1", "s", "LIMIT", "1", "LIMIT", "2"]],
    [["SADD", "s", "a", "b"], ["SPOP", "s", "x"], ["SPOP", "s", "-1"], ["SPOP", "s", "1", "2"],
     ["SPOP", "none"], ["SPOP", "none", "2"], ["SPOP", "s", "0"], ["SPOP", "s", "5"],
     ["EXISTS", "s"], ["SPOP", "s"]],
    [["SADD", "s", "a", "b"], ["SRANDMEMBER", "s", "x"], ["SRANDMEMBER", "s", "1", "2"],
     ["SRANDMEMBER", "s", "-9223372036854775808"], ["SRANDMEMBER", "none"],
     ["SRANDMEMBER", "none", "3"], ["SRANDMEMBER", "none", "-3"], ["SRANDMEMBER", "s", "0"],
     ["SRANDMEMBER", "s", "5"], ["SRANDMEMBER", "s", "9223372036854775807"]],
    [["SADD", "s", "a", "b", "ab"], ["SSCAN", "s", "0"], ["SSCAN", "s", "0", "MATCH", "a*"],
     ["SSCAN", "s", "x"], ["SSCAN", "s", "0", "COUNT", "0"],
     ["SSCAN", "s", "0", "NOVALUES"], ["SSCAN", "s", "0", "TYPE", "set"], ["SSCAN", "none", "0"]],
    [["SADD", "s"], ["SREM", "s"], ["SCARD"], ["SMEMBERS", "s", "t"], ["SINTERCARD", "1"],
     ["SMOVE", "a", "b"], ["SINTERSTORE", "d"], ["SMISMEMBER", "s"]],
    [["SADD", "s", "a"], ["TYPE", "s"], ["RENAME", "s", "t"], ["SMEMBERS", "t"],
     ["DEL", "t"], ["EXISTS", "t"]],
    # OBJECT where quiver's forms are Redis 7.0's (its sets have no
    # listpack; quiver's small ones of strings do, as Redis 7.2's).
    [["SADD", "i", "1", "2"], ["OBJECT", "ENCODING", "i"], ["SADD", "i", *map(str, range(600))],
     ["OBJECT", "ENCODING", "i"], ["SET", "n", "123"], ["OBJECT", "ENCODING", "n"],
     ["OBJECT", "REFCOUNT", "n"], ["SET", "n", "-12345"], ["OBJECT", "REFCOUNT", "n"],
     ["SET", "e", "hello"], ["OBJECT", "ENCODING", "e"], ["SET", "r", "x" * 45],
     ["OBJECT", "ENCODING", "r"], ["OBJECT", "REFCOUNT", "r"], ["RPUSH", "l", "a"],
     ["OBJECT", "ENCODING", "l"], ["HSET", "h", "a", "b"], ["OBJECT", "ENCODING", "h"],
     ["OBJECT", "ENCODING", "none"], ["OBJECT", "FREQ", "e"], ["OBJECT", "FREQ", "none"],
     ["OBJECT", "IDLETIME", "none"], ["OBJECT", "foo", "e"], ["OBJECT", "ENCODING"],
     ["OBJECT", "ENCODING", "e", "f"], ["OBJECT", "HELP"], ["OBJECT"]],
]


@pytest.mark.parametrize("commands", CASES, ids=lambda c: " ".join(c[-1])[:40])
def test_replies_match_redis(r, reference, commands):
    reference.flushall()
    for command in commands:
        assert reply(r, *command) == reply(reference, *command), command


def random_command(rng):
    """A set command over four keys and members that cross every encoding
    limit: integers (an intset holds up to 512), short strings (a listpack
    up to 128) and long ones (boxed at once)."""
    def key():
        return f"k{rng.randrange(4)}"

    def member():
        pick = rng.random()
        if pick < 0.6:
            return str(rng.randrange(-300, 600))
        if pick < 0.97:
            return f"m{rng.randrange(300)}"
        return "L" * 65 + str(rng.randrange(3))

    def members(most):
        return [member() for _ in range(rng.randrange(1, most))]

    pick = rng.randrange(10)
    if pick < 4:
        return ["SADD", key(), *members(60)]
    if pick < 6:
        return ["SREM", key(), *members(40)]
    if pick == 6:
        return ["SMOVE", key(), key(), member()]
    if pick == 7:
        return [rng.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key(), key(), key()]
    if pick == 8:
        return [rng.choice(["SINTER", "SUNION", "SDIFF"]), key(), key()]
    return ["SMISMEMBER", key(), *members(10)]


def test_a_random_sequence_leaves_the_same_sets_as_redis(r, reference):
    reference.flushall()
    rng = random.Random(27)
    seen = set()  # the encodings the sequence went through
    for n in range(3000):
        command = random_command(rng)
        assert reply(r, *command) == reply(reference, *command), (n, command)
        seen.add(r.object("encoding", command[1]))
    assert {b"intset", b"listpack", b"hashtable"} <= seen
    for k in ["k0", "k1", "k2", "k3"]:
        assert r.smembers(k) == reference.smembers(k), k
    assert r.dbsize() == reference.dbsize()


def encoding(r, key):
    return r.object("encoding", key)


def test_encodings_follow_redis_limits(r):
    r.sadd("s", *range(512))
    assert encoding(r, "s") == b"intset"
    r.sadd("s", 512)  # the 513th integer
    assert encoding(r, "s") == b"hashtable" and r.scard("s") == 513
    assert 0 <= r.object("idletime", "s") <= 1
    r.sadd("small", 1, 2, "a")
    assert encoding(r, "small") == b"listpack"
    assert r.smembers("small") == {b"1", b"2", b"a"}
    r.sadd("small", *[f"x{i}" for i in range(125)])  # 128 members
    assert encoding(r, "small") == b"listpack"
    r.sadd("small", "one more")
    assert encoding(r, "small") == b"hashtable"
    r.sadd("long", "v" * 64)
    assert encoding(r, "long") == b"listpack"
    r.sadd("long", "v" * 65)
    assert encoding(r, "long") == b"hashtable"
    r.srem("long", "v" * 65)  # a box stays a box, as in Redis
    assert encoding(r, "long") == b"hashtable"


@pytest.mark.parametrize("size", [5, 100, 1000], ids=["intset", "listpack", "hashtable"])
def test_spop_and_srandmember_keep_their_promises(r, size):
    members = {str(i).encode() if size != 100 else f"m{i}".encode() for i in range(size)}
    r.sadd("s", *members)
    one = r.srandmember("s")
    assert one in members and r.scard("s") == size
    distinct = r.srandmember("s", 3)
    assert len(distinct) == 3 and len(set(distinct)) == 3 and set(distinct) <= members
    assert sorted(r.srandmember("s", size + 10)) == sorted(members)
    repeated = r.srandmember("s", -(size + 10))
    assert len(repeated) == size + 10 and set(repeated) <= members
    with pytest.raises(redis.ResponseError, match="value is out of range"):
        r.srandmember("s", -(1 << 40))  # a reply without end in Redis
    seen = set()
    for _ in range(50):  # not always the same member
        seen.add(r.srandmember("s"))
    assert len(seen) > 1
    popped = {r.spop("s")} | set(r.spop("s", 3))
    assert len(popped) == 4 and popped <= members
    left = r.smembers("s")
    assert left == members - popped
    assert set(r.spop("s", size)) == left and r.exists("s") == 0


def skip_reply(f):
    """Reads one RESP3 reply from f; returns its type byte."""
    line = f.readline()
    kind, body = line[:1], line[1:-2]
    if kind in b"$=!" and int(body) >= 0:
        f.read(int(body) + 2)
    elif kind in b"*~>":
        for _ in range(int(body)):
            skip_reply(f)
    elif kind == b"%":
        for _ in range(2 * int(body)):
            skip_reply(f)
    return kind


def resp3(server, *commands):
    """The type bytes of the RESP3 replies to the commands."""
    with socket.create_connection(("127.0.0.1", server.resp_port)) as s:
        f = s.makefile("rb")
        for words in [["HELLO", "3"], *commands]:
            s.sendall(b"*%d\r\n" % len(words) +
                      b"".join(b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words))
        return [skip_reply(f) for _ in range(len(commands) + 1)][1:]


def test_resp3_reply_types(server, r):
    r.sadd("s", "a", "b", "c")
    r.sadd("t", "b")
    got = resp3(server, ["SMEMBERS", "s"], ["SINTER", "s", "t"], ["SPOP", "s", "1"],
                ["SRANDMEMBER", "s", "2"], ["SPOP", "none"], ["SMISMEMBER", "s", "a"],
                ["SSCAN", "s", "0"])
    assert got == [b"~", b"~", b"~", b"*", b"_", b"*", b"*"]


def test_concurrent_adds_and_pops_lose_and_duplicate_nothing(server, r):
    total, workers = 2000, 4
    popped = [[] for _ in range(workers)]

    def add(w):
        c = server.client()
        for i in range(w, total, workers):
            c.sadd("q", f"job{i}" if i % 2 else i)
        c.close()

    def pop(w):
        c = server.client()
        while sum(len(p) for p in popped) < total:
            got = c.spop("q", 7)
            popped[w].extend(got)
        c.close()

    threads = [threading.Thread(target=add, args=(w,), daemon=True) for w in range(workers)]
    threads += [threading.Thread(target=pop, args=(w,), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    everything = [m for p in popped for m in p]
    assert len(everything) == total and len(set(everything)) == total
    assert r.exists("q") == 0
