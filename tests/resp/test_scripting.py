"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT answer as
redis-server 7 does, byte for byte in RESP2 and RESP3 (conversions both
ways, errors with their script and line, the sandbox); scripts are atomic
against every other client; their writes persist."""

import socket
import threading

import pytest
import redis

from conftest import Quiverd, assert_same_replies, key_events

SCRIPTS = [
    "return 1", "return 'x'", "return 3.99", "return -3.99", "return true", "return false",
    "return nil", "return {1,2,{3,'x'},nil,5}", "return {ok='fine'}", "return {err='bad thing'}",
    "return {err='MYERR bad thing'}", "return redis.error_reply('E1 oops')",
    "return redis.error_reply('oops')", "return redis.status_reply('OK2')",
    "return redis.call('set', 'k', 'v')", "return redis.call('get', 'k')",
    "return redis.call('get', 'nokey')", "return type(redis.call('get', 'nokey'))",
    "return redis.call('incr', 'k')", "return redis.pcall('incr', 'k')",
    "local r = redis.pcall('incr', 'k'); return type(r) .. ':' .. r['err']",
    "return redis.call('nosuch')", "return redis.pcall('nosuch')", "return redis.call()",
    "return redis.call('get', {})", "return redis.call('set', 'a')", "error('boom')",
    "error({err='CUSTOM boom'})", "return x.y", "syntax error here", "x = 5",
    "return os.time()", "return io", "return print", "return redis.sha1hex('')",
    "return redis.sha1hex('abc')", "return cjson.encode({1,2,3})",
    "return cjson.decode('{\"a\":[1,2]}').a[2]", "return bit.band(12, 10)",
    "return bit.tohex(255)", "return redis.call('hgetall', 'h')",
    "redis.call('hset','h','a','1','b','2'); return redis.call('hgetall', 'h')",
    "redis.setresp(3); return redis.call('hgetall', 'h')",
    "redis.setresp(3); local t = redis.call('hgetall', 'h'); return type(t.map)",
    "redis.setresp(3); return {double=3.5}", "return {double=3.5}",
    "redis.setresp(3); return redis.call('get','nokey')", "redis.setresp(3); return true",
    "redis.setresp(3); return {false, true}", "redis.setresp(4)", "return redis.call('ping')",
    "return redis.call('eval', 'return 1', 0)", "return redis.call('subscribe', 'x')",
    "return redis.call('multi')", "return redis.call('blpop', 'nolist', 0)",
    "return redis.call('lpush', 'l', 'a')", "return redis.call('blpop', 'l', 0)",
    "return tostring(0.1)", "return math.random()", "return redis.call('time')[1] > '0'",
    "redis.log(redis.LOG_WARNING, 'hi'); return 1", "redis.log(9, 'hi')", "redis.log(1)",
    "return loadstring", "return {1, {2, {3, {4, {5}}}}}", "return #redis.call('keys', '*')",
    "return redis.call('get', 1, 2)",
    "return tostring(redis.call('incrbyfloat', 'f', '1.5'))",
    "return redis.call('set', 'n', 1.5)", "return redis.call('get', 'n')",
    "return redis.call('zadd', 'z', 1.5, 'm')", "return redis.call('zscore', 'z', 'm')",
    "redis.setresp(3); return redis.call('zscore', 'z', 'm')",
    "redis.setresp(3); return redis.call('zrange', 'z', 0, -1, 'withscores')",
    "return setmetatable", "local t = {} ; t[1]='a'; t[3]='c'; return t",
    "return {'a', false, 'c'}", "return {'a', true, 'c'}",
    "redis.call('select', 5); redis.call('set', 'in5', 'x'); return redis.call('dbsize')",
    "return redis.call('get', 'in5')", "return redis.call('exists', 'nokey')",
    "return {map={a=1}}", "return {set={a=true}}", "redis.setresp(3); return {map={a=1}}",
    "return {big_number='123'}", "return {err='line1\\nline2'}",
    # Nesting of every kind (the reply is written without recursion).
    "redis.setresp(3); return {map={a={1, {map={b={set={c=true}}}}}}}",
    "return {map={a={1, {map={b={set={c=true}}}}}}}",
    "return {1, {}, {map={}}, {2, {3}}, 'x'}",
    "redis.setresp(3); return {{set={}}, {map={k={double=1.5}}}, {err='E x'}, {ok='fine'}}",
    "redis.setresp(3); return {{verbatim_string={format='txt', string='v'}}, {big_number='9'}}",
]


def eval_commands():
    out = [["EVAL", s, "0"] for s in SCRIPTS]
    out += [["EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2",
             "k1", "k2", "a1", "a2"],
            ["EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v"],
            ["EVAL_RO", "return redis.call('set', 'x', 1)", "0"],
            ["EVAL_RO", "return redis.call('get', 'k')", "0"],
            ["EVAL", "return 1", "-1"], ["EVAL", "return 1", "x"], ["EVAL", "return 1", "2", "a"],
            ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
            ["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"],
            ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"], ["EVALSHA", "xyz", "0"],
            ["EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
            ["SCRIPT", "LOAD", "return 'loaded'"],
            ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8",
             "ffffffffffffffffffffffffffffffffffffffff"],
            ["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
            ["SCRIPT", "LOAD", "syntax error("], ["SCRIPT", "FLUSH"],
            ["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
            ["SCRIPT", "FLUSH", "ASYNC"], ["SCRIPT", "FLUSH", "NOPE"], ["SCRIPT", "KILL"],
            ["SCRIPT", "NOPE"], ["SCRIPT", "LOAD"],
            ["MULTI"], ["EVAL", "return redis.call('incr', 'c')", "0"],
            ["EVAL", "return redis.call('incr', 'c')", "0"], ["EXEC"]]
    return out


@pytest.mark.parametrize("protocol", [2, 3])
def test_scripts_answer_as_redis(server, reference, protocol):
    for client in (server.client(), reference):
        client.script_flush()
    assert_same_replies(server, reference, eval_commands(), protocol)


def test_the_sandbox_keeps_globals_and_libraries_unchanged(server):
    r = server.client(decode_responses=True)
    for script in ["rawset(_G, 'x', 1)", "setmetatable(_G, nil)", "redis.call = nil",
                   "rawset(redis, 'call', nil)", "cjson.encode = nil", "string.rep = nil",
                   "function helper() end"]:
        with pytest.raises(redis.ResponseError, match="readonly table|protected metatable"):
            r.eval(script, 0)
    assert r.eval("return getmetatable(_G)", 0) is None  # hidden: false, not the metatable
    assert r.eval("return redis.call('ping')", 0) == "PONG"  # still the real redis.call
    assert r.eval("return string.rep('a', 3)", 0) == "aaa"
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'helper'"):
        r.eval("return helper()", 0)


def test_a_script_is_atomic_against_every_other_client(server):
    r = server.client()
    r.delete("counter", "a", "b")
    # Read, then write: without atomicity, concurrent runs would lose increments.
    script = r.register_script(
        "local v = tonumber(redis.call('get', KEYS[1]) or '0') "
        "redis.call('set', KEYS[1], v + 1) "
        "redis.call('incr', KEYS[2]) redis.call('decr', KEYS[3]) return v + 1")
    seen = []

    def run():
        c = server.client()
        for _ in range(300):
            script(keys=["counter", "a", "b"], client=c)
        c.close()

    def watch():
        c = server.client()
        for _ in range(300):
            a, b = c.mget("a", "b")
            seen.append((int(a or 0), int(b or 0)))
        c.close()

    threads = [threading.Thread(target=run) for _ in range(4)] + [threading.Thread(target=watch)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert int(r.get("counter")) == 1200
    assert all(a == -b for a, b in seen), "a read saw half of a script"


def test_script_writes_persist_and_notify():
    s = Quiverd("--durability", "sync")
    try:
        r = s.client(decode_responses=True)
        listener = key_events(r)
        assert r.eval("redis.call('rpush', KEYS[1], 'a', 'b'); "
                      "redis.call('hset', KEYS[2], 'f', ARGV[1]); return 'done'",
                      2, "list", "hash", "v") == "done"
        got = [listener.get_message(timeout=10) for _ in range(2)]
        assert [m["channel"] for m in got] == ["__keyevent@0__:rpush", "__keyevent@0__:hset"]
        listener.close()
        s.restart(kill=True)  # sync: acknowledged, so on disk
        r = s.client(decode_responses=True)
        assert r.lrange("list", 0, -1) == ["a", "b"] and r.hget("hash", "f") == "v"
    finally:
        s.stop()


def test_a_reply_nesting_itself_ends_at_luas_stack_limit(server, reference):
    """As Redis: about 8,000 nested arrays, then the error; the server lives on."""
    script = b"local t = {}; t[1] = t; return t"
    request = b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(script), script)
    replies = []
    for port in (server.resp_port, reference.connection_pool.connection_kwargs["port"]):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(request)
            data = b""
            while not data.endswith(b"-ERR reached lua stack limit\r\n"):
                chunk = s.recv(65536)
                assert chunk, "the connection closed"
                data += chunk
            replies.append(data)
    assert replies[0] == replies[1]
    assert server.client().ping()


def run_in_thread(server, script, out, *commands):
    """Runs the script (after the commands, in one MULTI if there are
    any) on a client of its own; its reply or error goes to out."""
    def run():
        c = server.client()
        try:
            if commands:
                p = c.pipeline(transaction=True)
                for command in commands:
                    p.execute_command(*command)
                p.eval(script, 0)
                out.append(p.execute(raise_on_error=False))
            else:
                out.append(c.eval(script, 0))
        except redis.RedisError as e:  # a reply's or the connection's
            out.append(e)
        c.close()

    t = threading.Thread(target=run)
    t.start()
    return t


def test_script_kill_stops_a_script_that_has_not_written(server):
    r = server.client(socket_timeout=30)  # a KILL that waited for the script fails
    with pytest.raises(redis.ResponseError, match="NOTBUSY"):
        r.script_kill()
    r.set("during", "readable")
    assert "Script killed by user with SCRIPT KILL" in kill_when_running(server, r, "while true do end")
    assert r.get("during") == b"readable"  # and the server serves on


def kill_when_running(server, r, script):
    """Runs the script on a client of its own, SCRIPT KILLs it (with client
    r) once it runs, and returns the error it ended with."""
    out = []
    t = run_in_thread(server, script, out)
    while True:  # until the script runs
        try:
            assert r.script_kill()
            break
        except redis.ResponseError as e:
            assert "NOTBUSY" in str(e)
    t.join(60)
    assert not t.is_alive(), "the script survived its kill"
    return str(out[0])


# Scripts that catch the kill: with pcall, with a coroutine, twice a loop.
CATCHING = [
    "while true do pcall(function() while true do end end) end",
    "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
    "while true do pcall(function() while true do end end); pcall(error, 'x') end",
]


@pytest.mark.parametrize("script", CATCHING)
def test_script_kill_stops_a_script_that_catches_the_kill(server, script):
    """Once killed, a script raises the kill again at every instruction:
    no pcall or coroutine gets it further. (Redis's kill, raised again at
    every line, is defeated by the coroutine.)"""
    r = server.client(socket_timeout=30)
    assert "Script killed by user with SCRIPT KILL" in kill_when_running(server, r, script)
    assert r.eval("return 'next'", 0) == b"next"  # the next script is not killed


def test_a_script_that_wrote_cannot_be_killed(server):
    r = server.client(socket_timeout=30)
    r.delete("w")
    out = []
    t = run_in_thread(server, "redis.call('set', 'w', 1) for i = 1, 300000000 do end return 'ran'",
                      out)
    while r.get("w") is None:  # reads go on while a script runs: it has written
        assert t.is_alive(), "the script ended before its write was seen"
    with pytest.raises(redis.ResponseError, match="UNKILLABLE"):
        r.script_kill()
    t.join(120)
    assert out == [b"ran"] and r.get("w") == b"1"


ENDLESS_WRITER = ("redis.call('set', 'w', 1) redis.call('incr', 'kept') "
                  "while true do pcall(function() while true do end end) end")


@pytest.mark.parametrize("in_multi", [False, True])
def test_sigterm_stops_a_script_that_wrote_and_keeps_none_of_its_writes(in_multi):
    """SIGTERM ends quiverd even while an endless script runs, one that has
    written (which SCRIPT KILL refuses) and catches errors: the script is
    stopped, none of its writes reach the disk, and its client gets an
    error or a closed connection, never a success. In a transaction, the
    commands before the script are kept, as its reply says."""
    s = Quiverd("--durability", "sync")
    try:
        r = s.client(socket_timeout=30)
        r.set("kept", 10)
        out = []
        before = [["SET", "in_multi", "yes"]] if in_multi else []
        t = run_in_thread(s, ENDLESS_WRITER, out, *before)
        while r.get("w") is None:  # reads go on: the script has written
            assert t.is_alive(), "the script ended"
        s.restart()  # SIGTERM, and a clean exit (within 60 s)
        t.join(60)
        assert not t.is_alive()
        got = out[0][-1] if isinstance(out[0], list) else out[0]
        assert isinstance(got, redis.ConnectionError) or "shutting down" in str(got), got
        r = s.client()
        assert r.get("w") is None and r.get("kept") == b"10"
        assert r.get("in_multi") == (b"yes" if in_multi else None)
    finally:
        s.stop()


def test_eval_keeps_only_its_last_500_scripts_and_script_load_keeps_its_own(server):
    r = server.client()
    r.script_flush()
    pinned = r.script_load("return 'pinned'")
    first = r.register_script("return 0").sha
    for i in range(520):  # a client writing values into its scripts
        assert r.eval(f"return {i}", 0) == i
    assert r.script_exists(first, pinned) == [False, True]
    assert r.evalsha(pinned, 0) == b"pinned"
    assert r.eval("return 519", 0) == 519  # still cached: EVALSHA finds it
    assert r.evalsha(r.register_script("return 519").sha, 0) == 519
