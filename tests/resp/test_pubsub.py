"""Pub/Sub (issue 27): SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE,
PUBLISH, their sharded forms (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH), PUBSUB. Two connections (a subscriber and a publisher) run the same
steps on quiverd and on redis-server, and every reply and every message
must be byte-identical, in RESP2 (a subscribed connection takes only
subscription commands and PING) and RESP3 (messages are pushes between
replies). Then delivery across I/O threads, and cleanup on disconnect."""

import threading

import pytest
import redis

from conftest import Raw, raw
from quiverd import wait_for

# (connection, command): connection 0 subscribes, 1 publishes; ("read", 0)
# reads the next message or reply connection 0 received (a command gets its
# first reply; a SUBSCRIBE of two channels has a second to read).
READ = "read"
SCENARIOS = [
    [(0, ["SUBSCRIBE", "news", "sport"]), (READ, 0), (0, ["SUBSCRIBE", "news"]), (1, ["PUBLISH", "news", "hi"]),
     (READ, 0), (1, ["PUBLISH", "none", "x"]), (1, ["PUBSUB", "NUMSUB", "news", "none", "sport"]),
     (1, ["PUBSUB", "CHANNELS"]), (1, ["PUBSUB", "CHANNELS", "s*"]), (0, ["PING"]),
     (0, ["PING", "hello"]), (0, ["GET", "k"]), (0, ["UNSUBSCRIBE", "news", "never"]), (READ, 0),
     (1, ["PUBLISH", "sport", ""]), (READ, 0), (0, ["UNSUBSCRIBE"]), (0, ["UNSUBSCRIBE"]),
     (0, ["GET", "k"]), (0, ["PING"])],
    [(0, ["PSUBSCRIBE", "n*", "a?c"]), (READ, 0), (0, ["SUBSCRIBE", "news"]), (1, ["PUBLISH", "news", "1"]),
     (READ, 0), (READ, 0), (1, ["PUBLISH", "abc", "2"]), (READ, 0), (1, ["PUBSUB", "NUMPAT"]),
     (0, ["PUNSUBSCRIBE", "n*"]), (1, ["PUBLISH", "news", "3"]), (READ, 0),
     (0, ["PUNSUBSCRIBE"]), (0, ["PUNSUBSCRIBE"]), (0, ["UNSUBSCRIBE"]), (1, ["PUBSUB", "NUMPAT"])],
    [(0, ["SUBSCRIBE", "c"]), (0, ["RESET"]), (1, ["PUBLISH", "c", "x"]), (0, ["GET", "k"]),
     (1, ["PUBSUB"]), (1, ["PUBSUB", "FOO"]), (1, ["PUBSUB", "CHANNELS", "a", "b"]),
     (1, ["PUBSUB", "NUMPAT", "x"]), (1, ["PUBLISH", "c"]), (0, ["SUBSCRIBE"]),
     (1, ["PUBSUB", "NUMSUB"])],
    # Shard channels: their own namespace, counts and message type.
    [(0, ["SSUBSCRIBE", "orders", "users"]), (READ, 0), (0, ["SUBSCRIBE", "orders"]),
     (0, ["SSUBSCRIBE", "orders"]), (1, ["SPUBLISH", "orders", "o1"]), (READ, 0),
     (1, ["PUBLISH", "orders", "p1"]), (READ, 0), (1, ["SPUBLISH", "none", "x"]),
     (1, ["PUBSUB", "SHARDCHANNELS", "o*"]), (1, ["PUBSUB", "SHARDCHANNELS", "u*"]),
     (1, ["PUBSUB", "SHARDNUMSUB", "orders", "none"]), (1, ["PUBSUB", "NUMSUB", "orders", "users"]),
     (1, ["PUBSUB", "CHANNELS"]), (0, ["GET", "k"]), (0, ["SUNSUBSCRIBE", "orders"]),
     (1, ["SPUBLISH", "orders", "o2"]), (1, ["SPUBLISH", "users", "u1"]), (READ, 0),
     (0, ["SUNSUBSCRIBE"]), (0, ["SUNSUBSCRIBE"]), (0, ["UNSUBSCRIBE"]), (0, ["GET", "k"]),
     (1, ["SPUBLISH", "a"]), (1, ["COMMAND", "GETKEYS", "SPUBLISH", "ch", "m"]),
     (1, ["COMMAND", "GETKEYS", "SSUBSCRIBE", "a", "b"]), (1, ["PUBSUB", "HELP"])],
]


