"""What the cluster suites compare: each member's changelog positions
(INFO replication) and full dumps of its keys."""

import json
import re
import subprocess
import urllib.error
import urllib.request

from quiverd import wait_for


def positions(member):
    """{partition: (applied, log_end)} from INFO replication."""
    info = member.client().info("replication")
    out = {}
    for name, value in info.items():
        m = re.fullmatch(r"cluster_partition(\d+)", name)
        if m is None:
            continue
        # redis-py parses "applied=1,log_end=2,..." into a dict.
        fields = value if isinstance(value, dict) else dict(
            kv.split("=", 1) for kv in str(value).split(","))
        out[int(m.group(1))] = (int(fields["applied"]), int(fields["log_end"]))
    return out


def converge(members, timeout=60):
    """Waits until every member has applied, in every partition, at least
    what any member had applied when called: each writer applied its own
    acknowledged writes, so then every member has applied them all."""
    target = {}
    for m in members:
        for p, (applied, _) in positions(m).items():
            target[p] = max(target.get(p, 0), applied)
    assert target, "no changelog partitions in INFO replication"

    def done():
        for m in members:
            have = positions(m)
            if any(have.get(p, (0, 0))[0] < t for p, t in target.items()):
                return False
        return True

    wait_for(done, f"members did not converge on {target}", timeout)
    for m in members:  # a member serves reads once caught up
        wait_caught_up(m, timeout)


def wait_caught_up(member, timeout=60):
    """Waits until the member has caught up with the changelog (it refuses
    reads before, unless --serve-stale)."""
    wait_for(lambda: member.client().info("replication")["cluster_caught_up"] == 1,
             "the member did not catch up", timeout)


def dump(member, db=0):
    """Every live key of a database: its type, value and absolute expiry."""
    r = member.client(db=db)
    out = {}
    for key in r.scan_iter(count=1000):
        kind = r.type(key).decode()
        if kind == "string":
            value = r.get(key)
        elif kind == "hash":
            value = sorted(r.hgetall(key).items())
        elif kind == "list":
            value = r.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(r.smembers(key))
        elif kind == "zset":
            value = r.zrange(key, 0, -1, withscores=True)
        elif kind == "none":
            continue  # expired between SCAN and TYPE
        else:
            raise AssertionError(f"unexpected type {kind} of {key}")
        out[key] = (kind, value, r.pexpiretime(key))
    return out


def http_get(member, path):
    """(status, body) of a GET on the member's HTTP port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{member.http_port}{path}", timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def health(member):
    status, body = http_get(member, "/health")
    return status, json.loads(body)


def metric_samples(member, name):
    """{labels text: value} of one metric family in /metrics."""
    _, text = http_get(member, "/metrics")
    out = {}
    for line in text.splitlines():
        m = re.fullmatch(re.escape(name) + r"(\{[^}]*\})? (\S+)", line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def cli(member, *args):
    """Runs the `quiver` CLI against a member's native port; its stdout."""
    return subprocess.run([member.quiver_cli, "--port", str(member.port), *args],
                          capture_output=True, text=True, check=True, timeout=60).stdout


def rows_of(text):
    """The CLI's JSON lines, without the ages (which depend on the clock)."""
    rows = [json.loads(line) for line in text.splitlines()]
    for r in rows:
        r.pop("age_ms", None)
    return rows
