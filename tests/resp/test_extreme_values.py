"""INT64_MIN, INT64_MAX and their neighbours wherever a RESP command takes
a time or a number (issue 25): every reply must be Redis's own. The same
commands run against a real redis-server on a loopback port and against
quiverd; the resp_clients suite runs this under UBSan too, so a signed
overflow inside quiverd fails it."""

import pytest
import redis

MIN, MAX = -(1 << 63), (1 << 63) - 1
EXTREMES = [MIN, MIN + 1, -1, 0, MAX // 1000 + 1, MAX - 1, MAX]


def reply(client, *args):
    try:
        return client.execute_command(*args)
    except redis.ResponseError as e:
        return "error: " + str(e)


def commands():
    """(setup, command) pairs: each command runs on a fresh key."""
    for t in EXTREMES:
        for option in ("EX", "PX", "EXAT", "PXAT"):
            yield [], ["SET", "k", "v", option, t]
            yield [["SET", "k", "v"]], ["GETEX", "k", option, t]
        for command in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
            yield [["SET", "k", "v"]], [command, "k", t]
            yield [["SET", "k", "v", "EX", 100]], [command, "k", t, "GT"]
        yield [], ["SETEX", "k", t, "v"]
        yield [], ["PSETEX", "k", t, "v"]
        yield [["SET", "k", MAX - 1]], ["INCRBY", "k", t]
        yield [["SET", "k", MIN + 1]], ["DECRBY", "k", t]
        yield [["SET", "k", 5]], ["INCRBYFLOAT", "k", t]
        yield [["HSET", "k", "f", MAX - 1]], ["HINCRBY", "k", "f", t]
        yield [["RPUSH", "k", "a", "b", "c"]], ["LRANGE", "k", t, MAX]
        yield [["RPUSH", "k", "a", "b", "c"]], ["LRANGE", "k", MIN, t]
        yield [["RPUSH", "k", "a", "b", "c"]], ["LINDEX", "k", t]
        yield [["RPUSH", "k", "a", "b", "c"]], ["LTRIM", "k", t, MAX]
        yield [["RPUSH", "k", "a", "b", "c"]], ["LPOS", "k", "b", "RANK", t]
        yield [["RPUSH", "k", "a", "b", "c"]], ["LPOP", "k", t]
        yield [["SET", "k", "hello"]], ["GETRANGE", "k", t, MAX]
        yield [["SET", "k", "hello"]], ["GETRANGE", "k", MIN, t]
        yield [["SET", "k", "hello"]], ["SETRANGE", "k", t, "x"]
        yield [], ["SCAN", t]


# Where quiverd answers as Redis 7.2 does rather than as the 7.0 reference:
# Redis 7.0 negates RANK LONG_MIN (a signed overflow); 7.2 refuses it with
# this error, as quiverd does.
DIFFERENT = {("LPOS", "k", "b", "RANK", MIN):
             "error: value is out of range, must be between -9223372036854775807 and "
             "9223372036854775807"}
CASES = list(commands())


@pytest.mark.parametrize("setup,command", CASES,
                         ids=[" ".join(str(x) for x in c) for _, c in CASES])
def test_extreme_values_answer_as_redis_does(server, r, reference, setup, command):
    reference.flushall()
    for client in (r, reference):
        for s in setup:
            client.execute_command(*s)
    expected = reply(reference, *command)
    expected = DIFFERENT.get(tuple(command), expected)
    got = reply(r, *command)
    assert got == expected, "%s: quiverd %r, Redis %r" % (command, got, expected)
    # What the key holds afterwards, and its time to live, agree too (to
    # a second: the two servers' clocks are read a moment apart).
    assert reply(r, "TYPE", "k") == reply(reference, "TYPE", "k"), command
    ttl, expected_ttl = reply(r, "TTL", "k"), reply(reference, "TTL", "k")
    assert ttl == expected_ttl or (ttl >= 0 and abs(ttl - expected_ttl) <= 1), (command, ttl,
                                                                                 expected_ttl)
