"""Blocking commands (issue 27): BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
BZPOPMIN, BZPOPMAX, BZMPOP. Their immediate replies and errors match
redis-server byte for byte; then waits: woken by a push from another
connection (served first come, first served), by EXEC, by a timeout, by
CLIENT UNBLOCK, and ended by a disconnect. Every wait is observed through
INFO's blocked_clients, never by sleeping."""

import threading
import time

import pytest
import redis

from conftest import Raw, assert_same_replies, raw
from quiverd import wait_for

CASES = [
    # Data there: no wait.
    [["RPUSH", "a", "1", "2"], ["RPUSH", "b", "3"], ["BLPOP", "none", "a", "b", "0"],
     ["BRPOP", "a", "b", "0"], ["BRPOP", "a", "b", "0"], ["EXISTS", "a", "b"],
     ["RPUSH", "s", "x", "y"], ["BLMOVE", "s", "d", "LEFT", "RIGHT", "0"],
     ["BRPOPLPUSH", "s", "d", "0"], ["LRANGE", "d", "0", "-1"], ["BLMOVE", "d", "d", "LEFT", "LEFT", "1"],
     ["RPUSH", "m", "1", "2", "3"], ["BLMPOP", "0", "2", "none", "m", "RIGHT", "COUNT", "2"],
     ["LMPOP", "1", "m", "LEFT"], ["LMPOP", "1", "m", "LEFT"], ["LMPOP", "2", "x", "y", "RIGHT"],
     ["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["BZPOPMIN", "none", "z", "0"],
     ["BZPOPMAX", "z", "0"], ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"], ["EXISTS", "z"]],
    # Errors, in Redis's order of checks.
    [["SET", "str", "v"], ["RPUSH", "l", "1"], ["BLPOP", "str", "0"], ["BLPOP", "l", "x"],
     ["BLPOP", "l", "-1"], ["BLPOP", "l", "inf"], ["BLPOP", "l", "1e20"], ["BLPOP", "l", "1 "],
     ["BLPOP", "str", "l", "0"], ["BLPOP", "l", "str", "0"], ["RPUSH", "l", "1"], ["BLMOVE", "l", "d", "UP", "LEFT", "0"],
     ["BLMOVE", "str", "d", "LEFT", "LEFT", "0"], ["BLMOVE", "l", "str", "LEFT", "LEFT", "0"],
     ["BLMOVE", "l", "d", "LEFT", "LEFT", "x"], ["BRPOPLPUSH", "str", "d", "0"],
     ["BLMPOP", "x", "1", "l", "LEFT"], ["BLMPOP", "0", "0", "l", "LEFT"],
     ["BLMPOP", "0", "2", "l", "LEFT"], ["BLMPOP", "0", "1", "l", "UP"],
     ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"], ["BLMPOP", "0", "1", "l", "LEFT", "COUNT"],
     ["LMPOP", "0", "l", "LEFT"], ["LMPOP", "1", "str", "LEFT"], ["LMPOP", "1", "l", "LEFT", "FOO"],
     ["BZPOPMIN", "str", "0"], ["BZPOPMIN", "l", "0"], ["BZPOPMAX", "z", "x"],
     ["BZMPOP", "0", "1", "str", "MIN"], ["BZMPOP", "0", "1", "z", "LOW"], ["BLPOP", "l"],
     ["BZPOPMIN", "z"], ["BLMOVE", "a", "b", "LEFT", "LEFT"], ["BLMPOP", "0", "1", "l"]],
    # Inside MULTI they do not wait: their timeout reply at once.
    [["MULTI"], ["BLPOP", "none", "0"], ["BRPOPLPUSH", "none", "d", "0"],
     ["BLMOVE", "none", "d", "LEFT", "LEFT", "0"], ["BLMPOP", "0", "1", "none", "LEFT"],
     ["BZPOPMIN", "none", "0"], ["BZMPOP", "0", "1", "none", "MAX"], ["RPUSH", "k", "v"],
     ["BLPOP", "k", "0"], ["EXEC"]],
    [["CLIENT", "UNBLOCK", "999999"], ["CLIENT", "UNBLOCK", "x"],
     ["CLIENT", "UNBLOCK", "1", "MAYBE"], ["CLIENT", "UNBLOCK"]],
]


@pytest.mark.parametrize("commands", CASES, ids=lambda c: " ".join(c[-1])[:40])
@pytest.mark.parametrize("protocol", [2, 3])
def test_immediate_replies_match_redis(server, reference, commands, protocol):
    assert_same_replies(server, reference, commands, protocol)


def blocked(r):
    return r.info("clients")["blocked_clients"]


class Call:
    """A command run on a thread of its own; .result() waits for it."""

    def __init__(self, port, *command):
        self.out = {}
        self.conn = Raw(port, 2)
        self.thread = threading.Thread(target=self.run, args=(command,))
        self.thread.start()

    def run(self, command):
        try:
            self.out["reply"] = self.conn.call(*command)
        except OSError as e:
            self.out["reply"] = e

    def result(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the command is still waiting"
        self.conn.close()
        return self.out["reply"]


def waiting(r, n):
    wait_for(lambda: blocked(r) == n, f"{n} clients did not get to wait")


def test_a_push_from_another_connection_wakes_the_waiters_in_order(server, r):
    calls = []
    for n in range(3):  # each registered before the next comes
        calls.append(Call(server.resp_port, "BLPOP", "jobs", "other", "0"))
        waiting(r, n + 1)
    assert r.rpush("jobs", "j1", "j2", "j3") == 3
    replies = [c.result() for c in calls]
    assert replies == [b"*2\r\n$4\r\njobs\r\n$2\r\nj%d\r\n" % (i + 1) for i in range(3)]
    assert r.exists("jobs") == 0 and blocked(r) == 0


def test_each_command_is_woken_by_the_writes_it_waits_for(server, r):
    port = server.resp_port
    brpop = Call(port, "BRPOP", "l1", "0")
    bzmin = Call(port, "BZPOPMIN", "z1", "0")
    bzmpop = Call(port, "BZMPOP", "0", "2", "z2", "z3", "MAX", "COUNT", "2")
    blmpop = Call(port, "BLMPOP", "0", "1", "l2", "LEFT", "COUNT", "5")
    waiting(r, 4)
    r.rpush("l1", "a", "b")
    r.zadd("z1", {"m": 1.5, "n": 2})
    r.zadd("z3", {"x": 1, "y": 2, "z": 3})
    r.lpush("l2", "p", "q")
    assert brpop.result() == b"*2\r\n$2\r\nl1\r\n$1\r\nb\r\n"
    assert bzmin.result() == b"*3\r\n$2\r\nz1\r\n$1\r\nm\r\n$3\r\n1.5\r\n"
    assert bzmpop.result() == \
        b"*2\r\n$2\r\nz3\r\n*2\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n"
    assert blmpop.result() == b"*2\r\n$2\r\nl2\r\n*2\r\n$1\r\nq\r\n$1\r\np\r\n"
    assert r.lrange("l1", 0, -1) == [b"a"] and r.zcard("z3") == 1


def test_a_move_wakes_a_waiter_on_its_destination(server, r):
    mover = Call(server.resp_port, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    waiting(r, 1)
    popper = Call(server.resp_port, "BLPOP", "dst", "0")
    waiting(r, 2)
    r.rpush("src", "item")
    assert mover.result() == b"$4\r\nitem\r\n"
    assert popper.result() == b"*2\r\n$3\r\ndst\r\n$4\r\nitem\r\n"
    assert r.exists("src", "dst") == 0


def test_a_push_inside_multi_wakes_at_exec_and_sees_its_end_state(server, r):
    waiter = Call(server.resp_port, "BLPOP", "q", "0")
    waiting(r, 1)
    with r.pipeline(transaction=True) as tx:
        tx.rpush("q", "gone").lpop("q")  # empty again by EXEC's end
        tx.execute()
    assert blocked(r) == 1 and r.exists("q") == 0
    with r.pipeline(transaction=True) as tx:
        tx.rpush("q", "first", "second").lpop("q")
        tx.execute()
    assert waiter.result() == b"*2\r\n$1\r\nq\r\n$6\r\nsecond\r\n"


def test_a_timeout_ends_the_wait_with_nil(server, r):
    start = time.monotonic()
    assert Call(server.resp_port, "BLPOP", "none", "0.2").result() == b"*-1\r\n"
    assert time.monotonic() - start >= 0.2
    assert Call(server.resp_port, "BRPOPLPUSH", "none", "d", "0.05").result() == b"$-1\r\n"
    assert blocked(r) == 0


def test_client_unblock_ends_a_wait(server, r):
    c = Raw(server.resp_port, 2)
    client_id = int(c.call("CLIENT", "ID")[1:-2])
    c.close()
    waiter = Call(server.resp_port, "BZPOPMAX", "none", "0")
    waiting(r, 1)
    ids = [int(line.split(b"id=")[1].split()[0]) for line in r.execute_command("CLIENT", "LIST").split(b"\n") if line]
    target = max(ids)  # the waiter's connection is the newest
    assert target > client_id
    assert r.execute_command("CLIENT", "UNBLOCK", target) == 1
    assert waiter.result() == b"*-1\r\n"
    waiter = Call(server.resp_port, "BLPOP", "none", "0")
    waiting(r, 1)
    ids = [int(line.split(b"id=")[1].split()[0]) for line in r.execute_command("CLIENT", "LIST").split(b"\n") if line]
    assert r.execute_command("CLIENT", "UNBLOCK", max(ids), "ERROR") == 1
    assert waiter.result() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert r.execute_command("CLIENT", "UNBLOCK", max(ids)) == 0


def test_a_client_that_disconnects_stops_waiting_and_takes_nothing(server, r):
    conn = Raw(server.resp_port, 2)
    conn.sock.sendall(b"*3\r\n$5\r\nBLPOP\r\n$4\r\ngone\r\n$1\r\n0\r\n")
    waiting(r, 1)
    conn.close()
    waiting(r, 0)
    r.rpush("gone", "kept")
    assert r.lrange("gone", 0, -1) == [b"kept"]


def test_pipelined_commands_after_a_wait_run_after_it(server, r):
    conn = Raw(server.resp_port, 2)
    conn.sock.sendall(b"*3\r\n$5\r\nBLPOP\r\n$1\r\np\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n"
                      b"*2\r\n$4\r\nLLEN\r\n$1\r\np\r\n")
    waiting(r, 1)
    r.rpush("p", "1", "2")
    assert conn.read() == b"*2\r\n$1\r\np\r\n$1\r\n1\r\n"
    assert conn.read() == b"+PONG\r\n"
    assert conn.read() == b":1\r\n"
    conn.close()


def test_many_consumers_take_every_item_once(server, r):
    items = [f"i{n}" for n in range(400)]
    got = []
    lock = threading.Lock()

    def consume():
        c = raw(server.client())
        while True:
            reply = c.blpop(["work"], 0)
            if reply[1] == b"stop":
                break
            with lock:
                got.append(reply[1].decode())
        c.close()

    consumers = [threading.Thread(target=consume) for _ in range(4)]
    for t in consumers:
        t.start()
    producers = [threading.Thread(target=lambda part=part: [
        server.client().rpush("work", *part[i:i + 7]) for i in range(0, len(part), 7)])
        for part in (items[::2], items[1::2])]
    for t in producers:
        t.start()
    for t in producers:
        t.join()
    wait_for(lambda: len(got) == len(items), "not every item was consumed")
    r.rpush("work", *["stop"] * 4)
    for t in consumers:
        t.join(30)
    assert sorted(got) == sorted(items)
    assert r.exists("work") == 0
