"""List commands through redis-py and redis-cli: each command's replies and
errors, a randomised comparison against a Python model of Redis's lists,
WATCH and TTLs on lists, memory given back, and clients racing on one list."""

import random
import threading
import time

import pytest
import redis


def test_push_pop_len_range(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "z", "y") == 5  # y z a b c
    assert r.lrange("l", 0, -1) == [b"y", b"z", b"a", b"b", b"c"]
    assert r.lrange("l", -2, 100) == [b"b", b"c"]
    assert r.lrange("l", 3, 1) == [] and r.lrange("nokey", 0, -1) == []
    assert r.llen("l") == 5 and r.llen("nokey") == 0
    assert r.lpop("l") == b"y" and r.rpop("l") == b"c"
    assert r.lpop("l", 2) == [b"z", b"a"]
    assert r.lpop("l", 0) == []
    assert r.rpop("l", 10) == [b"b"]
    assert r.exists("l") == 0, "an emptied list is deleted"
    assert r.lpop("l") is None and r.lpop("l", 3) is None
    assert r.lpushx("l", "a") == 0 and r.rpushx("l", "a") == 0 and r.exists("l") == 0
    r.rpush("l", "m")
    assert r.lpushx("l", "f") == 2 and r.execute_command("RPUSHX", "l", "g", "h") == 4
    assert r.lrange("l", 0, -1) == [b"f", b"m", b"g", b"h"]
    assert r.type("l") == b"list"
    with pytest.raises(redis.ResponseError, match="^value is out of range, must be positive"):
        r.execute_command("LPOP", "l", "-1")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'lpop'"):
        r.execute_command("LPOP", "l", "1", "2")


def test_index_set_trim_rem_insert(r):
    r.rpush("l", *"abcabc")
    assert r.lindex("l", 0) == b"a" and r.lindex("l", -1) == b"c"
    assert r.lindex("l", 6) is None and r.lindex("nokey", 0) is None
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range"):
        r.lindex("l", "x")
    assert r.lset("l", -1, "C") is True
    with pytest.raises(redis.ResponseError, match="^index out of range"):
        r.lset("l", 6, "x")
    with pytest.raises(redis.ResponseError, match="^no such key"):
        r.lset("nokey", 0, "x")
    assert r.lrem("l", -1, "b") == 1  # the last b
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c", b"a", b"C"]
    assert r.lrem("l", 0, "a") == 2 and r.lrem("l", 0, "zz") == 0
    assert r.linsert("l", "BEFORE", "c", "x") == 4
    assert r.linsert("l", "after", "C", "y") == 5
    assert r.linsert("l", "after", "nope", "y") == -1
    assert r.linsert("nokey", "after", "a", "y") == 0
    with pytest.raises(redis.ResponseError, match="^syntax error"):
        r.execute_command("LINSERT", "l", "AROUND", "c", "x")
    assert r.lrange("l", 0, -1) == [b"b", b"x", b"c", b"C", b"y"]
    assert r.ltrim("l", 1, -2) is True
    assert r.lrange("l", 0, -1) == [b"x", b"c", b"C"]
    assert r.ltrim("l", 5, 10) is True and r.exists("l") == 0
    assert r.ltrim("nokey", 0, 1) is True


def test_lpos(r):
    r.rpush("l", *"abcdabcd")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=2) == 6
    assert r.lpos("l", "c", rank=-1) == 6
    assert r.lpos("l", "c", rank=-2) == 2
    assert r.lpos("l", "c", count=0) == [2, 6]
    assert r.lpos("l", "c", count=1) == [2]
    assert r.lpos("l", "c", rank=-1, count=0) == [6, 2]
    assert r.lpos("l", "c", maxlen=3) == 2 and r.lpos("l", "c", maxlen=2) is None
    assert r.lpos("l", "zz") is None and r.lpos("l", "zz", count=2) == []
    assert r.lpos("nokey", "a") is None and r.lpos("nokey", "a", count=0) == []
    with pytest.raises(redis.ResponseError, match="^RANK can't be zero"):
        r.lpos("l", "a", rank=0)
    with pytest.raises(redis.ResponseError, match="^COUNT can't be negative"):
        r.lpos("l", "a", count=-1)
    with pytest.raises(redis.ResponseError, match="^MAXLEN can't be negative"):
        r.lpos("l", "a", maxlen=-1)
    with pytest.raises(redis.ResponseError, match="^syntax error"):
        r.execute_command("LPOS", "l", "a", "RANK")


