"""Feature rows read through the RESP port as hashes (quiver:{view}:{key}),
written with quiver's own CLI over the native protocol; writes to that
namespace through RESP are refused and change nothing."""

import os
import struct
import subprocess

import pytest
import redis

from conftest import Quiverd

DEFINITIONS = """
entities:
  - {name: thing, keys: [thing_id]}
  - {name: pair, keys: [user_id, item_id]}
views:
  - name: every_type
    version: 1
    entity: thing
    fields:
      - {name: flag, type: bool}
      - {name: small, type: int32, default: 7}
      - {name: big, type: int64}
      - {name: ratio, type: float32}
      - {name: precise, type: float64}
      - {name: label, type: string}
      - {name: blob, type: bytes}
      - {name: embedding, type: "float32[3]"}
  - name: every_type
    version: 2
    entity: thing
    fields:
      - {name: only_v2, type: int64}
  - name: pair_stats
    version: 1
    entity: pair
    ttl: 1d
    fields:
      - {name: progress, type: float32}
"""


@pytest.fixture(scope="module")
def fs():
    s = Quiverd.with_definitions(DEFINITIONS)
    yield s
    s.stop()


def put(server, view, key, *assignments, event_time=None):
    cli = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(server.binary))),
                       "client", "quiver")
    extra = ["--event-time", event_time] if event_time else []
    subprocess.run([cli, "--port", str(server.port), "put", view, key, *assignments, *extra],
                   check=True, capture_output=True, timeout=60)


def f32(text):
    return struct.unpack("<f", struct.pack("<f", float(text)))[0]


def test_every_type_reads_as_text(fs):
    put(fs, "every_type@v1", "t1", "flag=true", "small=-5", "big=9007199254740993", "ratio=0.1",
        "precise=0.1", "label=hello world", "blob=raw", "embedding=1.5,-2,0.1")
    r = fs.client()
    row = r.hgetall("quiver:every_type@v1:t1")
    assert row == {b"flag": b"1", b"small": b"-5", b"big": b"9007199254740993", b"ratio": b"0.1",
                   b"precise": b"0.1", b"label": b"hello world", b"blob": b"raw",
                   b"embedding": b"1.5,-2,0.1"}
    assert f32(row[b"ratio"]) == f32(0.1), "the text reads back as the same float32"
    assert r.hkeys("quiver:every_type@v1:t1")[:3] == [b"flag", b"small", b"big"], "schema order"
    assert r.hmget("quiver:every_type@v1:t1", "big", "nope", "label") == [
        b"9007199254740993", None, b"hello world"]
    assert r.hget("quiver:every_type@v1:t1", "embedding") == b"1.5,-2,0.1"
    assert r.hlen("quiver:every_type@v1:t1") == 8
    assert r.hexists("quiver:every_type@v1:t1", "flag") is True
    assert r.hstrlen("quiver:every_type@v1:t1", "label") == 11


def test_unset_fields_missing_rows_and_versions(fs):
    put(fs, "every_type@v1", "t2", "label=partial")
    r = fs.client()
    assert r.hgetall("quiver:every_type@v1:t2") == {b"label": b"partial"}, \
        "fields never written are absent (nil), not their defaults"
    assert r.hget("quiver:every_type@v1:t2", "small") is None
    assert r.hgetall("quiver:every_type@v1:nobody") == {}
    assert r.hmget("quiver:every_type@v1:nobody", "label") == [None]
    put(fs, "every_type", "t3", "only_v2=4")  # the latest version: v2
    assert r.hgetall("quiver:every_type:t3") == {b"only_v2": b"4"}
    assert r.hgetall("quiver:every_type@v2:t3") == {b"only_v2": b"4"}


def test_multi_key_entities_and_ttl(fs):
    put(fs, "pair_stats", "u1,i9", "progress=0.75")
    put(fs, "pair_stats", "u2,i9", "progress=0.5", event_time="2020-01-01T00:00:00Z")
    r = fs.client()
    assert r.hgetall("quiver:pair_stats:u1,i9") == {b"progress": b"0.75"}
    assert r.hgetall("quiver:pair_stats:u2,i9") == {}, "a row past the view's ttl is absent"
    with pytest.raises(redis.ResponseError, match="names 1 join-key value.*has 2, joined by commas"):
        r.hgetall("quiver:pair_stats:u1")


