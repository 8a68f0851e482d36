#!/usr/bin/python3
"""How long the dashboard takes to be interactive with a large registry:
quiverd with VIEWS views of FIELDS fields each (100 x 20 = 2,000 fields by
default), a row written to every view (so that statistics, drift and
freshness have something to report), then each page loaded afresh in
headless Chromium, ROUNDS times, reporting the time from navigation to the
page's data drawn (the page's own mark, performance.now() at its first
draw), the JSON documents' sizes and server times, any console error, and
the CPU the time series' sampler thread ("series") takes per sample (a
pass over the online table, and a drift sample each time here).

  bench/dashboard_bench.py [--views 100] [--fields 20] [--rows 200] [--rounds 5]
                           [--build build/release]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests", "dashboard"))


def rows(fields, n, first=0):
    out = []
    for i in range(first, first + n):
        row = {"user_id": "u%d" % i}
        for f in range(fields):
            row["f%02d" % f] = (10.0 + (i % 7) - 3, i, "c%d" % (i % 4))[f % 3]
        out.append(row)
    return out


def fetch(port, path):
    start = time.perf_counter()
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=60) as r:
        body = r.read()
    return len(body), (time.perf_counter() - start) * 1000


def thread_cpu_s(pid, name):
    """CPU seconds (user + system) of a process's thread named `name`."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() != name:
                continue
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError("no thread " + name)


def sampler_cost(server, args):
    """The sampler's CPU per sample over 20 samples (one a second here,
    each with a drift sample)."""
    base = "http://127.0.0.1:%d/v1/series?part=memory" % server.http_port
    count = lambda: len(json.load(urllib.request.urlopen(base, timeout=60))["t"])
    before_cpu, before = thread_cpu_s(server.proc.pid, "series"), count()
    from quiverd import wait_for
    wait_for(lambda: count() >= before + 20, "the sampler stopped", 120)
    taken = count() - before
    cpu = thread_cpu_s(server.proc.pid, "series") - before_cpu
    print("\nsampler: %.1f ms of CPU per sample (%d samples, %d rows in %d views)" %
          (1000 * cpu / taken, taken, args.rows * args.views, args.views))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--views", type=int, default=100)
    ap.add_argument("--fields", type=int, default=20)
    ap.add_argument("--rows", type=int, default=200, help="rows written to each view")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    args = ap.parse_args()
    os.environ.setdefault("QUIVERD", os.path.join(args.build, "server", "quiverd"))
    sys.path.insert(0, os.path.join(args.build, "python"))
    import quiver
    from conftest import Browser, definitions_file, many_views
    from quiverd import Quiverd, wait_for

    server = Quiverd("--features", definitions_file(many_views(args.views, args.fields)),
                     "--series-interval", "1s", "--series-drift-interval", "1s")
    browser = Browser()
    try:
        with quiver.Client(port=server.port) as client:
            for v in range(args.views):
                for first in range(0, args.rows, 10_000):
                    client.put("view_%03d" % v, rows(args.fields, min(10_000, args.rows - first),
                                                     first))
        written = int(time.time() * 1000)

        def sampled():  # a drift sample (the rarest) taken after the writes
            with urllib.request.urlopen("http://127.0.0.1:%d/v1/series?part=drift"
                                        % server.http_port, timeout=60) as r:
                t = json.load(r)["t"]
            return t and t[-1] > written
        wait_for(sampled, "no drift sample after the writes", 120)
        print("%d views x %d fields = %d fields; %d rounds per page" %
              (args.views, args.fields, args.views * args.fields, args.rounds))
        print("\n%-44s %8s %10s" % ("document", "KiB", "server ms"))
        for path in ("/v1/views", "/v1/status", "/v1/drift", "/v1/freshness",
                     "/v1/series?part=requests", "/v1/series?part=views",
                     "/v1/series?part=drift", "/v1/views/view_050/stats",
                     "/v1/views/view_050/distribution?field=f00"):
            times = [fetch(server.http_port, path) for _ in range(args.rounds)]
            print("%-44s %8.1f %10.1f" % (path, times[0][0] / 1024,
                                          statistics.median(t for _, t in times)))
        print("\n%-28s %10s %10s %8s" % ("page", "median ms", "max ms", "errors"))
        pages = [("#/overview", "overview"), ("#/registry", "registry"),
                 ("#/view/view_050", "view"), ("#/feature/view_050@v1/f00", "feature"),
                 ("#/lookup/view_050@v1/u7", "lookup")]
        for fragment, ready in pages:
            times, errors = [], 0
            for _ in range(args.rounds):
                browser.open(server.http_port, fragment, ready=ready)
                times.append(int(browser.js("return document.body.dataset.readyMs")))
                errors += len(browser.errors())
            print("%-28s %10.0f %10.0f %8d" % (fragment, statistics.median(times), max(times),
                                               errors))
        sampler_cost(server, args)
    finally:
        browser.quit()
        server.stop()


if __name__ == "__main__":
    main()
