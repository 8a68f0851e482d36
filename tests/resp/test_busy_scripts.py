"""busy-reply-threshold: a script that runs longer than it makes every
command that would wait for it fail with Redis's BUSY error, those already
waiting included, while SCRIPT KILL and FUNCTION KILL (the right one) and
FUNCTION STATS answer. Each scenario runs on quiverd and on redis-server,
and their replies are compared; quiverd also goes on serving reads of one
key, where Redis answers BUSY.

A script runs on the I/O thread of its client's connection, and the other
connections of that thread wait for it (docs/resp.md); new connections go
to the other threads. quiverd runs here with two I/O threads, which take
accepted connections in turn: so each test opens the script's connection
and the one that watches it one after the other, before the script
starts, and the rest once it runs."""

import threading

import pytest
import redis

from conftest import Quiverd, Raw, RedisServer, kill_running_script, reply
from quiverd import wait_for

SPIN = ("#!lua name=busy\n"
        "redis.register_function('spin', function(keys, args) while true do end end)")
THRESHOLD_MS = 200


@pytest.fixture(scope="module")
def server():
    s = Quiverd("--threads", "2")
    yield s
    s.stop()


@pytest.fixture
def reference_port():
    s = RedisServer()
    yield s.port
    s.stop()


def connect(port):
    """A client whose connection is open (so accepted in this order)."""
    c = redis.Redis(port=port, socket_timeout=60)
    c.ping()
    return c


def in_thread(c, *command):
    """Sends the command on client c from a thread; its reply or error goes
    to the returned list once the returned thread ends."""
    out = []

    def run():
        try:
            out.append(c.execute_command(*command))
        except redis.RedisError as e:
            out.append(e)
        c.close()

    t = threading.Thread(target=run)
    t.start()
    return t, out


def ended(t, out):
    t.join(60)
    assert not t.is_alive(), "still waiting"
    return str(out[0])


def running_function(admin):
    """FUNCTION STATS's running_script, as a dict (None if none runs)."""
    stats = admin.execute_command("FUNCTION", "STATS")
    running = dict(zip(stats[0::2], stats[1::2]))[b"running_script"]
    return None if running is None else dict(zip(running[0::2], running[1::2]))


def function_scenario(port):
    runner, admin = connect(port), connect(port)
    admin.config_set("busy-reply-threshold", THRESHOLD_MS)
    admin.set("k", "before")
    admin.function_load(SPIN, replace=True)
    script = in_thread(runner, "FCALL", "spin", "1", "k", "arg")
    while running_function(admin) is None:  # until it runs
        assert script[0].is_alive()
    # A new client (Redis would answer its PING BUSY): it waits, then is BUSY.
    waiting = in_thread(redis.Redis(port=port, socket_timeout=60), "SET", "k", "waited")
    seen = [ended(*waiting)]
    running = running_function(admin)
    seen += [running[b"name"], running[b"command"], running[b"duration_ms"] >= THRESHOLD_MS]
    for command in (["SET", "k", "during"], ["MSET", "a", "1", "b", "2"], ["MGET", "a", "b"],
                    ["EVAL", "return 1", "0"], ["SCRIPT", "LOAD", "return 2"],
                    ["FUNCTION", "LIST"], ["SCRIPT", "KILL"], ["FUNCTION", "KILL"]):
        seen.append([command[0], reply(admin, *command)])
    seen.append(ended(*script))
    seen += [reply(admin, "SET", "k", "after"), reply(admin, "FUNCTION", "STATS")]
    admin.config_set("busy-reply-threshold", 5000)
    return seen


def eval_scenario(port):
    runner, admin = connect(port), connect(port)
    admin.config_set("lua-time-limit", THRESHOLD_MS)  # busy-reply-threshold's old name
    admin.set("k", "before")
    script = in_thread(runner, "EVAL", "while true do end", "0")
    while True:  # a SET before the script runs is made; one after waits, then is BUSY
        try:
            admin.set("k", "during")
        except redis.ResponseError as e:
            busy = str(e)
            break
        assert script[0].is_alive()
    seen = [busy]
    for command in (["INCR", "n"], ["EVAL", "return 1", "0"], ["FUNCTION", "STATS"],
                    ["FUNCTION", "KILL"], ["SCRIPT", "EXISTS", "abc"], ["SCRIPT", "KILL"]):
        seen.append([command[0], reply(admin, *command)])
    seen.append(ended(*script))
    seen += [reply(admin, "INCR", "n"), reply(admin, "CONFIG", "GET", "busy-reply-threshold")]
    admin.config_set("busy-reply-threshold", 5000)
    return seen


