"""`quiver import-redis --map`: a small data set in today's Redis layout
(../shared/WORKLOAD.md: one JSON value per key, fs:{entity}:{id}:{feature}
:v{N} and :latest, SETEX by freshness class) is loaded into typed views:
each entity's keys become one row of the view version its keys name, with
the event time their remaining TTL tells; the other keys are copied as
they are, and what does not fit is skipped by reason."""

import json
import subprocess

import pytest

from conftest import Quiverd, RedisServer
from test_import_redis import quiver_cli

DEFINITIONS = """
entities:
  - {name: user, keys: [user_id]}
  - {name: item, keys: [item_id]}
views:
  - name: user_profile
    version: 1
    entity: user
    fields:
      - {name: watch_count_7d, type: int64}
  - name: user_profile
    version: 2
    entity: user
    ttl: 2d
    fields:
      - {name: watch_count_7d, type: int64}
      - {name: genre_preferences, type: "float32[3]"}
      - {name: avg_watch_duration_min, type: float32}
      - {name: preferred_hour, type: int32}
  - name: item_stats
    version: 1
    entity: item
    ttl: 2h
    fields:
      - {name: popularity_score, type: float32}
      - {name: genre, type: string}
"""

MAPS = ["fs:user:{user_id}:{feature}:v{version}=user_profile",
        "fs:user:{user_id}:{feature}:latest=user_profile",
        "fs:item:{item_id}:{feature}:v{version}=item_stats",
        "fs:item:{item_id}:{feature}:latest=item_stats"]


@pytest.fixture(scope="module")
def fs():
    s = Quiverd.with_definitions(DEFINITIONS)
    yield s
    s.stop()


def put_both(c, prefix, value, ttl, version="v2"):
    """The service's write: a versioned key and its latest alias, by SETEX."""
    for suffix in (version, "latest"):
        c.setex(f"{prefix}:{suffix}", ttl, json.dumps(value))


def populate(c):
    daily, hourly = 172_800, 7_200
    put_both(c, "fs:user:u1:watch_count_7d", 12, daily)
    put_both(c, "fs:user:u1:genre_preferences", [0.5, 0.25, 0.125], daily)
    put_both(c, "fs:user:u1:avg_watch_duration_min", 42.5, daily)
    put_both(c, "fs:user:u1:preferred_hour", 20, daily)
    c.set("fs:user:u1:watch_count_7d:v1", json.dumps(10))  # an older schema's key
    c.set("fs:user:u2:watch_count_7d:latest", json.dumps(3))  # an alias alone
    put_both(c, "fs:item:i1:popularity_score", 0.75, hourly // 2, "v1")
    put_both(c, "fs:item:i1:genre", "drama", hourly // 2, "v1")
    c.set("fs:item:i2:popularity_score:v1", json.dumps("very"))  # not a float32
    c.set("fs:item:i1:color:v1", json.dumps("red"))  # not a field of the view
    c.set("fs:user:u3:watch_count_7d:v7", json.dumps(1))  # no such view version
    c.set("session:abc", "a plain key")


def cli_get(fs, view, key):
    out = subprocess.run([quiver_cli(fs), "--port", str(fs.port), "get", view, key, "--json"],
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def test_todays_layout_loads_into_typed_views(fs):
    source = RedisServer()
    try:
        populate(source.client)
        maps = [arg for m in MAPS for arg in ("--map", m)]
        done = subprocess.run(
            [quiver_cli(fs), "--port", str(fs.port), "import-redis",
             f"127.0.0.1:{source.port}", "--resp-port", str(fs.resp_port), "--no-progress",
             "--batch", "4", *maps], capture_output=True, text=True, timeout=300)
    finally:
        source.stop()
    assert done.returncode == 1, done.stdout + done.stderr  # three keys did not fit
    out = done.stdout
    assert "copied 1 keys" in out
    assert "skipped 1 keys: values that are not JSON of their field's type " \
           "(e.g. db0 'fs:item:i2:popularity_score:v1')" in out
    assert "skipped 1 keys: 'color' is not a field of item_stats@v1 " \
           "(e.g. db0 'fs:item:i1:color:v1')" in out
    assert "skipped 1 keys: no view user_profile@v7 in quiverd" in out
    r = fs.client()
    assert r.get("session:abc") == b"a plain key"
    assert r.keys("fs:*") == [], "feature keys are not copied as plain keys"
    assert r.hgetall("quiver:user_profile@v2:u1") == {
        b"watch_count_7d": b"12", b"genre_preferences": b"0.5,0.25,0.125",
        b"avg_watch_duration_min": b"42.5", b"preferred_hour": b"20"}
    assert r.hgetall("quiver:user_profile@v1:u1") == {b"watch_count_7d": b"10"}
    assert r.hgetall("quiver:user_profile@v2:u2") == {b"watch_count_7d": b"3"}
    assert r.hgetall("quiver:item_stats:i1") == {b"popularity_score": b"0.75", b"genre": b"drama"}
    # The item's keys had an hour left of a 2 h class: written an hour ago,
    # so the row expires when the keys would have.
    item = cli_get(fs, "item_stats", "i1")
    assert 3_500_000 < item["age_ms"] < 3_800_000, item
    user = cli_get(fs, "user_profile", "u1")
    assert 0 <= user["age_ms"] < 120_000, user
    # Keys without a TTL are written as of the import.
    assert cli_get(fs, "user_profile@v1", "u1")["age_ms"] < 120_000


def test_a_map_naming_an_unknown_view_or_lacking_a_join_key_is_refused(fs):
    for m, error in [("fs:x:{id}:{feature}=nope", "quiverd has no view nope"),
                     ("fs:user:{id}:{feature}=user_profile", "has no {user_id}"),
                     ("fs:user:{user_id}=user_profile", "has no {feature}"),
                     ("fs:user:{user_id}{feature}=user_profile", "follow each other")]:
        done = subprocess.run(
            [quiver_cli(fs), "--port", str(fs.port), "import-redis", "127.0.0.1:1",
             "--resp-port", str(fs.resp_port), "--map", m], capture_output=True, text=True,
            timeout=60)
        assert done.returncode == 1 and error in done.stderr, (m, done.stderr)
