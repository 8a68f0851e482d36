"""Functions: FUNCTION LOAD, LIST, DELETE, FLUSH, STATS, KILL, DUMP and RESTORE, FCALL and
FCALL_RO answer as redis-server 7 does, byte for byte in RESP2 and RESP3
(the load-time sandbox, flags, errors with the function and line); the
libraries survive a restart."""

import threading

import pytest
import redis

from conftest import Quiverd, assert_same_replies, kill_running_script

LIB = ("#!lua name=mylib\nredis.register_function('myfunc', "
       "function(keys, args) return {keys[1], args[1], #keys, #args} end)")
RO = ("#!lua name=ro\nredis.register_function{function_name='rof', callback=function(keys, args) "
      "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n"
      "redis.register_function{function_name='wf', callback=function(keys, args) "
      "return redis.call('set', keys[1], args[1]) end}")


def lib(name, body):
    return f"#!lua name={name}\n{body}"


COMMANDS = [
    ["FUNCTION", "LOAD", LIB], ["FUNCTION", "LOAD", LIB], ["FCALL", "myfunc", "1", "k", "a"],
    ["FCALL", "nofunc", "0"], ["FCALL_RO", "myfunc", "0"], ["FCALL", "myfunc", "-1"],
    ["FCALL", "myfunc", "5"], ["FCALL", "myfunc", "x"],
    ["FUNCTION", "LOAD", "redis.register_function('f', function() return 1 end)"],
    ["FUNCTION", "LOAD", "#!lua\nredis.register_function('f', function() return 1 end)"],
    ["FUNCTION", "LOAD", "#!nope name=x\nreturn 1"], ["FUNCTION", "LOAD", lib("bad-name", "")],
    ["FUNCTION", "LOAD", "#!lua name=a4 x=1\nreturn 1"], ["FUNCTION", "LOAD", lib("empty", "local x = 1")],
    ["FUNCTION", "LOAD", lib("dup", "redis.register_function('myfunc', function() return 1 end)")],
    ["FUNCTION", "LOAD", lib("syntax", "this is not lua")],
    ["FUNCTION", "LOAD", lib("callatload", "redis.call('ping')")],
    ["FUNCTION", "LOAD", lib("globals", "x = 1")],
    ["FUNCTION", "LOAD", lib("errs", "error('at load')")],
    ["FUNCTION", "LOAD", lib("strs", "local s = string.upper('x')")],
    ["FUNCTION", "LOAD", lib("resp", "redis.setresp(3)")],
    ["FUNCTION", "LOAD", lib("loop", "while true do end")],
    ["FUNCTION", "LOAD", RO], ["FCALL", "wf", "1", "k", "v"], ["FCALL", "rof", "1", "k"],
    ["FCALL_RO", "rof", "1", "k"], ["FCALL_RO", "wf", "1", "k", "v"],
    ["FUNCTION", "LOAD", lib("ro2", "redis.register_function{function_name='rof2', "
                               "callback=function() return redis.call('set', 'x', 1) end, "
                               "flags={'no-writes'}}")],
    ["FCALL", "rof2", "0"],
    ["FUNCTION", "LOAD", lib("badflag", "redis.register_function{function_name='bf', "
                                   "callback=function() end, flags={'nope'}}")],
    ["FUNCTION", "LOAD", lib("badargs", "redis.register_function('only')")],
    ["FUNCTION", "LOAD", lib("badfname", "redis.register_function('bad-f', function() end)")],
    ["FUNCTION", "LOAD", lib("a6", "redis.register_function{function_name='f6', "
                              "callback=function() return 1 end, nope=1}")],
    ["FUNCTION", "LOAD", lib("a7", "redis.register_function('f7', 'notfn')")],
    ["FUNCTION", "LOAD", lib("a8", "redis.register_function('f8', function() return 1 end)\n"
                              "redis.register_function('f8', function() return 1 end)")],
    ["FUNCTION", "LOAD", lib("a9", "redis.register_function{function_name='f9', "
                              "callback=function() return 1 end, flags='no-writes'}")],
    ["FUNCTION", "LOAD", lib("a11", "redis.register_function()")],
    ["FUNCTION", "LOAD", lib("errf", "redis.register_function('errf', function() error('boom') end)")],
    ["FCALL", "errf", "0"],
    ["FUNCTION", "LOAD", lib("callerr", "redis.register_function('callerr', "
                                   "function() return redis.call('incr', 'mylist') end)")],
    ["LPUSH", "mylist", "a"], ["FCALL", "callerr", "0"],
    ["FUNCTION", "LOAD", lib("kg", "redis.register_function('kg', function() return KEYS end)")],
    ["FCALL", "kg", "0"],
    ["FUNCTION", "LOAD", lib("sg", "redis.register_function('sg', function() y = 1 end)")],
    ["FCALL", "sg", "0"],
    # (One function per library listed: Redis lists a library's functions in
    # its hash table's order.)
    ["FUNCTION", "LIST", "LIBRARYNAME", "my*"], ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "ro2"],
    ["FUNCTION", "LIST", "LIBRARYNAME"], ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
    ["FUNCTION", "LIST", "NOPE"], ["FUNCTION", "STATS"], ["FUNCTION", "STATS", "x"],
    ["FUNCTION", "DELETE", "mylib"], ["FUNCTION", "DELETE", "mylib"], ["FUNCTION", "DELETE"],
    ["FCALL", "myfunc", "0"], ["FUNCTION", "KILL"], ["FUNCTION", "FLUSH", "NOPE"],
    ["FUNCTION", "LOAD", "NOPE", "x"], ["FUNCTION", "NOPE"],
    ["FUNCTION", "LOAD", "REPLACE", lib("mylib", "redis.register_function('myfunc', "
                                            "function() return 'v1' end)")],
    ["FUNCTION", "LOAD", "REPLACE", lib("mylib", "redis.register_function('myfunc', "
                                            "function() return 'v2' end)")],
    ["FCALL", "myfunc", "0"], ["FUNCTION", "FLUSH"], ["FUNCTION", "LIST"], ["FCALL", "myfunc", "0"],
    ["FUNCTION", "FLUSH", "ASYNC"],
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_functions_answer_as_redis(server, reference, protocol):
    for client in (server.client(), reference):
        client.function_flush()
    assert_same_replies(server, reference, COMMANDS, protocol)