@pytest.mark.parametrize("scenario", [function_scenario, eval_scenario])
def test_past_the_threshold_a_script_makes_others_busy_as_in_redis(server, reference_port,
                                                                   scenario):
    ours = scenario(server.resp_port)
    assert ours == scenario(reference_port)
    assert any("BUSY Redis is busy running a script" in str(x) for x in ours)


def test_reads_of_one_key_go_on_and_a_busy_exec_keeps_its_transaction(server):
    """Unlike Redis, GET is served while a script runs; EXEC is BUSY and the
    transaction stays, to be run once the script is killed (as Redis keeps
    it)."""
    runner, admin = connect(server.resp_port), connect(server.resp_port)
    admin.config_set("busy-reply-threshold", THRESHOLD_MS)
    try:
        admin.set("k", "before")
        admin.function_load(SPIN, replace=True)
        script = in_thread(runner, "FCALL", "spin", "0")
        while running_function(admin) is None:
            assert script[0].is_alive()
        assert admin.get("k") == b"before"
        tx = Raw(server.resp_port, 2)  # one connection, replies as sent
        assert tx.call("MULTI") == b"+OK\r\n"
        assert tx.call("SET", "k", "in-exec") == b"+QUEUED\r\n"
        assert tx.call("EXEC").startswith(b"-BUSY Redis is busy running a script.")
        assert admin.execute_command("FUNCTION", "KILL") == b"OK"
        assert "Script killed by user" in ended(*script)
        assert tx.call("EXEC") == b"*1\r\n+OK\r\n"
        assert admin.get("k") == b"in-exec"
        tx.close()
    finally:
        admin.config_set("busy-reply-threshold", 5000)


def test_new_connections_are_served_while_a_script_holds_a_thread(server):
    """The acceptors have a thread of their own, and pass over the I/O
    thread a script holds: every client connected once the script runs is
    served (and can send SCRIPT KILL), whichever thread the script runs on.
    (A client accepted on the script's thread just before it started waits
    for it, as every Redis client does: so the script is seen running, from
    a client on the other thread, before new ones connect.)"""
    for _ in range(2):  # the script on one thread, then on the other
        runner = connect(server.resp_port)
        watcher = connect(server.resp_port)  # accepted next: on the other thread
        runner_id = runner.client_id()
        script = in_thread(runner, "EVAL", "while true do end", "0")
        wait_for(lambda: any(c["id"] == str(runner_id) and c["cmd"] == "eval"
                             for c in watcher.client_list()), "the script runs")
        clients = [connect(server.resp_port) for _ in range(4)]  # each PING answered
        assert clients[-1].script_kill()
        assert "Script killed by user" in ended(*script)
        for c in clients + [watcher]:
            c.close()
        connect(server.resp_port).close()  # the next runner on the other thread


def test_with_one_io_thread_a_standby_thread_takes_script_kill():
    """With --threads 1 the one I/O thread runs the script; connections
    accepted meanwhile go to a standby thread, so SCRIPT KILL gets
    through."""
    one = Quiverd("--threads", "1")
    try:
        script = in_thread(connect(one.resp_port), "EVAL", "while true do end", "0")
        kill_running_script(one.resp_port, "SCRIPT", "KILL")
        assert "Script killed by user" in ended(*script)
        assert connect(one.resp_port).ping()  # the first thread serves again
    finally:
        one.stop()


def test_the_threshold_takes_what_redis_takes(server, reference_port):
    reference = redis.Redis(port=reference_port)
    for value in ("150", "-5", "abc", "0", "9223372036854775807"):
        for name in ("busy-reply-threshold", "lua-time-limit"):
            commands = [["CONFIG", "SET", name, value], ["CONFIG", "GET", "lua-time-limit"],
                        ["CONFIG", "GET", "busy-reply-threshold"]]
            for command in commands:
                assert reply(server.client(), *command) == reply(reference, *command), command
    server.client().config_set("busy-reply-threshold", 5000)
