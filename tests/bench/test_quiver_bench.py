"""quiver-bench against a real quiverd and a real redis-server: every
workload runs on both without an error, and each row says what a request
cost the server (from /proc/PID/stat) and the generator. quiver-net-floor
answers it over epoll and over io_uring."""

import os
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from quiverd import Quiverd, wait_for  # noqa: E402
from redis_server import RedisServer, free_port  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BENCH = os.environ.get("QUIVER_BENCH", os.path.join(ROOT, "build/release/bench/quiver-bench"))
NET_FLOOR = os.path.join(os.path.dirname(BENCH), "quiver-net-floor")
COLUMNS = ["load", "target", "conns", "pipe", "req/s", "p50(us)", "p90(us)", "p99(us)",
           "p999(us)", "max(us)", "errors", "srv(ns/r)", "gen(ns/r)"]


def run_bench(quiverd, redis_server, *flags, quiver_pid=None):
    pid = quiverd.proc.pid if quiver_pid is None else quiver_pid
    done = subprocess.run(
        [BENCH, "--quiver", "127.0.0.1:%d" % quiverd.port, "--redis",
         "127.0.0.1:%d" % redis_server.port, "--quiver-pid", str(pid),
         "--definitions", os.path.join(ROOT, "examples/features.yaml"), *flags],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def table(text):
    """The rows of quiver-bench's report, by (workload, target)."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == COLUMNS)
    rows = {}
    for line in lines[header + 1:]:
        words = line.split()
        if words[1] in ("quiver", "redis"):
            rows[(words[0], words[1])] = dict(zip(COLUMNS, words))
            rows[(words[0], words[1])]["flags"] = words[len(COLUMNS):]
    return rows, [line for line in lines if " ratio " in line]


def test_every_workload_reports_its_cost_per_request_on_both_servers():
    quiverd, redis_server = Quiverd(), RedisServer()
    try:
        out = run_bench(quiverd, redis_server, "--load", "--scale", "0.0005", "--workloads",
                        "user,rank,put", "--duration", "1", "--warmup", "0.2", "-c", "4")
    finally:
        quiverd.stop()
        redis_server.stop()
    rows, ratios = table(out)
    assert sorted(rows) == [(w, t) for w in ("put", "rank", "user") for t in ("quiver", "redis")]
    for (workload, target), row in rows.items():
        what = "%s on %s: %s" % (workload, target, row)
        rps = float(row["req/s"])
        assert rps > 0 and row["errors"] == "0", what
        server_ns, generator_ns = int(row["srv(ns/r)"]), int(row["gen(ns/r)"])
        # Neither can have used more CPU than it had: the server all of this
        # machine's cores, the generator its one thread.
        assert 0 < server_ns * rps <= os.cpu_count() * 1e9 * 1.05, what
        assert 0 < generator_ns * rps <= 1e9 * 1.05, what
        assert set(row["flags"]) <= {"GENERATOR-BOUND"}, what
    assert len(ratios) == 3
    assert all("server CPU per request x" in line for line in ratios), ratios


def test_without_a_pid_the_servers_cost_is_not_guessed():
    quiverd, redis_server = Quiverd(), RedisServer()
    try:
        run_bench(quiverd, redis_server, "--load-only", "--scale", "0.0002")
        out = run_bench(quiverd, redis_server, "--target", "quiver", "--workloads", "user",
                        "--duration", "0.5", "--warmup", "0.1", "-c", "2", quiver_pid=0)
    finally:
        quiverd.stop()
        redis_server.stop()
    rows, _ = table(out)
    assert rows[("user", "quiver")]["srv(ns/r)"] == "-"
    assert int(rows[("user", "quiver")]["gen(ns/r)"]) > 0


def io_uring_disabled():
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            return f.read().strip() != "0"
    except OSError:
        return False


@pytest.mark.parametrize("mode", ["epoll", "uring"])
def test_the_network_floor_answers_every_request(mode):
    if mode == "uring" and io_uring_disabled():
        pytest.skip("this kernel has io_uring disabled (kernel.io_uring_disabled)")
    port = free_port()
    floor = subprocess.Popen([NET_FLOOR, "--mode", mode, "--port", str(port)])

    def listening():
        assert floor.poll() is None, "quiver-net-floor exited"
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return True
        except OSError:
            return False
    try:
        wait_for(listening, "quiver-net-floor did not listen")
        done = subprocess.run(
            [BENCH, "--redis", "127.0.0.1:%d" % port, "--redis-pid", str(floor.pid), "--target",
             "redis", "--workloads", "user", "--scale", "0.0005", "--duration", "1", "--warmup",
             "0.2", "-c", "8"], capture_output=True, text=True, timeout=120, check=False)
    finally:
        floor.kill()
        floor.wait(30)
    assert done.returncode == 0, done.stdout + done.stderr
    rows, _ = table(done.stdout)
    row = rows[("user", "redis")]
    assert float(row["req/s"]) > 0 and row["errors"] == "0", row
    assert int(row["srv(ns/r)"]) > 0, row
