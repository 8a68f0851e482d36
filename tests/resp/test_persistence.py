"""Plain keys survive restarts: strings, small and large hashes, lists,
sets in each encoding, TTLs, every database, FLUSHDB, RENAME, LMOVE and transactions; compared
key by key before and after a clean stop, and after SIGKILL while clients
write in durability sync (every acknowledged write must be there, and
every transaction whole or absent)."""

import os
import random
import subprocess
import threading
import time

import pytest
import redis

from conftest import Quiverd

DATABASES = 4


def dump(server):
    """Every live key of the first DATABASES databases:
    {(db, key): (type, value, expire-at in ms or -1)}."""
    state = {}
    for db in range(DATABASES):
        c = server.client(db=db)
        for key in c.scan_iter(count=1000):
            kind = c.type(key).decode()
            if kind == "string":
                value = c.get(key)
            elif kind == "hash":
                value = c.hgetall(key)
            elif kind == "list":
                value = c.lrange(key, 0, -1)
            elif kind == "set":
                value = c.smembers(key)
            elif kind == "zset":
                value = c.zrange(key, 0, -1, withscores=True)
            else:
                value = None
            state[(db, key)] = (kind, value, c.pexpiretime(key))
        c.close()
    return state


def random_ops(server, rng, count):
    """count random writes over a small set of keys per database, so that
    keys are overwritten, renamed, emptied, deleted and boxed."""
    clients = [server.client(db=db) for db in range(DATABASES)]
    far = int(time.time() * 1000) + 3_600_000

    def key(kind):
        return f"{kind}{rng.randrange(6)}"

    def field():
        return f"f{rng.randrange(300)}"  # past 128 fields a hash is boxed

    def members():
        # Integers (an intset up to 512), short strings (a listpack up to
        # 128), and now and then a long one (boxed at once).
        pick = rng.random()
        if pick < 0.5:
            return [rng.randrange(-40000, 700) for _ in range(rng.randrange(1, 80))]
        if pick < 0.95:
            return [f"m{rng.randrange(200)}" for _ in range(rng.randrange(1, 30))]
        return ["L" * 70 + str(rng.randrange(5))]

    def scored():
        # Past 128 members, or with one longer than 64 bytes, it is boxed.
        return {m: rng.choice([rng.randrange(-50, 50), rng.random(), float("inf")])
                for m in members()}

    ops = [
        lambda p: p.set(key("s"), os.urandom(rng.randrange(1, 40))),
        lambda p: p.set(key("s"), "v", px=far - int(time.time() * 1000)),
        lambda p: p.append(key("s"), "xy"),
        lambda p: p.incr(key("n"), rng.randrange(1, 9)),
        lambda p: p.delete(key(rng.choice("shlntz"))),
        lambda p: p.pexpireat(key(rng.choice("shlt")), far + rng.randrange(1000)),
        lambda p: p.persist(key(rng.choice("shlt"))),
        lambda p: p.rename(key("l"), key("l")),
        lambda p: p.rename(key("h"), key("h")),
        lambda p: p.hset(key("h"), mapping={field(): rng.randrange(1000) for _ in range(rng.randrange(1, 60))}),
        lambda p: p.hdel(key("h"), *[field() for _ in range(rng.randrange(1, 20))]),
        lambda p: p.hincrby(key("h"), field(), 3),
        lambda p: p.rpush(key("l"), *[rng.randrange(100) for _ in range(rng.randrange(1, 30))]),
        lambda p: p.lpush(key("l"), *[rng.randrange(100) for _ in range(rng.randrange(1, 30))]),
        lambda p: p.lpop(key("l"), rng.randrange(1, 5)),
        lambda p: p.rpop(key("l")),
        lambda p: p.lset(key("l"), rng.randrange(-3, 3), "set"),
        lambda p: p.ltrim(key("l"), rng.randrange(3), rng.randrange(-20, 40)),
        lambda p: p.lrem(key("l"), rng.randrange(-2, 3), rng.randrange(100)),
        lambda p: p.linsert(key("l"), "BEFORE", rng.randrange(100), "ins"),
        lambda p: p.lmove(key("l"), key("l"), rng.choice(["LEFT", "RIGHT"]), "LEFT"),
        lambda p: p.mset({key("s"): "m1", key("s"): "m2"}),
        lambda p: p.sadd(key("t"), *members()),
        lambda p: p.srem(key("t"), *members()),
        lambda p: p.spop(key("t"), rng.randrange(4)),
        lambda p: p.smove(key("t"), key("t"), rng.randrange(100)),
        lambda p: p.rename(key("t"), key("t")),
        lambda p: p.sinterstore(key("t"), key("t"), key("t")),
        lambda p: p.sunionstore(key("t"), key("t"), key("t")),
        lambda p: p.sdiffstore(key("t"), key("t"), key("t")),
        lambda p: p.copy(key("l"), key("l"), replace=rng.random() < 0.5),
        lambda p: p.copy(key("t"), key("t"), replace=True),
        lambda p: p.copy(key("h"), key("h"), destination_db=rng.randrange(DATABASES)),
        lambda p: p.zadd(key("z"), scored()),
        lambda p: p.zadd(key("z"), scored(), gt=True, ch=True),
        lambda p: p.zincrby(key("z"), rng.random(), f"m{rng.randrange(200)}"),
        lambda p: p.zrem(key("z"), *members()),
        lambda p: p.zpopmin(key("z"), rng.randrange(1, 4)),
        lambda p: p.zpopmax(key("z")),
        lambda p: p.zremrangebyscore(key("z"), rng.randrange(-60, 0), rng.randrange(0, 60)),
        lambda p: p.zremrangebyrank(key("z"), 0, rng.randrange(3)),
        lambda p: p.zunionstore(key("z"), [key("z"), key("t")]),
        lambda p: p.zinterstore(key("z"), [key("z"), key("z")], aggregate="MAX"),
        lambda p: p.zrangestore(key("z"), key("z"), 0, rng.randrange(-5, 200)),
        lambda p: p.zmpop(2, [key("z"), key("z")], min=True, count=rng.randrange(1, 5)),
        lambda p: p.rename(key("z"), key("z")),
        lambda p: p.copy(key("z"), key("z"), destination_db=rng.randrange(DATABASES)),
        lambda p: p.setbit(key("b"), rng.randrange(3000), rng.randrange(2)),
        lambda p: p.execute_command("BITFIELD", key("b"), "INCRBY", "u8", f"#{rng.randrange(50)}",
                                    rng.randrange(-300, 300)),
        lambda p: p.bitop(rng.choice(["AND", "OR", "XOR"]), key("b"), key("b"), key("s")),
        lambda p: p.pfadd(key("p"), *[f"e{rng.randrange(5000)}" for _ in range(rng.randrange(1, 40))]),
        lambda p: p.pfcount(key("p")),  # stores the cardinality in the value
        lambda p: p.pfmerge(key("p"), key("p"), key("p")),
        lambda p: p.eval("redis.call('rpush', KEYS[1], ARGV[1]) "
                         "return redis.call('incrby', KEYS[2], #ARGV[1])",
                         2, key("l"), key("s"), f"v{rng.randrange(100)}"),
    ]
    done = 0
    while done < count:
        db = rng.randrange(DATABASES)
        with clients[db].pipeline(transaction=rng.random() < 0.2) as p:
            for _ in range(rng.randrange(1, 20)):
                rng.choice(ops)(p)
                done += 1
            p.execute(raise_on_error=False)
    for c in clients:
        c.close()


