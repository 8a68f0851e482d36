"""SWAPDB: two databases exchange their keys at once, as in Redis (replies,
errors, clients blocked on a key that now holds something, WATCH), and
the exchange survives a restart: keys, boxes written before and after it,
a FLUSHDB after it."""

import threading

import pytest
import redis

from conftest import Quiverd, assert_same_replies


@pytest.mark.parametrize("protocol", [2, 3])
def test_swapdb_answers_as_redis(server, reference, protocol):
    assert_same_replies(server, reference, [
        ["SELECT", "0"], ["SET", "a", "1"], ["HSET", "h", "f", "v"], ["SELECT", "1"],
        ["SET", "b", "2"], ["RPUSH", "l", "x", "y"], ["EXPIRE", "b", "100"], ["SWAPDB", "0", "1"],
        ["GET", "b"], ["GET", "a"], ["HGETALL", "h"], ["DBSIZE"], ["SELECT", "0"], ["GET", "b"],
        ["TTL", "b"], ["LRANGE", "l", "0", "-1"], ["DBSIZE"], ["SWAPDB", "0", "0"], ["DBSIZE"],
        ["SWAPDB", "0", "99"], ["SWAPDB", "x", "1"], ["SWAPDB", "1", "y"], ["SWAPDB", "-1", "0"],
        ["SWAPDB", "0"], ["SWAPDB", "1", "0"], ["GET", "a"], ["SELECT", "1"], ["GET", "a"],
        ["MULTI"], ["SWAPDB", "0", "1"], ["GET", "b"], ["EXEC"], ["FLUSHDB"], ["SELECT", "0"],
        ["DBSIZE"], ["COMMAND", "GETKEYS", "SWAPDB", "0", "1"],
    ], protocol)


def test_a_client_blocked_on_a_key_the_swap_brings_is_served(server, reference):
    for c in (server.client(), reference):
        c.flushall()
        port = c.connection_pool.connection_kwargs["port"]
        waiter = redis.Redis(port=port, db=1, socket_timeout=30)
        got = []
        t = threading.Thread(target=lambda: got.append(waiter.blpop("q", 0)))
        t.start()
        c.rpush("q", "from db0")
        while c.execute_command("CLIENT", "LIST").count(b"cmd=blpop") == 0:
            pass
        c.swapdb(0, 1)
        t.join(30)
        assert got == [(b"q", b"from db0")]
        waiter.close()


def test_watch_sees_the_swap(server, reference):
    for c in (server.client(), reference):
        c.flushall()
        c.set("k", "v")
        pipe = c.pipeline()
        pipe.watch("k")
        redis.Redis(connection_pool=c.connection_pool).swapdb(0, 1)
        pipe.multi()
        pipe.set("k", "w")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_the_swap_survives_a_restart():
    s = Quiverd()
    try:
        c0, c1, c2 = (s.client(db=db) for db in (0, 1, 2))
        c0.set("s", "zero")
        c0.rpush("list", *map(str, range(300)))  # a box
        c1.set("s", "one")
        c1.hset("big", mapping={f"f{i}": i for i in range(500)})  # a box
        c2.set("s", "two")
        c0.swapdb(0, 1)
        c0.swapdb(1, 2)
        # db0: old db1, db1: old db2, db2: old db0; then writes after the swaps.
        c0.hset("big", "after", "1")
        c2.rpush("list", "after")
        c1.set("new", "in db1")
        c1.flushdb()
        s.restart(kill=True)
        c0, c1, c2 = (s.client(db=db) for db in (0, 1, 2))
        assert (c0.get("s"), c1.get("s"), c2.get("s")) == (b"one", None, b"zero")
        assert c0.hlen("big") == 501 and c0.hget("big", "after") == b"1"
        assert c2.llen("list") == 301 and c2.lindex("list", -1) == b"after"
        assert c1.dbsize() == 0
        c0.swapdb(0, 2)
        s.restart(kill=True)
        assert s.client(db=0).get("s") == b"zero" and s.client(db=2).get("s") == b"one"
    finally:
        s.stop()