def test_function_list_lists_every_library(server, reference):
    names = {}
    for client in (server.client(), reference):
        client.function_flush()
        for code in (LIB, RO):
            client.function_load(code)
        listing = client.function_list()
        # Libraries and their functions, each in any order (Redis's is its hash tables').
        names[client] = sorted((entry[1], sorted(map(str, entry[5]))) for entry in listing)
        client.function_flush()
    ours, theirs = names.values()
    assert ours == theirs and [name for name, _ in ours] == [b"mylib", b"ro"]


def test_libraries_survive_a_restart():
    s = Quiverd("--durability", "sync")
    try:
        r = s.client()
        r.function_load(LIB)
        r.function_load(RO)
        r.function_load(LIB.replace("'myfunc'", "'renamed'"), replace=True)
        r.function_delete("ro")
        s.restart(kill=True)
        r = s.client()
        assert [entry[1] for entry in r.function_list()] == [b"mylib"]
        assert r.fcall("renamed", 1, "k", "a") == [b"k", b"a", 1, 1]
        with pytest.raises(redis.ResponseError, match="Function not found"):
            r.fcall("rof", 1, "k")
        r.function_flush()
        s.restart()
        assert s.client().function_list() == []
    finally:
        s.stop()


def test_function_kill_stops_a_function_that_has_not_written(server):
    r = server.client()
    r.function_load(lib("spin", "redis.register_function('spin', function() while true do end end)"),
                    replace=True)
    out = []

    def run():
        c = server.client()
        try:
            out.append(c.fcall("spin", 0))
        except redis.ResponseError as e:
            out.append(e)

    t = threading.Thread(target=run)
    t.start()
    kill_running_script(server.resp_port, "FUNCTION", "KILL")
    t.join(60)
    assert "Script killed by user" in str(out[0]) and "script: spin" in str(out[0])


def test_function_dump_and_restore_answer_as_redis(server, reference):
    reference.function_flush()
    reference.function_load(LIB)
    payload = reference.function_dump()  # one library: the same bytes on both
    reference.function_flush()
    other = lib("other", "redis.register_function('otherf', function() return 2 end)")
    clash = lib("clash", "redis.register_function('myfunc', function() return 3 end)")
    assert_same_replies(server, reference, [
        ["FUNCTION", "FLUSH"], ["FUNCTION", "RESTORE", payload], ["FCALL", "myfunc", "0"],
        ["FUNCTION", "LOAD", other],
        ["FUNCTION", "RESTORE", payload, "REPLACE"], ["FCALL", "otherf", "0"],
        ["FUNCTION", "RESTORE", payload, "FLUSH"], ["FCALL", "otherf", "0"],
        ["FUNCTION", "RESTORE", payload, "BOGUS"], ["FUNCTION", "RESTORE", payload, "FLUSH", "x"],
        ["FUNCTION", "RESTORE", b"garbage"], ["FUNCTION", "RESTORE", payload[:-1] + b"\x00"],
        ["FUNCTION", "RESTORE"], ["FUNCTION", "DUMP", "x"], ["FUNCTION", "FLUSH"],
        ["FUNCTION", "LOAD", clash], ["FUNCTION", "RESTORE", payload, "REPLACE"],
        ["FUNCTION", "LIST"], ["FCALL", "myfunc", "0"],
    ], 2)
    # quiverd's payload (its strings not LZF-compressed, unlike Redis's)
    # restores into redis-server.
    r = server.client()
    r.function_flush()
    r.function_load(LIB)
    r.function_load(other)
    reference.function_flush()
    reference.function_restore(r.function_dump())
    assert reference.fcall("myfunc", 1, "k", "a") == [b"k", b"a", 1, 1]
    assert reference.fcall("otherf", 0) == 2


def test_restore_is_all_or_nothing_and_persists():
    s = Quiverd("--durability", "sync")
    try:
        r = s.client()
        r.function_load(LIB)
        r.function_load(RO)
        payload = r.function_dump()
        r.function_flush()
        r.function_load(lib("ro", "redis.register_function('mine', function() return 1 end)"))
        with pytest.raises(redis.ResponseError, match="already exists"):
            r.function_restore(payload)  # APPEND: 'ro' is taken
        assert [e[1] for e in r.function_list()] == [b"ro"], "nothing of the payload stayed"
        assert r.fcall("mine", 0) == 1
        r.function_restore(payload, "REPLACE")
        s.restart(kill=True)
        r = s.client()
        assert sorted(e[1] for e in r.function_list()) == [b"mylib", b"ro"]
        assert r.fcall("myfunc", 1, "k", "a") == [b"k", b"a", 1, 1]
        with pytest.raises(redis.ResponseError, match="Function not found"):
            r.fcall("mine", 0)
    finally:
        s.stop()