@pytest.mark.parametrize("durability", ["sync", "async", "none"])
def test_keys_survive_a_restart(durability):
    server = Quiverd("--durability", durability)
    try:
        info = server.client().info("persistence")
        assert info["aof_enabled"] == 1 and info["quiver_durability"] == durability
        rng = random.Random(durability)
        random_ops(server, rng, 6000)
        c = server.client()
        c.set("short", "lived", px=400)
        c.rpush("biglist", *range(5000))
        c.lpush("biglist", *range(100))
        c.ltrim("biglist", 50, -50)
        c.hset("bighash", mapping={f"f{i}": i for i in range(1000)})
        c.hdel("bighash", "f1", "f2")
        c.sadd("bigset", *range(3000))
        c.srem("bigset", 7, 8)
        c.sadd("intset", *range(-5, 500))
        c.zadd("bigzset", {f"m{i}": i * 0.5 for i in range(3000)})
        c.zrem("bigzset", "m7", "m8")
        c.zincrby("bigzset", -100, "m9")
        c.zadd("smallzset", {"a": 1, "b": float("-inf"), "c": 2.5})
        server.client(db=2).flushdb()
        before = dump(server)
        assert len(before) > 20
        time.sleep(0.5)  # "short" expires while the server is down
        server.restart()
        after = dump(server)
        expected = {k: v for k, v in before.items() if k != (0, b"short")}
        assert after == expected
        assert not any(db == 2 for db, _ in after), "FLUSHDB is persisted"
        assert server.client().get("short") is None
        if durability == "sync":  # nothing was in flight: SIGKILL loses nothing
            server.restart(kill=True)
            assert dump(server) == expected
    finally:
        server.stop()


