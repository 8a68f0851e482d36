"""The soak of issue 25, run by bench/soak.sh: a real quiverd under 1,000
connections of mixed native, RESP and HTTP traffic for MINUTES minutes,
with misbehaving clients alongside, reporting per minute quiverd's RSS,
each front end's request rate and p99, and errors by kind; at the end,
after a restart, whether every acknowledged write is present.

Traffic (connections): native, quiver-bench `user` then `put` (NATIVE);
RESP, quiver-bench's Redis layout `user` (MGET of 203 keys) then `put`
(RESP); HTTP, keep-alive GETs of one user's row from Python threads
(HTTP); 20 RESP writers whose every acknowledged SET is checked at the end.

Misbehaving clients, all along: 100 half-open connections (connected,
silent); 50 that send half a request and stop; 10 RESP clients that
pipeline reads of a 1 MB value and never read (disconnected past the
output buffer limit, then back); every second 8 requests announcing 512 MB
(RESP and native) that send 64 KB and hang up; every 5 seconds a flood of
400 connections past maxclients."""

import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import http.client

import redis

MAXCLIENTS = 1300


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}

    def add(self, name, n=1):
        with self.lock:
            self.values[name] = self.values.get(name, 0) + n

    def take(self):
        with self.lock:
            out, self.values = self.values, {}
        return out


