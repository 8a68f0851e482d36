"""Cluster figures beside Redis (bench/cluster_failover.sh runs it):
catch-up of a new member from the changelog and from a peer's checkpoint,
how long clients wait when their member is killed (the Python client with
the members' list, and redis-py through Sentinel discovery), and the
latency of one client's acknowledged write: through the changelog, and on
Redis with one replica and WAIT 1 0 after each write.

Env: QUIVERD, QUIVER_KAFKA_MOCK, PYTHONPATH (the build's python dir);
WRITES (default 200000): SETs before the catch-up measurements."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
import quiver  # noqa: E402
import redis  # noqa: E402
import redis.sentinel  # noqa: E402
from kafka_mock import KafkaMock  # noqa: E402
from quiverd import Quiverd, wait_for  # noqa: E402

TOPIC = "quiver-changelog"
WRITES = int(os.environ.get("WRITES", "200000"))


def member(kafka, replica_id, data_dir=None):
    # The mock broker holds a fetch for all of fetch.wait.max.ms even when
    # data arrives; 1 ms stands for a real broker's prompt answer.
    return Quiverd("--kafka-brokers", kafka.bootstrap, "--cluster-topic", TOPIC,
                   "--replica-id", replica_id, "--kafka-config", "fetch.wait.max.ms=1",
                   data_dir=data_dir)


def info(m):
    return m.client().info("replication")


def caught_up(m):
    return info(m)["cluster_caught_up"] == 1


def log_records(m):
    return sum(int(v["applied"]) for k, v in info(m).items()
               if k.startswith("cluster_partition") and isinstance(v, dict))


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def catch_up(kafka, name, data_dir=None):
    """Starts a member; returns (seconds until caught up, records it applied)."""
    start = time.monotonic()
    m = member(kafka, name, data_dir)
    wait_for(lambda: caught_up(m), f"{name} did not catch up", 600)
    took = time.monotonic() - start
    applied = info(m)["cluster_records_applied"]
    return m, took, applied


def timed_writes(write, seconds, kill_at, kill):
    """Writes back to back for `seconds`, killing a member at `kill_at`;
    returns (latencies, errors, seconds from the kill to the first write
    that succeeded after it)."""
    latencies, errors, recovered = [], 0, None
    start = time.monotonic()
    killed = None
    n = 0
    while time.monotonic() - start < seconds:
        if killed is None and time.monotonic() - start >= kill_at:
            kill()
            killed = time.monotonic()
        t = time.monotonic()
        try:
            write(n)
            latencies.append(time.monotonic() - t)
            if killed is not None and recovered is None:
                recovered = time.monotonic() - killed
        except (quiver.QuiverError, redis.RedisError):
            errors += 1
        n += 1
    return latencies, errors, recovered


def report_failover(what, latencies, errors, recovered):
    print(f"{what}: {len(latencies)} writes, {errors} errors; first write after the kill "
          f"answered {recovered * 1000:.0f} ms after it; write latency p50 "
          f"{percentile(latencies, 0.5) * 1000:.2f} ms, p99 {percentile(latencies, 0.99) * 1000:.2f}"
          f" ms, max {max(latencies) * 1000:.0f} ms")


def kill(m):
    m.proc.kill()
    m.proc.wait(60)


def one_client_latency(write, n=2000):
    latencies = []
    for i in range(n):
        t = time.monotonic()
        write(i)
        latencies.append(time.monotonic() - t)
    return (percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000)


def redis_wait_latency(work):
    ports = (6395, 6396)
    for port, extra in ((ports[0], []), (ports[1], ["--replicaof", "127.0.0.1", str(ports[0])])):
        d = os.path.join(work, f"redis{port}")
        os.makedirs(d)
        subprocess.run(["redis-server", "--port", str(port), "--dir", d, "--save", "",
                        "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "yes",
                        "--logfile", os.path.join(d, "log"), *extra], check=True)
    try:
        replica = redis.Redis(port=ports[1])

        def linked():
            try:
                return replica.info("replication").get("master_link_status") == "up"
            except redis.ConnectionError:  # not listening yet
                return False

        wait_for(linked, "the Redis replica did not connect", 60)
        r = redis.Redis(port=ports[0])

        def set_and_wait(i):
            r.set(f"k{i}", "v")
            assert r.wait(1, 0) == 1

        return one_client_latency(lambda i: r.set(f"k{i}", "v")), one_client_latency(set_and_wait)
    finally:
        for port in ports:
            subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                           capture_output=True, check=False)


def main():
    work = tempfile.mkdtemp(prefix="quiver-failover-")
    kafka = KafkaMock(brokers=3, topics=[(TOPIC, 16)])
    members = [member(kafka, f"m{i}") for i in range(3)]
    try:
        a, b, c = members
        with quiver.Client("127.0.0.1", a.port) as q:
            q.apply(os.path.join(HERE, "..", "examples", "features.yaml"))
        subprocess.run(["redis-benchmark", "-p", str(a.resp_port), "-c", "50", "-n",
                        str(WRITES), "-r", "1000000", "-t", "set", "-q"], check=True,
                       capture_output=True)
        wait_for(lambda: all(info(m)["cluster_lag"] == 0 for m in members),
                 "the members did not apply the load", 600)
        records = log_records(a)
        print(f"changelog: {records} records ({WRITES} SETs through member 1, and ticks)")

        d, took, applied = catch_up(kafka, "from-log")
        members.append(d)
        print(f"catch-up of a new, empty member from the changelog: {took:.1f} s, "
              f"{applied} records, {applied / took:,.0f} records/s (start-up included)")
        ckpt = os.path.join(work, "checkpoint")
        start = time.monotonic()
        with quiver.Client("127.0.0.1", b.port) as q:
            q.checkpoint(ckpt)
        written = time.monotonic() - start
        e, took, applied = catch_up(kafka, "from-checkpoint", ckpt)
        members.append(e)
        print(f"a new member from a checkpoint of member 2 (written in {written:.2f} s): caught "
              f"up in {took:.1f} s, applying {applied} records of the log's {log_records(e)} "
              f"({records / took:,.0f} log records/s)")

        servers = [f"127.0.0.1:{m.port}" for m in (a, b, c)]
        q = quiver.Client(servers=servers)
        report_failover("Python client with the members' list, member 1 killed at 2 s",
                        *timed_writes(lambda n: q.put("user_profile", [
                            {"user_id": f"f{n}", "watch_count_7d": n}]), 5, 2, lambda: kill(a)))
        sentinel = redis.sentinel.Sentinel([("127.0.0.1", m.resp_port) for m in (b, c)],
                                           socket_timeout=5)
        master = sentinel.master_for(TOPIC, socket_timeout=5)
        report_failover("redis-py through Sentinel discovery, member 2 killed at 2 s",
                        *timed_writes(lambda n: master.set(f"s{n}", n), 5, 2, lambda: kill(b)))

        with quiver.Client("127.0.0.1", c.port) as one:
            p50, p99 = one_client_latency(lambda i: one.put("user_profile", [
                {"user_id": f"l{i}", "watch_count_7d": i}]))
        print(f"one client, Put through the changelog (acknowledged: in the log and applied): "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        r = c.client()
        p50, p99 = one_client_latency(lambda i: r.set(f"l{i}", i))
        print(f"one client, SET through the changelog: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        (s50, s99), (w50, w99) = redis_wait_latency(work)
        print(f"one client, Redis --appendfsync always with a replica: SET p50 {s50:.2f} ms, "
              f"p99 {s99:.2f} ms; SET then WAIT 1 0: p50 {w50:.2f} ms, p99 {w99:.2f} ms")
    finally:
        for m in members:
            if m.proc.poll() is None:
                m.proc.terminate()
                m.proc.wait(60)
        kafka.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
