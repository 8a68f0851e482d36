"""pytest fixtures for the HTTP port: a real quiverd with feature
definitions, its HTTP port on a free loopback port, driven with Python's
urllib, curl and Prometheus's own text parser."""

import json
import os
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from quiverd import Quiverd  # noqa: E402

DEFINITIONS = """
entities:
  - {name: user, keys: [user_id]}
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: profile
    version: 1
    entity: user
    fields:
      - {name: visits, type: int64, default: 3}
      - {name: score, type: float32}
      - {name: name, type: string, default: anonymous}
      - {name: photo, type: bytes}
      - {name: active, type: bool}
      - {name: embedding, type: "float32[2]"}
  - name: progress
    version: 1
    entity: user_item
    fields:
      - {name: done, type: float64}
  - name: quality
    version: 1
    entity: user
    fields:
      - {name: rating, type: float64, checks: {min: 0, max: 5, max_null_rate: 0.1}}
      - {name: genre, type: string, checks: {allowed: [drama, comedy, action]}}
      - {name: emb, type: "float32[3]"}
      - {name: clicks, type: int64}
  - name: quick
    version: 1
    entity: user
    freshness: 2s
    fields:
      - {name: x, type: int64}
  - name: fresh
    version: 1
    entity: user
    ttl: 1d
    freshness: 1h
    fields:
      - {name: x, type: int64}
"""


class Http:
    """GET and POST against the HTTP port; replies as (status, headers, body)."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port

    def request(self, path, body=None, method=None):
        req = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as reply:
                return reply.status, reply.headers, reply.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def json(self, path, body=None, method=None):
        status, _, text = self.request(
            path, None if body is None else json.dumps(body).encode(), method)
        return status, json.loads(text)


@pytest.fixture(scope="module")
def server():
    # No sweeps: rows past their TTL stay in memory, for the freshness test.
    s = Quiverd.with_definitions(DEFINITIONS, "--max-frame", "4KB", "--sweep-interval-ms",
                                 "86400000")
    yield s
    s.stop()


@pytest.fixture
def http(server):
    return Http(server.http_port)
