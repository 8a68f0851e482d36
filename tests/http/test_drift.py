"""Drift against a real quiverd whose recent statistics window is 3 s:
a baseline captured with `quiver baseline capture`, then an unshifted
stream (not flagged) and a shifted one (the mean +30%, a new category:
flagged), read from GET /v1/drift, `quiver drift` and /metrics; the
baseline survives a restart; expected statistics serve as a baseline."""

import json
import os
import random
import subprocess
import sys
import tempfile
import time

import pytest
import quiver

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from quiverd import Quiverd  # noqa: E402
from conftest import Http  # noqa: E402
from test_http import metrics, sample  # noqa: E402

DEFINITIONS = """
entities:
  - {name: item, keys: [item_id]}
views:
  - name: items
    version: 1
    entity: item
    fields:
      - {name: popularity, type: float64}
      - {name: genre, type: string}
      - {name: rating, type: float64, expected: {mean: 3, stddev: 1, min: 0, max: 6}}
  - name: plain
    version: 1
    entity: item
    fields:
      - {name: x, type: int64}
"""
WINDOW_S = 3
GENRES = ["drama", "drama", "comedy", "action", "thriller"]


@pytest.fixture(scope="module")
def server():
    defs = os.path.join(tempfile.mkdtemp(prefix="quiver-drift-"), "features.yaml")
    with open(defs, "w") as f:
        f.write(DEFINITIONS)
    s = Quiverd("--features", defs, "--stats-window", "%ds" % WINDOW_S)
    yield s
    s.stop()


def write(server, n, seed, mean=100.0, genres=GENRES, rating_mean=3.0):
    rng = random.Random(seed)
    rows = [{"item_id": "i%d" % i, "popularity": rng.gauss(mean, 10),
             "genre": rng.choice(genres), "rating": rng.gauss(rating_mean, 1)} for i in range(n)]
    with quiver.Client(port=server.port) as client:
        assert client.put("items", rows)["applied"] == n


def cli(server, *args, check=True):
    done = subprocess.run([server.quiver_cli, "--port", str(server.port), *args],
                          capture_output=True, timeout=60)
    if check:
        assert done.returncode == 0, done.stderr.decode()
    return done


def drift(server, **query):
    path = "/v1/drift" + ("?" + "&".join("%s=%s" % kv for kv in query.items()) if query else "")
    status, doc = Http(server.http_port).json(path)
    assert status == 200, doc
    return {f["name"]: f for v in doc["views"] for f in v["fields"]}, doc


def next_window():
    """Waits until the recent window holds nothing written before now."""
    time.sleep(WINDOW_S + 0.5)


def test_expected_statistics_are_a_baseline_before_any_capture(server):
    fields, doc = drift(server)
    assert [v["view"] for v in doc["views"]] == ["items@v1"]  # `plain` has no baseline
    assert doc["views"][0]["baseline"] == {"source": "expected"}
    assert list(fields) == ["rating"]
    assert fields["rating"]["count"] == 0 and not fields["rating"]["judged"]


def test_capture_then_unshifted_then_shifted(server):
    write(server, 3000, seed=1)
    out = cli(server, "baseline", "capture", "items").stdout.decode()
    assert "captured the baseline of items@v1 from its since_start window" in out
    assert "popularity (3000)" in out and "genre (3000)" in out

    next_window()
    write(server, 2000, seed=2)  # the same distributions
    fields, doc = drift(server, view="items")
    assert doc["views"][0]["baseline"]["source"] == "captured"
    assert doc["views"][0]["drifting"] == []
    for name in ("popularity", "genre", "rating"):
        assert fields[name]["count"] == 2000 and fields[name]["judged"], name
        assert not fields[name]["drifting"], fields[name]
    assert fields["popularity"]["psi"] < 0.05 and fields["popularity"]["ks"] < 0.06

    next_window()
    write(server, 2000, seed=3, mean=130.0, genres=GENRES + ["horror"])
    fields, doc = drift(server, view="items")
    assert set(doc["views"][0]["drifting"]) == {"popularity", "genre"}
    pop = fields["popularity"]
    assert set(pop["exceeded"]) == {"psi", "ks", "mean_shift"}
    assert pop["mean_shift"] == pytest.approx(3.0, abs=0.3)  # +30 over a stddev of 10
    assert fields["genre"]["new_categories"] == ["horror"]
    assert fields["genre"]["ks"] is None  # no order among categories
    assert not fields["rating"]["drifting"]

    table = cli(server, "drift").stdout.decode()
    assert "popularity" in table and "DRIFTING (psi,ks,mean_shift)" in table
    assert "new: horror" in table
    samples = metrics(Http(server.http_port))
    labels = {"view": "items@v1"}
    assert sample(samples, "quiver_feature_drifting", field="popularity", **labels) == 1
    assert sample(samples, "quiver_feature_drifting", field="rating", **labels) == 0
    assert sample(samples, "quiver_drift_psi", field="genre", **labels) > 0.2

    # Since the start, the shift is diluted by the earlier values, yet there.
    fields, _ = drift(server, view="items", window="since_start")
    assert fields["popularity"]["count"] == 7000


def test_the_baseline_survives_a_restart_and_can_be_cleared(server):
    _, before = drift(server, view="items")
    server.restart()
    _, after = drift(server, view="items")
    assert after["views"][0]["baseline"] == before["views"][0]["baseline"]
    assert after["views"][0]["baseline"]["source"] == "captured"
    out = cli(server, "baseline", "clear", "items").stdout.decode()
    assert "cleared the captured baseline of items@v1" in out
    fields, doc = drift(server, view="items")
    assert doc["views"][0]["baseline"] == {"source": "expected"}
    assert list(fields) == ["rating"]


def test_drift_errors(server):
    http = Http(server.http_port)
    status, doc = http.json("/v1/drift?view=plain")
    assert status == 400 and "has no drift baseline" in doc["error"]
    status, doc = http.json("/v1/drift?view=nope")
    assert status == 404
    status, doc = http.json("/v1/drift?window=week")
    assert status == 400 and "unknown window 'week'" in doc["error"]
    done = cli(server, "baseline", "capture", "plain", check=False)
    assert done.returncode != 0
    assert b"no values of plain@v1 in the since_start window" in done.stderr
    done = cli(server, "baseline", "keep", "items", check=False)
    assert done.returncode != 0 and b"expected capture or clear" in done.stderr
    doc = json.loads(cli(server, "drift", "items", "--json").stdout)
    assert doc["views"][0]["view"] == "items@v1"