def test_bad_feature_keys(fs):
    r = fs.client()
    with pytest.raises(redis.ResponseError, match="unknown view"):
        r.hgetall("quiver:no_such_view:k")
    with pytest.raises(redis.ResponseError, match=r"feature keys are quiver:\{view\}:\{key\}"):
        r.hgetall("quiver:every_type")
    assert r.ping() is True


def test_feast_style_pipelined_reads(fs):
    for i in range(10):
        put(fs, "every_type@v1", f"p{i}", f"big={i * 1000}", f"label=item {i}")
    pipe = fs.client().pipeline(transaction=False)
    for i in range(12):
        pipe.hmget(f"quiver:every_type@v1:p{i}", "big", "label")
    got = pipe.execute()
    assert got[:10] == [[str(i * 1000).encode(), f"item {i}".encode()] for i in range(10)]
    assert got[10:] == [[None, None], [None, None]]


def test_writes_to_feature_keys_are_refused(fs):
    r = fs.client()
    put(fs, "every_type@v1", "w1", "big=1")
    refusal = "^keys under 'quiver:' are feature rows, read-only through RESP"
    for call in (lambda: r.hset("quiver:every_type@v1:w1", "big", "2"),
                 lambda: r.set("quiver:every_type@v1:w1", "x"),
                 lambda: r.delete("quiver:every_type@v1:w1"),
                 lambda: r.expire("quiver:every_type@v1:w1", 10),
                 lambda: r.lpush("quiver:x:y", "a"),
                 lambda: r.mset({"plain": "1", "quiver:x:y": "2"}),
                 lambda: r.rename("plain2", "quiver:x:y")):
        with pytest.raises(redis.ResponseError, match=refusal):
            call()
    assert r.exists("plain") == 0, "a refused MSET sets nothing"
    assert r.hgetall("quiver:every_type@v1:w1") == {b"big": b"1"}
    pipe = r.pipeline(transaction=True)
    pipe.set("plain", "1")
    pipe.hset("quiver:every_type@v1:w1", "big", "3")
    with pytest.raises(redis.ResponseError, match=refusal[1:]):
        pipe.execute()
    assert r.get("plain") == b"1", "inside EXEC the refusal is that command's error only"


def test_scripts_read_feature_rows_as_hashes_and_cannot_write_them(fs):
    r = fs.client()
    put(fs, "every_type@v1", "s1", "big=41", "label=from a script")
    row = "quiver:every_type@v1:s1"
    script = "return {redis.call('hget', KEYS[1], 'big'), redis.call('hgetall', KEYS[1])}"
    assert r.eval(script, 1, row) == [b"41", [b"big", b"41", b"label", b"from a script"]]
    assert r.eval_ro("return redis.call('hlen', KEYS[1])", 1, row) == 2
    # A score computed in Lua from the row, stored in a plain key.
    r.eval("local big = tonumber(redis.call('hget', KEYS[1], 'big'))"
           " return redis.call('set', KEYS[2], big + 1)", 2, row, "score:s1")
    assert r.get("score:s1") == b"42"
    with pytest.raises(redis.ResponseError,
                       match="keys under 'quiver:' are feature rows, read-only through RESP"):
        r.eval("return redis.call('hset', KEYS[1], 'big', '0')", 1, row)
    assert r.hget(row, "big") == b"41", "the refused write changed nothing"


def test_sort_orders_ids_by_a_feature_and_gets_others(fs):
    r = fs.client()
    for i, (big, label) in enumerate([(30, "c"), (10, "a"), (20, "b")]):
        put(fs, "every_type@v1", f"o{i}", f"big={big}", f"label={label}")
    r.sadd("ids", "o0", "o1", "o2", "o9")
    assert r.sort("ids", by="quiver:every_type@v1:*->big",
                  get=["#", "quiver:every_type@v1:*->label"]) == [
        b"o9", None, b"o1", b"a", b"o2", b"b", b"o0", b"c"]