def test_memory_durability_keeps_nothing():
    server = Quiverd("--durability", "memory")
    try:
        assert server.client().info("persistence")["aof_enabled"] == 0
        server.client().set("k", "v")
        server.restart()
        assert server.client().get("k") is None
    finally:
        server.stop()


def writer(server, index, acked, stop):
    """Transactions of three writes (a counter, a list, a large hash), as
    long as the server answers; acked[index] is the last acknowledged."""
    c = server.client(socket_timeout=10)
    n = acked[index]
    try:
        while not stop.is_set():
            n += 1
            with c.pipeline(transaction=True) as p:
                p.incr(f"c{index}")
                p.rpush(f"l{index}", n)
                p.hset(f"h{index}", f"f{n}", n)
                p.execute()
            acked[index] = n
    except (redis.ConnectionError, redis.TimeoutError):
        pass


def test_acknowledged_writes_survive_sigkill():
    server = Quiverd("--durability", "sync")
    try:
        threads = 4
        acked = [0] * threads
        for cycle in range(3):
            stop = threading.Event()
            workers = [threading.Thread(target=writer, args=(server, i, acked, stop))
                       for i in range(threads)]
            for w in workers:
                w.start()
            time.sleep(1.0)
            server.proc.kill()
            server.proc.wait(60)
            stop.set()
            for w in workers:
                w.join(30)
            server.start()
            c = server.client()
            for i in range(threads):
                count = int(c.get(f"c{i}") or 0)
                # The last transaction may have committed unacknowledged.
                assert acked[i] <= count <= acked[i] + 1, (cycle, i, acked[i], count)
                assert c.lrange(f"l{i}", 0, -1) == [str(n).encode() for n in range(1, count + 1)]
                assert c.hlen(f"h{i}") == count, "a transaction is whole or absent"
                acked[i] = count
        assert min(acked) > 128, "the hashes were boxed"
    finally:
        server.stop()


def test_fewer_databases_than_stored_is_refused():
    server = Quiverd()
    try:
        server.client(db=5).set("k", "v")
        server.terminate()
        done = subprocess.run(
            [server.binary, "--port", "0", "--resp-port", "0", "--http-port", "0",
             "--databases", "2",
             "--data-dir", os.path.join(server.dir, "data")],
            capture_output=True, timeout=60)
        assert done.returncode != 0
        assert b"keys of database 5, but only 2 databases" in done.stderr
        server.start()
        assert server.client(db=5).get("k") == b"v"
    finally:
        server.stop()


def test_racing_writers_leave_the_last_state_on_disk():
    """Clients changing the same keys at once: the log must see each key's
    changes in the order the server made them."""
    server = Quiverd("--durability", "async")
    try:
        workers = [threading.Thread(target=random_ops, args=(server, random.Random(i), 4000))
                   for i in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        before = dump(server)
        server.restart()
        assert dump(server) == before
    finally:
        server.stop()