def run(port, scenario, protocol):
    conns = [Raw(port, protocol), Raw(port, protocol)]
    out = []
    try:
        for who, command in scenario:
            reply = conns[command].read() if who == READ else conns[who].call(*command)
            if who != READ and command[:2] == ["PUBSUB", "CHANNELS"]:  # a hash table's order
                reply = sorted(reply.split(b"\r\n"))
            out.append(reply)
    finally:
        for c in conns:
            c.close()
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: " ".join(s[0][1]))
@pytest.mark.parametrize("protocol", [2, 3])
def test_replies_and_messages_match_redis(server, reference, scenario, protocol):
    reference.flushall()
    raw(redis.Redis(port=server.resp_port)).flushall()
    ours = run(server.resp_port, scenario, protocol)
    theirs = run(reference.connection_pool.connection_kwargs["port"], scenario, protocol)
    for step, a, b in zip(scenario, ours, theirs):
        assert a == b, step


def numsub(r, channel):
    return dict(r.pubsub_numsub(channel))[channel.encode()]


def test_messages_reach_subscribers_on_every_thread_in_order(server, r):
    subscribers = []
    for _ in range(4):  # over quiverd's I/O threads
        p = server.client().pubsub()
        p.subscribe("feed")
        assert p.get_message(timeout=10)["type"] == "subscribe"
        subscribers.append(p)
    wait_for(lambda: numsub(r, "feed") == 4, "not every subscriber registered")

    def publish(name):
        c = server.client()
        for i in range(200):
            assert c.publish("feed", f"{name}:{i}") == 4
        c.close()

    publishers = [threading.Thread(target=publish, args=(n,)) for n in ("a", "b")]
    for t in publishers:
        t.start()
    for t in publishers:
        t.join()
    for p in subscribers:
        got = []
        while len(got) < 400:
            m = p.get_message(timeout=10)
            assert m is not None, "a message was lost"
            got.append(m["data"].decode())
        for name in ("a", "b"):  # each publisher's in the order it sent them
            assert [g for g in got if g.startswith(name)] == [f"{name}:{i}" for i in range(200)]
        p.close()
    wait_for(lambda: numsub(r, "feed") == 0, "closed subscribers still counted")


def test_resp3_pushes_arrive_between_replies(server):
    sub = Raw(server.resp_port, 3)
    pub = Raw(server.resp_port, 2)
    try:
        assert sub.call("SUBSCRIBE", "ch") == b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        assert sub.call("SET", "k", "v") == b"+OK\r\n"  # any command, while subscribed
        assert pub.call("PUBLISH", "ch", "m") == b":1\r\n"
        assert sub.read() == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"
        assert sub.call("GET", "k") == b"$1\r\nv\r\n"
    finally:
        sub.close()
        pub.close()


def test_a_closed_subscriber_is_forgotten(server, r):
    conn = Raw(server.resp_port, 2)
    conn.call("SUBSCRIBE", "gone")
    conn.call("PSUBSCRIBE", "g*")
    assert numsub(r, "gone") == 1 and r.execute_command("PUBSUB", "NUMPAT") == 1
    conn.close()
    wait_for(lambda: numsub(r, "gone") == 0, "the closed subscriber is still counted")
    assert r.execute_command("PUBSUB", "NUMPAT") == 0
    assert r.publish("gone", "x") == 0
    info = r.info("stats")
    assert info["pubsub_channels"] == 0 and info["pubsub_patterns"] == 0


def test_a_subscriber_that_never_reads_is_disconnected_at_the_pubsub_limit(server, r):
    lazy = Raw(server.resp_port, 2)
    lazy.call("SUBSCRIBE", "flood")
    message = "x" * (1 << 20)
    sent = 0
    while numsub(r, "flood") == 1:  # 32 MiB past what the socket buffers take
        assert sent < 200, "the subscriber was never disconnected"
        r.publish("flood", message)
        sent += 1
    assert sent > 32
    assert r.ping()
    lazy.close()


def test_client_list_counts_subscriptions(server):
    c = server.client()
    p = c.pubsub()
    p.subscribe("a", "b")
    p.psubscribe("x*")
    p.execute_command("SSUBSCRIBE", "s1", "s2", "s3")
    for _ in range(6):
        assert p.get_message(timeout=10) is not None
    mine = [e for e in c.client_list() if e["cmd"] == "ssubscribe"]
    assert len(mine) == 1 and (mine[0]["sub"], mine[0]["psub"], mine[0]["ssub"]) == ("2", "1", "3")
    p.unsubscribe("a")
    assert p.get_message(timeout=10)["type"] == "unsubscribe"
    mine = [e for e in c.client_list() if e["cmd"] == "unsubscribe"]
    assert mine[0]["sub"] == "1"
    p.close()