def test_lmove_rpoplpush(r):
    r.rpush("src", "a", "b", "c")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"a"
    assert r.lmove("src", "dst", "RIGHT", "LEFT") == b"c"
    assert r.rpoplpush("src", "dst") == b"b"
    assert r.exists("src") == 0
    assert r.lrange("dst", 0, -1) == [b"b", b"c", b"a"]
    assert r.lmove("src", "dst", "LEFT", "LEFT") is None
    r.pexpire("dst", 100000)
    assert r.lmove("dst", "dst", "LEFT", "RIGHT") == b"b"  # a rotation keeps the TTL
    assert r.lrange("dst", 0, -1) == [b"c", b"a", b"b"] and r.ttl("dst") > 0
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.lmove("dst", "s", "LEFT", "LEFT")
    assert r.llen("dst") == 3, "nothing popped when the destination has the wrong type"
    with pytest.raises(redis.ResponseError, match="^syntax error"):
        r.execute_command("LMOVE", "dst", "x", "UP", "LEFT")


def test_wrong_type_and_arity(r):
    r.set("s", "v")
    r.rpush("l", "a")
    for call in (lambda: r.lpush("s", "x"), lambda: r.lrange("s", 0, 1), lambda: r.llen("s"),
                 lambda: r.lpop("s"), lambda: r.lpos("s", "a"), lambda: r.get("l"),
                 lambda: r.hget("l", "f")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            call()
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'lpush'"):
        r.execute_command("LPUSH", "l")
    assert r.lrange("l", 0, -1) == [b"a"]


def test_binary_items_and_cli(r, server):
    items = [bytes(range(256)), b"", b"\r\n\x00", b"x" * 100000]
    r.rpush("bin", *items)
    assert r.lrange("bin", 0, -1) == items
    server.cli("-n", "0", "RPUSH", "cli", "one", "two words")
    assert server.cli("LRANGE", "cli", "0", "-1") == "one\ntwo words\n"
    assert server.cli("LPOS", "cli", "two words") == "1\n"


class ListModel:
    """Redis's list semantics in Python, for the randomised comparison."""

    def __init__(self):
        self.items = []

    def run(self, op, args):
        return getattr(self, op)(*args)

    def lpush(self, *v):
        self.items[:0] = list(reversed(v))
        return len(self.items)

    def rpush(self, *v):
        self.items.extend(v)
        return len(self.items)

    def lpop(self, n):
        out, self.items = self.items[:n], self.items[n:]
        return out if self.items or out else None

    def rpop(self, n):
        k = len(self.items) - min(n, len(self.items))
        out, self.items = list(reversed(self.items[k:])), self.items[:k]
        return out if self.items or out else None

    def lrange(self, a, b):
        n = len(self.items)
        a, b = a + n if a < 0 else a, b + n if b < 0 else b
        a = max(a, 0)
        return [] if a > b or a >= n else self.items[a:min(b, n - 1) + 1]

    def ltrim(self, a, b):
        self.items = self.lrange(a, b)
        return True

    def lrem(self, count, v):
        order = range(len(self.items) - 1, -1, -1) if count < 0 else range(len(self.items))
        drop = [i for i in order if self.items[i] == v][:abs(count) or None]
        self.items = [x for i, x in enumerate(self.items) if i not in set(drop)]
        return len(drop)

    def linsert(self, where, pivot, v):
        if not self.items:
            return 0
        if pivot not in self.items:
            return -1
        i = self.items.index(pivot) + (where == "AFTER")
        self.items.insert(i, v)
        return len(self.items)

    def lindex(self, i):
        n = len(self.items)
        i = i + n if i < 0 else i
        return self.items[i] if 0 <= i < n else None

    def llen(self):
        return len(self.items)


def test_random_operations_match_a_model(r):
    rng = random.Random(7)
    model = ListModel()
    values = [b"a", b"b", b"c", b"d" * 40]
    for step in range(3000):
        op = rng.choice(["lpush", "rpush", "lpush", "rpush", "lpop", "rpop", "lrange",
                         "ltrim", "lrem", "linsert", "lindex", "llen"])
        if op in ("lpush", "rpush"):
            args = [rng.choice(values) for _ in range(rng.randint(1, 4))]
        elif op in ("lpop", "rpop"):
            args = [rng.randint(1, 3)]
        elif op in ("lrange", "ltrim"):
            args = [rng.randint(-12, 12), rng.randint(-12, 40 if op == "ltrim" else 12)]
        elif op == "lrem":
            args = [rng.randint(-2, 2), rng.choice(values)]
        elif op == "linsert":
            args = [rng.choice(["BEFORE", "AFTER"]), rng.choice(values), b"i"]
        elif op == "lindex":
            args = [rng.randint(-10, 10)]
        else:
            args = []
        want = model.run(op, args)
        got = r.execute_command(op.upper(), "m", *args)
        if op == "ltrim":
            got = got in (True, b"OK")
        assert got == want, f"step {step}: {op} {args}"
        assert r.exists("m") == (1 if model.items else 0), f"step {step}: {op} {args}"


def test_watch_sees_list_changes(server, r):
    r.rpush("w", "a")
    watcher = server.client()
    pipe = watcher.pipeline()
    pipe.watch("w")
    r.rpush("w", "b")  # changes the list in place
    pipe.multi()
    pipe.set("done", "1")
    with pytest.raises(redis.WatchError):
        pipe.execute()
    pipe.watch("w")
    pipe.multi()
    pipe.set("done", "1")
    assert pipe.execute() == [True]
    watcher.close()


def test_list_ttl_expires(r):
    r.rpush("t", "a", "b")
    assert r.pexpire("t", 150) is True
    assert r.lrange("t", 0, -1) == [b"a", b"b"]
    time.sleep(0.3)
    assert r.llen("t") == 0 and r.exists("t") == 0
    assert r.rpush("t", "c") == 1, "a push onto an expired list starts a new one"
    assert r.ttl("t") == -1


def test_memory_is_given_back(r):
    def used():
        return r.info("memory")["used_memory_dataset"]

    before = used()
    r.rpush("big", *([b"v" * 100] * 20000))
    grown = used()
    assert grown - before > 20000 * 100
    r.delete("big")
    deadline = time.monotonic() + 10  # freed after an RCU grace period
    while used() > before + 4096 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert used() <= before + 4096


def test_maxmemory_refuses_pushes(r):
    r.rpush("l", "a")
    try:
        assert r.config_set("maxmemory", str(r.info("memory")["used_memory"] + 1000)) is True
        with pytest.raises(redis.ResponseError, match="^OOM command not allowed"):
            r.rpush("l", "x" * 5000)
        assert r.lrange("l", 0, -1) == [b"a"]
    finally:
        r.config_set("maxmemory", "0")


def test_concurrent_pushers_poppers_and_movers(server, r):
    """Every pushed item is popped exactly once, and LMOVE between two
    lists loses and duplicates nothing, while clients race."""
    per_pusher, pushers = 2000, 3

    def push(n):
        c = server.client()
        for i in range(0, per_pusher, 50):
            c.rpush("q", *[f"{n}:{j}" for j in range(i, i + 50)])

    popped = []
    lock = threading.Lock()
    stop = threading.Event()

    def pop():
        c = server.client()
        mine = []
        while not stop.is_set() or c.llen("q") > 0:
            got = c.lpop("q", 7)
            if got:
                mine.extend(got)
        with lock:
            popped.extend(mine)

    def move():
        c = server.client()
        for _ in range(1500):
            c.lmove("a", "b", "LEFT", "RIGHT")
            c.lmove("b", "a", "RIGHT", "LEFT")

    r.rpush("a", *range(50))
    threads = [threading.Thread(target=push, args=(n,)) for n in range(pushers)]
    poppers = [threading.Thread(target=pop) for _ in range(2)]
    movers = [threading.Thread(target=move) for _ in range(2)]
    for t in threads + poppers + movers:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in poppers + movers:
        t.join()
    assert len(popped) == pushers * per_pusher
    assert set(popped) == {f"{n}:{j}".encode() for n in range(pushers) for j in range(per_pusher)}
    both = r.lrange("a", 0, -1) + r.lrange("b", 0, -1)
    assert sorted(int(x) for x in both) == list(range(50))
