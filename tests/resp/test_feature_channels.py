"""quiver's feature channels: a subscriber of __quiver__:<view> (or of the
view's version, or of a pattern) receives every row version the store
accepts, whoever wrote it (a Put, a late Put, a delete, a backfill of a
source view), as one JSON message with its key and event time."""

import json
import os
import subprocess
import tempfile

import pytest

from conftest import Quiverd, Raw

DEFINITIONS = """
sources:
  - {name: watch_events, kafka: {topic: watch-events}, format: json, event_time: "$.ts"}
entities:
  - {name: user, keys: [user_id]}
  - {name: pair, keys: [user_id, item_id]}
views:
  - name: user_profile
    entity: user
    fields:
      - {name: watch_count_7d, type: int64}
      - {name: country, type: string}
      - {name: embedding, type: "float32[2]"}
  - name: user_profile
    version: 2
    entity: user
    fields:
      - {name: watch_count_7d, type: int64}
  - name: pair_stats
    entity: pair
    fields:
      - {name: progress, type: float32}
  - name: user_activity
    entity: user
    source: watch_events
    keys: {user_id: "$.userId"}
    fields:
      - {name: watches, type: int64, agg: count}
"""
T0 = 1_733_500_000_000


@pytest.fixture(scope="module")
def fs():
    s = Quiverd.with_definitions(DEFINITIONS)
    yield s
    s.stop()


def cli(server, *args):
    return subprocess.run([server.quiver_cli, "--port", str(server.port), *args],
                          check=True, capture_output=True, timeout=60, text=True)


def subscriber(server, *channels, patterns=()):
    client = server.client(decode_responses=True)
    listener = client.pubsub()
    if channels:
        listener.subscribe(*channels)
    if patterns:
        listener.psubscribe(*patterns)
    for _ in range(len(channels) + len(patterns)):
        assert listener.get_message(timeout=10)["type"] in ("subscribe", "psubscribe")
    return listener


def next_messages(listener, n):
    out = []
    for _ in range(n):
        m = listener.get_message(timeout=30)
        assert m is not None, f"{len(out)} of {n} messages arrived"
        out.append((m["channel"], json.loads(m["data"])))
    return out


def test_a_put_reaches_the_views_channel_and_its_versions(fs):
    plain = subscriber(fs, "__quiver__:user_profile")
    versioned = subscriber(fs, "__quiver__:user_profile@v1")
    other_version = subscriber(fs, "__quiver__:user_profile@v2", "__quiver__:pair_stats")
    pattern = subscriber(fs, patterns=["__quiver__:user_*"])
    cli(fs, "put", "user_profile@v1", "u1", "watch_count_7d=12", "country=FR",
        "--event-time", str(T0))
    cli(fs, "put", "user_profile@v1", "u1", "embedding=0.5,-1", "--event-time", str(T0 + 1000))
    first = {"view": "user_profile", "version": 1, "key": "u1", "event_time_ms": T0,
             "online": True, "row": {"watch_count_7d": 12, "country": "FR"}}
    # The second Put merged its field into the row: the message has them all.
    second = dict(first, event_time_ms=T0 + 1000,
                  row={"watch_count_7d": 12, "country": "FR", "embedding": [0.5, -1]})
    assert next_messages(plain, 2) == [("__quiver__:user_profile", first),
                                       ("__quiver__:user_profile", second)]
    assert next_messages(versioned, 2) == [("__quiver__:user_profile@v1", first),
                                           ("__quiver__:user_profile@v1", second)]
    got = next_messages(pattern, 4)  # the view's channel and its version's, each Put
    assert [m for _, m in got] == [first, first, second, second]
    # v2's subscriber heard of v2's write only.
    cli(fs, "put", "user_profile@v2", "u1", "watch_count_7d=3", "--event-time", str(T0))
    assert next_messages(other_version, 1) == [("__quiver__:user_profile@v2", {
        "view": "user_profile", "version": 2, "key": "u1", "event_time_ms": T0,
        "online": True, "row": {"watch_count_7d": 3}})]
    for listener in (plain, versioned, other_version, pattern):
        listener.close()


def test_late_versions_deletes_and_composite_keys(fs):
    listener = subscriber(fs, "__quiver__:pair_stats")
    cli(fs, "put", "pair_stats", "u1,i9", "progress=0.5", "--event-time", str(T0 + 5000))
    cli(fs, "put", "pair_stats", "u1,i9", "progress=0.25", "--event-time", str(T0))  # late
    cli(fs, "delete", "pair_stats", "u1,i9")
    cli(fs, "delete", "pair_stats", "u1,i9")  # nothing left to delete: nothing sent
    cli(fs, "put", "pair_stats", "u2,i1", "progress=1", "--event-time", str(T0))
    head = {"view": "pair_stats", "version": 1, "key": "u1,i9"}
    assert [m for _, m in next_messages(listener, 4)] == [
        dict(head, event_time_ms=T0 + 5000, online=True, row={"progress": 0.5}),
        dict(head, event_time_ms=T0, online=False, row={"progress": 0.25}),
        dict(head, deleted=True),
        {"view": "pair_stats", "version": 1, "key": "u2,i1", "event_time_ms": T0,
         "online": True, "row": {"progress": 1}}]
    listener.close()


def test_a_backfill_publishes_each_version_it_computes(fs):
    listener = subscriber(fs, patterns=["__quiver__:user_activity"])
    events = [{"userId": "u7", "ts": T0 + i * 1000} for i in range(3)]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(json.dumps(e) for e in events) + "\n")
    try:
        cli(fs, "backfill", "--view", "user_activity", "--from-file", f.name, "--no-progress")
    finally:
        os.unlink(f.name)
    got = next_messages(listener, 3)
    assert [(m["key"], m["event_time_ms"], m["row"]["watches"]) for _, m in got] == [
        ("u7", T0, 1), ("u7", T0 + 1000, 2), ("u7", T0 + 2000, 3)]
    listener.close()


def test_a_resp3_client_gets_rows_as_pushes_between_its_replies(fs):
    c = Raw(fs.resp_port, 3)
    try:
        assert c.call("SUBSCRIBE", "__quiver__:user_profile@v2").startswith(b">3\r\n")
        cli(fs, "put", "user_profile@v2", "u5", "watch_count_7d=1", "--event-time", str(T0))
        # The push and PING's reply, in whichever order they were written.
        frames = [c.call("PING"), c.read()]
        message = json.dumps({"view": "user_profile", "version": 2, "key": "u5",
                              "event_time_ms": T0, "online": True,
                              "row": {"watch_count_7d": 1}}, separators=(",", ":")).encode()
        channel = b"__quiver__:user_profile@v2"
        push = b">3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(channel), channel, len(message), message)
        assert sorted(frames) == sorted([b"+PONG\r\n", push])
    finally:
        c.close()
