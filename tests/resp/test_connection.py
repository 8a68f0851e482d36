"""Connection, server and transaction commands, through redis-py and
redis-cli, as clients send them on connect."""

import os
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
import redis

from conftest import Quiverd


def test_ping_echo_time(r, server):
    assert r.ping() is True
    assert r.echo(b"\x00hi") == b"\x00hi"
    assert server.cli("PING", "a msg") == "a msg\n"
    seconds, micros = r.time()
    assert seconds > 1_700_000_000 and 0 <= micros < 1_000_000


def test_unknown_command_and_arity_texts(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("NOSUCH", "a", "b")
    assert str(e.value) == "unknown command 'NOSUCH', with args beginning with: 'a' 'b' "
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("GET")
    assert str(e.value) == "wrong number of arguments for 'get' command"


def test_cli_inline_and_errors(server):
    assert server.cli("PING") == "PONG\n"
    assert server.cli("SET", "cli key", "a b") == "OK\n"
    assert server.cli("GET", "cli key") == "a b\n"
    assert "ERR unknown command 'foo'" in server.cli("foo")
    # What telnet sends: inline commands, quoted.
    with socket.create_connection(("127.0.0.1", server.resp_port)) as s:
        s.sendall(b'SET "inline key" \'it\\\'s\'\r\nGET "inline key"\r\nPING\n\r\n')
        want = b"+OK\r\n$4\r\nit's\r\n+PONG\r\n"
        got = b""
        while len(got) < len(want):
            got += s.recv(1024)
        assert got == want


def test_protocol_error_closes_only_that_connection(server):
    with socket.create_connection(("127.0.0.1", server.resp_port)) as s:
        s.sendall(b"*1\r\n%3\r\nfoo\r\n")
        reply = s.recv(1024)
        assert reply == b"-ERR Protocol error: expected '$', got '%'\r\n"
        assert s.recv(1024) == b"", "the server closes the connection"
    with socket.create_connection(("127.0.0.1", server.resp_port)) as s:
        s.sendall(b"*-10\r\n*1\r\n$4\r\nPING\r\n*999999999999\r\n")
        assert s.recv(1024).startswith(b"+PONG\r\n")
    assert server.client().ping()


def test_large_pipeline(r):
    with r.pipeline(transaction=False) as p:
        for i in range(100_000):
            p.set(f"k{i}", i)
        assert all(p.execute())
    with r.pipeline(transaction=False) as p:
        for i in range(0, 100_000, 7):
            p.get(f"k{i}")
        assert p.execute() == [str(i).encode() for i in range(0, 100_000, 7)]
    assert r.dbsize() == 100_000


def test_multi_exec_discard(r, server):
    with r.pipeline(transaction=True) as p:
        p.set("a", 1).incr("a").get("a")
        assert p.execute() == [True, 2, b"2"]
    out = server.cli(stdin=b"MULTI\nSET x 1\nINCR x\nDISCARD\nEXISTS x\n")
    assert out == "OK\nQUEUED\nQUEUED\nOK\n0\n"
    out = server.cli(stdin=b"MULTI\nSET x 1\nINCR x\nEXEC\n")
    assert out == "OK\nQUEUED\nQUEUED\nOK\n2\n"
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        r.execute_command("EXEC")
    with pytest.raises(redis.ResponseError, match="DISCARD without MULTI"):
        r.execute_command("DISCARD")


def test_exec_abort_after_queueing_error(server, r):
    c = server.client(single_connection_client=True)
    c.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        c.execute_command("SET", "x")
    with pytest.raises(redis.ResponseError, match="MULTI calls can not be nested"):
        c.execute_command("MULTI")
    c.execute_command("SET", "y", "1")
    with pytest.raises(redis.exceptions.ExecAbortError):
        c.execute_command("EXEC")
    assert r.exists("y") == 0
    c.close()


def test_exec_runtime_error_runs_the_rest(r):
    r.set("s", "abc")
    with r.pipeline(transaction=True) as p:
        p.incr("s").set("t", "1")
        result = p.execute(raise_on_error=False)
    assert isinstance(result[0], redis.ResponseError) and result[1] is True
    assert r.get("t") == b"1"


def test_watch(server, r):
    r.set("w", "1")
    with r.pipeline() as p:
        p.watch("w")
        server.client().set("w", "2")
        p.multi()
        p.set("w", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("w") == b"2"
    with r.pipeline() as p:
        p.watch("w", "absent")
        p.multi()
        p.set("w", "4")
        assert p.execute() == [True]
    with r.pipeline() as p:
        p.watch("w")
        server.client().expire("w", 100)  # a new TTL is a change, as in Redis
        p.multi()
        p.set("w", "5")
        with pytest.raises(redis.WatchError):
            p.execute()
    with r.pipeline() as p:
        p.watch("ghost")  # absent, then created and deleted again: a change
        other = server.client()
        other.set("ghost", "boo")
        other.delete("ghost")
        p.multi()
        p.set("w", "6")
        with pytest.raises(redis.WatchError):
            p.execute()
    with r.pipeline() as p:
        p.watch("w")
        server.client().flushdb()
        p.multi()
        p.set("w", "5")
        with pytest.raises(redis.WatchError):
            p.execute()
    c = server.client(single_connection_client=True)
    c.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="WATCH inside MULTI is not allowed"):
        c.execute_command("WATCH", "w")
    c.close()


def test_resp3_hello(server):
    out = server.cli("-3", "HELLO", "3")
    assert "proto" in out and "3" in out and "7.2.0" in out
    s = socket.create_connection(("127.0.0.1", server.resp_port))
    s.sendall(b"HELLO 3\r\nGET nothing\r\nCONFIG GET databases\r\nHELLO 4\r\n")
    data = b""
    while b"NOPROTO" not in data:
        data += s.recv(4096)
    assert data.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
    assert b"_\r\n%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n-NOPROTO unsupported protocol version\r\n" \
        in data
    s.close()


def test_client_commands(server):
    c = server.client(single_connection_client=True)
    cid = c.client_id()
    assert c.client_setname("worker-1") is True
    assert c.client_getname() == "worker-1" or c.client_getname() == b"worker-1"
    c.execute_command("CLIENT", "SETINFO", "LIB-NAME", "redis-py")
    listing = c.client_list()
    mine = [x for x in listing if int(x["id"]) == cid][0]
    assert mine["name"] == "worker-1" and mine["lib-name"] == "redis-py"
    assert "id=%d" % cid in c.execute_command("CLIENT", "INFO").decode()
    assert c.execute_command("CLIENT", "NO-EVICT", "on") == b"OK"
    with pytest.raises(redis.ResponseError, match="Client names cannot contain spaces"):
        c.client_setname("a b")
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'BOGUS'. Try CLIENT HELP."):
        c.execute_command("CLIENT", "BOGUS")
    c.close()


def test_info_config_command(r, server):
    info = r.info()
    for field in ("redis_version", "tcp_port", "uptime_in_seconds", "connected_clients",
                  "used_memory", "maxmemory", "loading", "total_commands_processed",
                  "keyspace_hits", "role"):
        assert field in info, field
    assert info["loading"] == 0 and info["role"] == "master"
    assert set(r.info("memory")) >= {"used_memory", "used_memory_human", "maxmemory_policy"}
    # The allocator the binary is linked with (release: jemalloc; sanitizers: libc).
    linked = subprocess.run(["ldd", os.environ["QUIVERD"]], capture_output=True, text=True).stdout
    allocator = r.info("memory")["mem_allocator"]
    if "libjemalloc" in linked:
        assert allocator.startswith("jemalloc-5."), allocator
    else:
        assert allocator == "libc", allocator
    assert r.config_get("databases") == {"databases": "16"}
    assert r.config_get("maxmemory")["maxmemory"] == "0"
    assert r.config_set("save", "") is True
    assert r.config_set("appendonly", "yes") is True
    assert r.config_get("appendonly") == {"appendonly": "yes"}
    assert r.config_set("hash-max-listpack-entries", "256") is True
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments"):
        r.config_set("no-such-thing", "1")
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("databases", "32")
    assert r.command_count() == len(r.command_list())
    info = r.execute_command("COMMAND", "INFO", "get")
    assert info["get"]["arity"] == 2 and info["get"]["first_key_pos"] == 1
    assert server.cli("COMMAND", "INFO", "nosuch") == "\n"
    docs = server.cli("COMMAND", "DOCS", "set").split("\n")
    assert docs[:3] == ["set", "summary", "Sets the string value of a key, with options."]


def test_config_resetstat_starts_the_stats_again(r, server):
    r.set("rs", "1")
    for _ in range(5):
        r.get("rs")
    r.get("rs-missing")
    before = r.info("stats")
    assert before["total_commands_processed"] >= 7
    assert before["keyspace_hits"] >= 5 and before["keyspace_misses"] >= 1
    assert r.info("commandstats")["cmdstat_get"]["calls"] >= 6
    assert r.config_resetstat() is True
    after = r.info("stats")
    # Only what came since: this INFO (and, counted at once, the RESETSTAT).
    assert after["total_commands_processed"] <= 2
    assert after["keyspace_hits"] == 0 and after["keyspace_misses"] == 0
    assert "cmdstat_get" not in r.info("commandstats")
    assert "latency_percentiles_usec_get" not in r.info("latencystats")
    r.get("rs")
    assert r.info("commandstats")["cmdstat_get"]["calls"] == 1
    assert r.info("stats")["keyspace_hits"] == 1
    # The Prometheus counters are not taken back.
    metrics = urllib.request.urlopen(
        "http://127.0.0.1:%d/metrics" % server.http_port).read().decode()
    gets = [l for l in metrics.splitlines()
            if l.startswith("quiver_requests_total") and 'kind="get"' in l and 'resp' in l]
    assert gets and float(gets[0].split()[-1]) >= 7


def poll(check, seconds=10.0, every=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


def test_instantaneous_ops_per_sec_follows_the_load(server):
    c = redis.Redis(port=server.resp_port)
    stop = threading.Event()

    def load():
        w = redis.Redis(port=server.resp_port)
        while not stop.is_set():
            p = w.pipeline(transaction=False)
            for _ in range(50):
                p.incr("ops")
            p.execute()

    worker = threading.Thread(target=load)
    worker.start()
    try:
        assert poll(lambda: c.info("stats")["instantaneous_ops_per_sec"] > 100)
    finally:
        stop.set()
        worker.join()
    # Once the load has left the window of samples, only this poll's own
    # INFO (two a second) is counted.
    assert poll(lambda: c.info("stats")["instantaneous_ops_per_sec"] <= 10, every=0.5)


def test_maxmemory_refuses_writes_reads_go_on(r):
    r.set("keep", "v")
    assert r.config_set("maxmemory", "1") is True
    with pytest.raises(redis.ResponseError, match="OOM command not allowed when used memory"):
        r.set("x", "y")
    assert r.get("keep") == b"v"
    # Inside MULTI nothing is queued over the limit, and EXEC aborts.
    assert r.execute_command("MULTI") in (True, b"OK")
    with pytest.raises(redis.ResponseError, match="^OOM command not allowed"):
        r.execute_command("GET", "keep")
    with pytest.raises(redis.ResponseError, match="^Transaction discarded because of previous errors"):
        r.execute_command("EXEC")
    assert r.config_set("maxmemory", "0") is True
    assert r.set("x", "y") is True


def test_requirepass():
    s = Quiverd("--requirepass", "s3cret")
    try:
        c = s.client()
        with pytest.raises(redis.AuthenticationError):
            c.get("a")
        with pytest.raises(redis.ResponseError, match="WRONGPASS invalid username-password pair"):
            s.client(password="wrong").ping()
        ok = s.client(password="s3cret")
        assert ok.set("a", "1") is True
        assert s.client(username="default", password="s3cret").get("a") == b"1"
        out = s.cli("--no-auth-warning", "-a", "s3cret", "GET", "a")
        assert out == "1\n"
        assert "NOAUTH" in s.cli("GET", "a")
        assert "NOAUTH HELLO must be called" in s.cli("HELLO", "3")
        assert "proto" in s.cli("HELLO", "3", "AUTH", "default", "s3cret")
    finally:
        s.stop()


def test_auth_without_password(r):
    with pytest.raises(redis.ResponseError, match="called without any password configured"):
        r.execute_command("AUTH", "x")
