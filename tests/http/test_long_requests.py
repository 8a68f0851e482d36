"""Requests that may run long run on threads of their own (issue 25): with
a single I/O thread, other clients are served while KEYS over many keys or
a Get of many entities is under way. `quiver_long_requests` in /metrics
counts those running or queued; each test waits until it sees one running
while its own requests are answered by that one I/O thread."""

import threading

import quiver

from conftest import DEFINITIONS, Http
from quiverd import Quiverd, wait_for


def long_requests(http):
    status, _, text = http.request("/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith("quiver_long_requests "):
            return float(line.split()[1])
    raise AssertionError("no quiver_long_requests in /metrics")


def run_beside(http, work, cap):
    """Runs work() on a thread until /metrics was answered while one of its
    runs was on the pool (at most `cap` runs); returns what the last gave."""
    out = {}
    seen = threading.Event()

    def loop():
        for _ in range(cap):
            out["result"] = work()
            if seen.is_set():
                return

    def running():
        if long_requests(http) >= 1:
            seen.set()
        return seen.is_set() or not t.is_alive()

    t = threading.Thread(target=loop)
    t.start()
    try:
        wait_for(running, "no long request seen", timeout=300)
    finally:
        t.join(600)
    assert seen.is_set(), "%d long requests ended before /metrics saw one running" % cap
    # A pool thread counts its request until the function it ran returns,
    # which may be just after the answer went out.
    wait_for(lambda: long_requests(http) == 0, "the long requests did not end")
    return out["result"]


def test_keys_runs_while_the_only_io_thread_serves_others():
    server = Quiverd("--threads", "1")
    try:
        r = server.client()
        for start in range(0, 200_000, 10_000):
            r.mset({"key:%d" % i: "v" for i in range(start, start + 10_000)})
        keys = server.client()
        http = Http(server.http_port)
        # A pipeline of KEYS: each runs on the pool, one after the other.
        def keys_pipeline():
            pipe = keys.pipeline(transaction=False)
            for _ in range(10):
                pipe.keys("key:*")
            return pipe.execute()
        replies = run_beside(http, keys_pipeline, 50)
        assert [len(k) for k in replies] == [200_000] * 10
        assert r.ping() and r.get("key:7") == b"v"
        # A large EXEC goes there too, and stays atomic.
        pipe = r.pipeline(transaction=True)
        for i in range(2000):
            pipe.incr("counter")
        assert pipe.execute()[-1] == 2000
    finally:
        server.stop()


def test_a_large_get_runs_while_the_only_io_thread_serves_others():
    server = Quiverd.with_definitions(DEFINITIONS, "--threads", "1")
    try:
        q = quiver.Client(port=server.port)
        users = ["u%d" % i for i in range(100_000)]
        q.put("profile", [{"user_id": u, "visits": i} for i, u in enumerate(users)])
        http = Http(server.http_port)
        got = run_beside(http, lambda: q.get_online_features("profile:visits", users), 100)
        assert list(got["profile:visits"][:3]) == [0, 1, 2]
        assert got["profile:visits"][-1] == 99_999
    finally:
        server.stop()