class Server:
    def __init__(self, build, work):
        self.build, self.work = build, work
        self.proc = None

    def start(self):
        port_file = os.path.join(self.work, "ports")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(self.work, "quiverd.log"), "a")
        self.proc = subprocess.Popen(
            [os.path.join(self.build, "server/quiverd"), "--port", "0", "--resp-port", "0",
             "--http-port", "0", "--port-file", port_file, "--data-dir",
             os.path.join(self.work, "data"), "--durability", "async", "--log-level", "warn",
             "--maxclients", str(MAXCLIENTS),
             "--client-output-buffer-limit", "normal 16mb 4mb 5"],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 120
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            assert self.proc.poll() is None, "quiverd exited"
            assert time.monotonic() < deadline, "quiverd did not start"
            time.sleep(0.05)
        with open(port_file) as f:
            self.native, self.resp, self.http = (int(x) for x in f.read().split())

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(120)

    def rss_mb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0


def bench(build, args):
    return subprocess.Popen([os.path.join(build, "bench/quiver-bench"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def summary(proc):
    """quiver-bench's result lines: {workload: (req/s, p99 us, errors)}."""
    out = {}
    text, _ = proc.communicate()
    for line in text.splitlines():
        f = line.split()
        if len(f) == 11 and f[0] in ("user", "put", "rank") and f[4].replace(".", "").isdigit():
            out[f[0]] = (float(f[4]), float(f[7]), int(f[10]))
        elif "FAILED" in line:
            out["failed"] = line.strip()
    return out


def http_client(port, users, stop, lat, counters):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random()
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            conn.request("GET", "/v1/features/user_profile/u%d" % rng.randrange(users))
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200:
                counters.add("http_%d" % reply.status)
            lat.append(time.monotonic() - t0)
        except (OSError, http.client.HTTPException) as e:
            counters.add("http_" + type(e).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


SLOTS = 5000  # keys per writer: the data set stays the same size


def acked_writer(port, n, stop, acked, counters):
    """SETs soak:<n>:<seq % SLOTS> to seq, one at a time; acked[n] is the
    last seq acknowledged."""
    r = redis.Redis(port=port, socket_timeout=30)
    seq = 0
    while not stop.is_set():
        try:
            r.set("soak:%d:%d" % (n, seq % SLOTS), seq)
            acked[n] = seq
            seq += 1
        except redis.RedisError as e:
            counters.add("writer_" + type(e).__name__)
            time.sleep(0.1)


def half_open(server, stop, counters):
    socks = []
    for i in range(150):
        port = (server.resp, server.native, server.http)[i % 3]
        try:
            s = socket.create_connection(("127.0.0.1", port))
            if i >= 100:  # half a request, then silence
                s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
            socks.append(s)
        except OSError:
            counters.add("half_open_refused")
    stop.wait()
    for s in socks:
        s.close()


def never_reads(server, stop, counters):
    request = b"*2\r\n$3\r\nGET\r\n$9\r\nsoak:big1\r\n" * 1000
    while not stop.is_set():
        s = socket.create_connection(("127.0.0.1", server.resp))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(1)
        try:
            while not stop.is_set():
                s.sendall(request)
        except (socket.timeout, OSError):
            pass  # the server stopped reading (backpressure) or closed us
        # Closed past the output buffer limit: a read sees EOF after the data.
        try:
            s.settimeout(10)
            while s.recv(1 << 20):
                pass
            counters.add("never_read_disconnected")
        except OSError:
            counters.add("never_read_other")
        s.close()


def huge_lengths(server, stop, counters):
    resp = b"*1\r\n$536870912\r\n" + b"x" * 65536
    native = struct.pack("<I", 0x7FFFFFF0) + b"x" * 65536
    while not stop.wait(1):
        socks = []
        for i in range(8):
            try:
                s = socket.create_connection(("127.0.0.1", server.resp if i % 2 else server.native))
                s.sendall(resp if i % 2 else native)
                socks.append(s)
            except OSError:
                counters.add("huge_refused")
        stop.wait(1)
        for s in socks:
            s.close()
        counters.add("huge_sent", len(socks))


def flood(server, stop, counters):
    while not stop.wait(5):
        socks = []
        for i in range(400):
            try:
                socks.append(socket.create_connection(("127.0.0.1", server.resp), timeout=5))
            except OSError:
                counters.add("flood_connect_failed")
        stop.wait(0.5)  # the refused ones have their answer by now
        refused = 0
        for s in socks:
            try:
                s.setblocking(False)
                if s.recv(100).startswith(b"-ERR max number of clients reached"):
                    refused += 1
            except OSError:
                pass
            s.close()
        counters.add("flood_refused_by_maxclients", refused)
        counters.add("flood_connections", len(socks))


def p99(values):
    if not values:
        return 0
    values = sorted(values)
    return values[int(len(values) * 0.99)] * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--work", required=True)
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--native", type=int, default=400)
    ap.add_argument("--resp", type=int, default=400)
    ap.add_argument("--http", type=int, default=200)
    a = ap.parse_args()

    server = Server(a.build, a.work)
    server.start()
    addr = ["--quiver", "127.0.0.1:%d" % server.native, "--redis", "127.0.0.1:%d" % server.resp,
            "--scale", str(a.scale)]
    loaded = bench(a.build, [*addr, "--target", "both", "--load-only"])
    assert "FAILED" not in loaded.communicate()[0]
    redis.Redis(port=server.resp).set("soak:big1", b"x" * (1 << 20))
    users = max(1, int(2_000_000 * a.scale))
    print("quiverd loaded (scale %s): RSS %.0f MB; %d native + %d RESP + %d HTTP connections, "
          "maxclients %d" % (a.scale, server.rss_mb(), a.native, a.resp, a.http, MAXCLIENTS))
    sys.stdout.flush()

    stop = threading.Event()
    counters = Counters()
    acked = {}
    http_lat = []
    threads = [threading.Thread(target=http_client, args=(server.http, users, stop, http_lat,
                                                          counters)) for _ in range(a.http)]
    threads += [threading.Thread(target=acked_writer, args=(server.resp, n, stop, acked, counters))
                for n in range(20)]
    threads += [threading.Thread(target=f, args=(server, stop, counters))
                for f in (half_open, never_reads, huge_lengths, flood)]
    for t in threads:
        t.start()
    print("min  RSS_MB  used_MB (rows/history/clients)  native_user/s p99us  native_put/s p99us  "
          "resp_user/s p99us  resp_put/s p99us  http/s p99us  errors")
    info = redis.Redis(port=server.resp)
    half = "%.0f" % 27
    for minute in range(1, a.minutes + 1):
        http_lat.clear()
        started = time.monotonic()
        native = bench(a.build, [*addr, "--target", "quiver", "--workloads", "user,put", "-c",
                                 str(a.native), "--duration", half, "--warmup", "0"])
        resp = bench(a.build, [*addr, "--target", "redis", "--workloads", "user,put", "-c",
                               str(a.resp), "--duration", half, "--warmup", "0"])
        n, r = summary(native), summary(resp)
        elapsed = time.monotonic() - started
        lat = list(http_lat)
        errors = counters.take()
        for name, s in (("native", n), ("resp", r)):
            for w in ("user", "put"):
                if w in s and s[w][2]:
                    errors["%s_%s_errors" % (name, w)] = s[w][2]
            if "failed" in s:
                errors[name + "_failed"] = s["failed"]

        def col(s, w):
            return "%9.0f %6.0f" % s[w][:2] if w in s else "%16s" % "-"
        m = info.info("memory")
        mb = [m[k] / 1048576 for k in ("used_memory", "quiver_memory_rows",
                                       "quiver_memory_history", "quiver_memory_clients")]
        print("%3d  %6.0f  %4.0f (%3.0f/%3.0f/%3.0f)  %s  %s  %s  %s  %7.0f %6.0f  %s" % (
            minute, server.rss_mb(), *mb, col(n, "user"), col(n, "put"), col(r, "user"),
            col(r, "put"), len(lat) / elapsed, p99(lat), errors or "-"))
        sys.stdout.flush()
    stop.set()
    for t in threads:
        t.join(60)

    info = redis.Redis(port=server.resp).info()
    print("INFO: rejected_connections %d, connected_clients %d, used_memory %d, "
          "quiver_memory_clients %d" % (info["rejected_connections"], info["connected_clients"],
                                        info["used_memory"], info["quiver_memory_clients"]))
    print("quiverd exit on SIGTERM: %d" % server.stop())
    server.start()
    r = redis.Redis(port=server.resp)
    missing = total = 0
    for n, last in acked.items():
        # Each slot holds the last seq acknowledged for it.
        expected = {s % SLOTS: s for s in range(max(0, last - SLOTS + 1), last + 1)}
        slots = sorted(expected)
        for i in range(0, len(slots), 1000):
            chunk = slots[i:i + 1000]
            values = r.mget(["soak:%d:%d" % (n, s) for s in chunk])
            for s, v in zip(chunk, values):
                total += 1
                if v is None or int(v) != expected[s]:
                    missing += 1
    print("acknowledged writes after a restart: %d checked, %d missing or wrong" % (total, missing))
    server.stop()
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
