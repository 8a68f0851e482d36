"""Feature statistics and quality checks over HTTP: rows written with the
Python client, GET /v1/views/{view}/stats and the feature and quality
families of /metrics compared with exact values computed here from the same
rows."""

import random

import numpy as np
import pytest
import quiver

from test_http import metrics, sample

ALLOWED = {"drama", "comedy", "action"}


@pytest.fixture(scope="module")
def written(server):
    """Writes 3000 rows to `quality`; returns what was written."""
    rng = random.Random(11)
    rows = []
    for i in range(3000):
        rating = None if rng.random() < 0.2 else rng.lognormvariate(0.5, 0.6)  # some above 5
        rows.append({
            "user_id": "u%d" % i,
            "rating": rating,
            "genre": rng.choice(["drama", "drama", "comedy", "action", "horror"]),
            "emb": [rng.uniform(-1, 1) for _ in range(3)],
            "clicks": rng.randint(0, 50),
        })
    with quiver.Client(port=server.port) as client:
        # Small batches: this server refuses frames over 4 KB.
        assert client.put("quality", rows, batch_rows=40)["applied"] == 3000
    return rows


def test_statistics_match_the_written_values(http, written):
    status, doc = http.json("/v1/views/quality/stats")
    assert status == 200
    assert doc["view"] == "quality@v1"
    assert doc["rows"] == {"since_start": 3000, "recent": 3000}
    fields = {f["name"]: f for f in doc["fields"]}
    ratings = np.array([r["rating"] for r in written if r["rating"] is not None])
    nulls = sum(r["rating"] is None for r in written)
    for window in ("since_start", "recent"):
        rating = fields["rating"][window]
        assert rating["count"] == len(ratings)
        assert rating["nulls"] == nulls
        assert rating["null_rate"] == pytest.approx(nulls / 3000)
        assert rating["mean"] == pytest.approx(ratings.mean(), rel=1e-12)
        assert rating["stddev"] == pytest.approx(ratings.std(ddof=1), rel=1e-9)
        assert rating["min"] == ratings.min() and rating["max"] == ratings.max()
        # KLL's rank error bound (1.65% at k = 200).
        for name, q in (("p05", 0.05), ("p50", 0.5), ("p95", 0.95)):
            rank = (ratings <= rating["quantiles"][name]).mean()
            assert abs(rank - q) <= 0.0165, (name, rank)
        assert rating["violations"]["above_max"] == int((ratings > 5).sum())
        assert rating["violations"]["below_min"] == 0
        assert set(rating["failing"]) == {"max", "max_null_rate"}  # 20% nulls > 10%

        genre = fields["genre"][window]
        counts = {}
        for r in written:
            counts[r["genre"]] = counts.get(r["genre"], 0) + 1
        assert {t["value"]: t["count"] for t in genre["top"]} == counts
        assert genre["top"][0]["value"] == "drama"
        assert genre["distinct"] == 4
        assert genre["violations"]["not_allowed"] == counts["horror"]
        assert genre["failing"] == ["allowed"]

        emb = fields["emb"][window]
        vectors = np.array([r["emb"] for r in written], dtype=np.float32).astype(np.float64)
        assert emb["dims"]["mean"] == pytest.approx(list(vectors.mean(axis=0)), abs=1e-9)
        norms = np.sqrt((vectors ** 2).sum(axis=1))
        assert emb["norm"]["mean"] == pytest.approx(norms.mean(), rel=1e-9)

        clicks = np.array([r["clicks"] for r in written])
        # HyperLogLog: within three standard errors (1.6% each).
        assert fields["clicks"][window]["distinct"] == pytest.approx(len(set(clicks)), rel=0.05)
        assert fields["clicks"][window]["mean"] == pytest.approx(clicks.mean())
        assert fields["clicks"][window]["failing"] == []
    assert fields["rating"]["checks"] == {"min": 0, "max": 5, "max_null_rate": 0.1}
    assert fields["genre"]["checks"] == {"allowed": sorted(ALLOWED)}


def test_metrics_carry_statistics_and_quality(http, written):
    samples = metrics(http)
    v = {"view": "quality@v1"}
    assert sample(samples, "quiver_feature_values_total", field="clicks", **v) == 3000
    nulls = sum(r["rating"] is None for r in written)
    assert sample(samples, "quiver_feature_nulls_total", field="rating", **v) == nulls
    assert sample(samples, "quiver_feature_null_ratio", field="rating", **v) == \
        pytest.approx(nulls / 3000)
    clicks = [r["clicks"] for r in written]
    assert sample(samples, "quiver_feature_mean", field="clicks", **v) == \
        pytest.approx(sum(clicks) / len(clicks))
    horror = sum(r["genre"] == "horror" for r in written)
    assert sample(samples, "quiver_quality_violations_total", field="genre", check="allowed",
                  **v) == horror
    assert sample(samples, "quiver_quality_failing", field="rating", check="max_null_rate",
                  **v) == 1
    assert sample(samples, "quiver_quality_failing", field="rating", check="min", **v) == 0
    # A check the field does not declare has no sample.
    assert ("quiver_quality_failing", tuple(sorted(
        {"check": "min", "field": "clicks", **v}.items()))) not in samples


def test_a_view_never_written_has_empty_statistics(http):
    status, doc = http.json("/v1/views/progress/stats")
    assert status == 200
    assert doc["rows"] == {"since_start": 0, "recent": 0}
    assert "since_start" not in doc["fields"][0]


def test_stats_errors(http):
    status, doc = http.json("/v1/views/nope/stats")
    assert status == 404 and "nope" in doc["error"]
    status, doc = http.json("/v1/views/quality@v9/stats")
    assert status == 404
    status, doc = http.json("/v1/views/quality/stats", method="POST", body={})
    assert status == 405
    status, doc = http.json("/v1/views/%zz/stats")
    assert status == 400


def test_statistics_off(tmp_path):
    from quiverd import Quiverd
    s = Quiverd("--statistics", "false")
    try:
        from conftest import Http
        status, doc = Http(s.http_port).json("/v1/views/x/stats")
        assert status == 400 and "statistics are off" in doc["error"]
    finally:
        s.stop()
