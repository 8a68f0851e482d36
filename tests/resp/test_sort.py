"""SORT and SORT_RO against redis-server: numeric and ALPHA orders, BY
weights in strings and hash fields, GET patterns, LIMIT, DESC, STORE and
every error, on lists, sets and sorted sets; random cases too. Patterns may
read feature rows."""

import random

import pytest

from conftest import Quiverd, assert_same_replies

SETUP = [
    ["RPUSH", "l", "3", "1", "2", "10", "-5", "2.5"], ["SADD", "s", "3", "1", "2", "10"],
    ["ZADD", "z", "1", "c", "2", "b", "3", "a"], ["RPUSH", "words", "pear", "apple", "fig", "Fig"],
    ["MSET", "w_3", "30", "w_1", "10", "w_2", "-20", "w_10", "5", "d_1", "one", "d_3", "three"],
    ["HSET", "h_1", "w", "3", "name", "uno"], ["HSET", "h_2", "w", "1", "name", "dos"],
    ["HSET", "h_3", "w", "2"], ["SET", "str", "x"], ["RPUSH", "bad", "1", "x", "2"],
    ["SADD", "ws", "pear", "apple", "fig"],
]

CASES = [
    ["SORT", "l"], ["SORT", "l", "DESC"], ["SORT", "l", "LIMIT", "1", "2"],
    ["SORT", "l", "LIMIT", "-1", "2"], ["SORT", "l", "LIMIT", "2", "-1"],
    ["SORT", "l", "LIMIT", "10", "2"], ["SORT", "l", "LIMIT", "0", "0"],
    ["SORT", "l", "LIMIT", "x", "1"], ["SORT", "l", "LIMIT", "1"], ["SORT", "s"],
    ["SORT", "s", "DESC", "ALPHA"], ["SORT", "z"], ["SORT", "z", "ALPHA"],
    ["SORT", "z", "BY", "nosort"], ["SORT", "z", "BY", "nosort", "DESC"],
    ["SORT", "z", "BY", "nosort", "LIMIT", "1", "5"], ["SORT", "l", "BY", "nosort"],
    ["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"], ["SORT", "words", "ALPHA"],
    ["SORT", "words"], ["SORT", "words", "ALPHA", "DESC", "LIMIT", "0", "2"],
    ["SORT", "s", "BY", "w_*"], ["SORT", "s", "BY", "w_*", "DESC"],
    ["SORT", "s", "BY", "w_*", "GET", "#", "GET", "d_*", "GET", "w_*"],
    ["SORT", "s", "BY", "h_*->w", "GET", "h_*->name", "GET", "#"],
    ["SORT", "s", "BY", "h_*->", "GET", "h_*->"], ["SORT", "s", "GET", "nostar"],
    ["SORT", "s", "BY", "d_*", "ALPHA"], ["SORT", "s", "BY", "d_*"],
    ["SORT", "l", "GET", "str"], ["SORT", "s", "GET", "h_*"], ["SORT", "bad"],
    ["SORT", "bad", "ALPHA"], ["SORT", "str"], ["SORT", "nokey"], ["SORT", "nokey", "GET", "#"],
    ["SORT", "l", "BOGUS"], ["SORT", "l", "BY"], ["SORT", "l", "ASC", "DESC", "ASC"],
    ["SORT", "l", "STORE", "dst"], ["LRANGE", "dst", "0", "-1"],
    ["SORT", "s", "BY", "w_*", "GET", "d_*", "STORE", "dst"], ["LRANGE", "dst", "0", "-1"],
    ["SORT", "nokey", "STORE", "dst"], ["EXISTS", "dst"], ["SORT", "ws", "BY", "nosort", "STORE", "d2"],
    ["LRANGE", "d2", "0", "-1"], ["SORT", "str", "STORE", "dst"],
    ["SORT_RO", "l", "DESC"], ["SORT_RO", "l", "STORE", "dst"], ["SORT_RO", "s", "BY", "w_*", "GET", "d_*"],
    ["SORT"], ["SORT_RO"],
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_sort_answers_as_redis(server, reference, protocol):
    assert_same_replies(server, reference, SETUP + CASES, protocol)


def test_random_sorts_answer_as_redis(server, reference):
    rng = random.Random(27)
    setup = [["RPUSH", "rl", *[str(rng.randint(-50, 50)) for _ in range(300)]],
             ["ZADD", "rz", *[x for i in range(200) for x in (str(rng.random()), f"m{i}")]]]
    for i in range(-50, 51):
        setup.append(["SET", f"wt_{i}", str(rng.randint(0, 1000))])
    cases = []
    for _ in range(300):
        cmd = ["SORT", rng.choice(["rl", "rz"])]
        if rng.random() < 0.5:
            cmd += ["BY", rng.choice(["wt_*", "nosort"])]
        if rng.random() < 0.5:
            cmd += ["LIMIT", str(rng.randint(-5, 320)), str(rng.randint(-2, 50))]
        if rng.random() < 0.3:
            cmd += ["DESC"]
        if cmd[1] == "rz" and "BY" not in cmd:
            cmd += ["ALPHA"]
        if rng.random() < 0.3:
            cmd += ["GET", "#", "GET", "wt_*"]
        cases.append(cmd)
    assert_same_replies(server, reference, setup + cases, 2)


def test_store_replaces_the_destination_and_notifies(r, reference):
    for c in (r, reference):
        c.flushall()
        c.config_set("notify-keyspace-events", "KEA")
        listener = c.pubsub()
        listener.psubscribe("__keyevent@0__:*")
        assert listener.get_message(timeout=10)["type"] == "psubscribe"
        c.rpush("src", "2", "1")
        c.set("dst", "a string")
        assert c.sort("src", store="dst") == 2
        assert c.lrange("dst", 0, -1) == [b"1", b"2"]
        assert c.sort("empty", store="dst") == 0
        assert c.exists("dst") == 0
        events = [listener.get_message(timeout=10) for _ in range(4)]
        assert [(m["channel"], m["data"]) for m in events] == [
            (b"__keyevent@0__:rpush", b"src"), (b"__keyevent@0__:set", b"dst"),
            (b"__keyevent@0__:sortstore", b"dst"),
            (b"__keyevent@0__:del", b"dst")]
        listener.close()
        c.config_set("notify-keyspace-events", "")


def test_a_stored_sort_survives_a_restart():
    s = Quiverd()
    try:
        c = s.client()
        c.rpush("src", *map(str, range(100, 0, -1)))
        assert c.sort("src", store="dst", start=0, num=10) == 10
        s.restart(kill=True)
        assert s.client().lrange("dst", 0, -1) == [str(i).encode() for i in range(1, 11)]
    finally:
        s.stop()
