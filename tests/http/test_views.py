"""GET /v1/views describes every view in the one JSON shape the CLI prints
for what the native port sends (`quiver views --json`): the same keys and
the same values, for written and computed views alike."""

import json
import os
import subprocess
import sys

import pytest

from conftest import Http

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from quiverd import Quiverd  # noqa: E402

DEFINITIONS = """
sources:
  - {name: clicks, kafka: {topic: clicks}, format: json, event_time: "$.ts"}
entities:
  - {name: user, keys: [user_id]}
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: profile
    version: 2
    entity: user
    ttl: 1d
    freshness: 1h
    retention: 30d
    owner: growth
    description: "What we know about a user \\"now\\""
    tags: [core, pii]
    fields:
      - {name: visits, type: int64, default: 3, description: visits so far}
      - {name: score, type: float32, default: 0.1}
      - {name: name, type: string, default: "Zoë"}
      - {name: photo, type: bytes}
      - {name: active, type: bool, default: true}
      - {name: embedding, type: "float32[2]"}
  - name: clicks_1h
    entity: user_item
    source: clicks
    depends_on: [profile]
    keys: {user_id: "$.user", item_id: "$.item"}
    fields:
      - {name: n, type: int64, agg: count, window: 1h, hop: 10m}
      - {name: dwell, type: float64, agg: mean, of: "$.dwell", window: 1h, hop: 10m}
"""


@pytest.fixture(scope="module")
def server():
    s = Quiverd.with_definitions(DEFINITIONS)
    yield s
    s.stop()


def quiver(server, *args):
    return subprocess.run([server.quiver_cli, "--port", str(server.port), *args], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def test_http_and_cli_describe_views_alike(server):
    status, body = Http(server.http_port).json("/v1/views")
    assert status == 200
    over_http = {v["name"]: v for v in body["views"]}
    lines = quiver(server, "views", "--json").splitlines()
    over_native = {v["name"]: v for v in map(json.loads, lines)}
    assert set(over_http) == {"profile", "clicks_1h"}
    assert over_http == over_native

    profile = over_http["profile"]
    assert profile["join_keys"] == ["user_id"]
    assert (profile["ttl_ms"], profile["freshness_ms"]) == (86_400_000, 3_600_000)
    assert profile["retention_ms"] == 30 * 86_400_000
    assert (profile["owner"], profile["tags"]) == ("growth", ["core", "pii"])
    assert profile["description"] == 'What we know about a user "now"'
    assert "source" not in profile
    fields = {f["name"]: f for f in profile["fields"]}
    assert fields["visits"] == {"name": "visits", "type": "int64", "default": 3,
                                "description": "visits so far"}
    assert fields["name"]["default"] == "Zoë"
    assert fields["active"]["default"] is True
    assert fields["embedding"]["type"] == "float32[2]"

    clicks = over_http["clicks_1h"]
    assert clicks["source"] == "clicks"
    assert clicks["key_paths"] == ["$.user", "$.item"]
    assert clicks["depends_on"] == ["profile"]
    dwell = {f["name"]: f for f in clicks["fields"]}["dwell"]
    assert (dwell["agg"], dwell["of"]) == ("mean", "$.dwell")
    assert (dwell["window_ms"], dwell["hop_ms"]) == (3_600_000, 600_000)


def test_describe_prints_the_same_object(server):
    _, body = Http(server.http_port).json("/v1/views")
    described = json.loads(quiver(server, "describe", "profile"))
    assert described == next(v for v in body["views"] if v["name"] == "profile")
