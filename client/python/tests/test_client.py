"""The Python client against a real quiverd."""

import numpy as np
import pandas as pd
import pytest

import quiver

DEFINITIONS = {
    "entities": [{"name": "user", "keys": ["user_id"]}, {"name": "item", "keys": ["item_id"]},
                 {"name": "pair", "keys": ["user_id", "item_id"]}],
    "views": [
        {"name": "all_types", "entity": "user", "fields": [
            {"name": "b", "type": "bool"},
            {"name": "i32", "type": "int32", "default": 20},
            {"name": "i64", "type": "int64"},
            {"name": "f32", "type": "float32"},
            {"name": "f64", "type": "float64"},
            {"name": "s", "type": "string", "default": "unknown"},
            {"name": "raw", "type": "bytes"},
            {"name": "vec", "type": "float32[4]", "default": [1, 2, 3, 4]}]},
        {"name": "profile", "entity": "user", "ttl": "1h",
         "fields": [{"name": "count", "type": "int64"}]},
        {"name": "stats", "entity": "item", "ttl": "30m",
         "fields": [{"name": "pop", "type": "float64"}]},
        {"name": "progress", "entity": "pair", "fields": [{"name": "p", "type": "float32"}]},
        {"name": "kept", "entity": "user", "retention": "1h",
         "fields": [{"name": "n", "type": "int64"}]},
    ],
}

NOW = pd.Timestamp.now(tz="UTC").floor("ms")


@pytest.fixture
def q(client):
    client.apply(DEFINITIONS)
    return client


def test_every_type_round_trips(q):
    rows = [
        {"user_id": "u1", "b": True, "i32": -7, "i64": 2**40, "f32": 0.5, "f64": 1e-300,
         "s": "héllo", "raw": b"\x00\xff", "vec": np.array([0.25, 1, 2, 3], np.float32)},
        {"user_id": "u2", "b": False, "i32": 7, "i64": -1, "f32": -2.5, "f64": 3.0,
         "s": "", "raw": b"", "vec": [4, 5, 6, 7]},
    ]
    assert q.put("all_types", rows) == {"applied": 2, "stale": 0, "positions": []}
    f = q.get_online_features("all_types", ["u1", "u2"])
    assert f["b"].tolist() == [True, False]
    assert f["i32"].dtype == np.int32 and f["i32"].tolist() == [-7, 7]
    assert f["i64"].dtype == np.int64 and f["i64"].tolist() == [2**40, -1]
    assert f["f32"].dtype == np.float32 and f["f32"].tolist() == [0.5, -2.5]
    assert f["f64"].tolist() == [1e-300, 3.0]
    assert f["s"].tolist() == ["héllo", ""]
    assert f["raw"].tolist() == [b"\x00\xff", b""]
    assert f["vec"].tolist() == [[0.25, 1, 2, 3], [4, 5, 6, 7]]
    assert not any(m.any() for m in f.missing.values())
    assert f.found["all_types"].tolist() == [True, True]


def test_vectors_are_zero_copy_views_of_the_response(q):
    q.put("all_types", [{"user_id": f"u{i}", "vec": [i, i, i, i]} for i in range(100)])
    f = q.get_online_features(["all_types:vec"], [f"u{i}" for i in range(100)])
    vec = f["all_types:vec"]
    assert vec.shape == (100, 4) and vec.dtype == np.float32
    assert not vec.flags.owndata
    base = vec
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    assert isinstance(base, (bytes, bytearray, memoryview))  # the received frame
    assert vec[37].tolist() == [37, 37, 37, 37]


def test_defaults_and_missing_flags(q):
    q.put("all_types", [{"user_id": "u1", "i64": 5}])  # only i64
    f = q.get_online_features(["all_types:i64", "all_types:i32", "all_types:s",
                               "all_types:vec"], ["u1", "nobody"])
    assert f["all_types:i64"].tolist() == [5, 0]
    assert f.missing["all_types:i64"].tolist() == [False, True]
    assert f["all_types:i32"].tolist() == [20, 20]  # the default, flagged
    assert f.missing["all_types:i32"].tolist() == [True, True]
    assert f["all_types:s"].tolist() == ["unknown", "unknown"]
    assert f["all_types:vec"].tolist() == [[1, 2, 3, 4]] * 2
    assert f.found["all_types"].tolist() == [True, False]
    df = q.get_online_features("all_types", ["u1", "nobody"], to_df=True)
    assert list(df["key"]) == ["u1", "nobody"] and list(df["i64"]) == [5, 0]


def test_put_takes_dataframes_with_event_times_and_batches(q):
    frame = pd.DataFrame({
        "user_id": ["a", "b", "c", "a"],
        "count": [1, 2, 3, 4],
        "event_timestamp": [NOW - pd.Timedelta("10min"), NOW, NOW, NOW - pd.Timedelta("20min")],
    })
    assert q.put("profile", frame, batch_rows=3) == {"applied": 3, "stale": 1, "positions": []}
    f = q.get_online_features("profile", ["a", "b", "c"])
    assert f["count"].tolist() == [1, 2, 3]
    assert f.event_time_ms["profile"][1] == NOW.value // 1_000_000
    q.put("progress", [{"user_id": "u1", "item_id": "i9", "p": 0.75}])
    got = q.get_online_features("progress", [("u1", "i9")])
    assert got["p"].tolist() == [0.75]
    by_dict = q.get_online_features("progress", {"user_id": ["u1"], "item_id": ["i9"]})
    assert by_dict["p"].tolist() == [0.75]


def test_historical_features_match_pandas_merge_asof(q):
    rng = np.random.default_rng(5)
    base = NOW - pd.Timedelta("1d")
    # Distinct times on a coarse grid: TTL boundaries are hit exactly.
    user_events = pd.DataFrame({
        "user_id": [f"u{i % 20}" for i in range(400)],
        "event_timestamp": base + pd.to_timedelta(rng.permutation(400) * 5, unit="min"),
        "count": np.arange(400),
    })
    item_events = pd.DataFrame({
        "item_id": [f"i{i % 10}" for i in range(200)],
        "event_timestamp": base + pd.to_timedelta(rng.permutation(200) * 10 + 3, unit="min"),
        "pop": rng.random(200),
    })
    q.put("profile", user_events)
    q.put("stats", item_events)
    labels = pd.DataFrame({
        "user_id": [f"u{i}" for i in rng.integers(0, 25, 2000)],  # u20..u24 never written
        "item_id": [f"i{i}" for i in rng.integers(0, 10, 2000)],
        "event_timestamp": base + pd.to_timedelta(rng.integers(-60, 2100, 2000) * 5, unit="min"),
        "label": rng.integers(0, 2, 2000),
    })
    train = q.get_historical_features(labels, ["profile:count", "stats:pop"], batch_rows=300)
    assert list(train.columns[:4]) == list(labels.columns)
    assert train["label"].tolist() == labels["label"].tolist()

    def reference(events, key, value, ttl):
        left = labels.reset_index().sort_values("event_timestamp", kind="mergesort")
        right = events.sort_values("event_timestamp", kind="mergesort")
        joined = pd.merge_asof(left, right[[key, "event_timestamp", value]], on="event_timestamp",
                               by=key, direction="backward",
                               tolerance=ttl - pd.Timedelta("1ms"))  # event > t - ttl
        return joined.sort_values("index")[value].to_numpy()

    expect_count = reference(user_events, "user_id", "count", pd.Timedelta("1h"))
    expect_pop = reference(item_events, "item_id", "pop", pd.Timedelta("30m"))
    missing_count = np.isnan(expect_count)
    assert (train["profile:count__missing"].to_numpy() == missing_count).all()
    assert (train["profile:count"].to_numpy()[~missing_count] == expect_count[~missing_count]).all()
    assert (train["profile:count"].to_numpy()[missing_count] == 0).all()  # the default
    missing_pop = np.isnan(expect_pop)
    assert (train["stats:pop__missing"].to_numpy() == missing_pop).all()
    assert np.allclose(train["stats:pop"].to_numpy()[~missing_pop], expect_pop[~missing_pop])
    assert 0 < missing_count.sum() < len(labels) and 0 < missing_pop.sum() < len(labels)


def test_historical_features_keep_the_labels_order_for_every_type(q):
    # Rows go to the server sorted by each view's entity; they must come
    # back in the labels' order, vectors and strings included.
    users = [f"u{i}" for i in range(1, 13)]
    q.put("all_types", [{"user_id": u, "s": u * 2, "vec": [len(u), i, 0, 1]}
                        for i, u in enumerate(users)])
    q.put("progress", [{"user_id": u, "item_id": f"i{9 - i}", "p": i / 4}
                       for i, u in enumerate(users)])
    rng = np.random.default_rng(9)
    picks = rng.integers(0, len(users) + 2, 500)  # 12, 13: never written
    labels = pd.DataFrame({
        "item_id": [f"i{9 - i}" for i in picks],
        "user_id": [f"u{i + 1}" for i in picks],
        "event_timestamp": [NOW + pd.Timedelta("1h")] * 500,
    })
    train = q.get_historical_features(
        labels, ["all_types:s", "progress:p", "all_types:vec"], batch_rows=7)
    known = picks < len(users)
    assert train["all_types:s"].tolist() == [
        users[i] * 2 if i < len(users) else "unknown" for i in picks]
    assert train["progress:p"].tolist() == [i / 4 if i < len(users) else 0 for i in picks]
    assert [v.tolist() for v in train["all_types:vec"]] == [
        [len(users[i]), i, 0, 1] if i < len(users) else [1, 2, 3, 4] for i in picks]
    assert (train["progress:p__missing"].to_numpy() == ~known).all()


def test_errors_carry_the_server_code_and_message(q):
    with pytest.raises(quiver.QuiverError) as e:
        q.get_online_features("nope", ["x"])
    assert e.value.code == "NotFound" and "unknown view 'nope'" in e.value.message
    with pytest.raises(quiver.QuiverError) as e:
        q.get_online_features(["profile:nope"], ["x"])
    assert e.value.code == "NotFound"
    with pytest.raises(quiver.QuiverError) as e:
        q.get_online_features("progress", [("u1",)])
    assert e.value.code == "InvalidArgument" and "expected 2 values" in e.value.message
    with pytest.raises(quiver.QuiverError) as e:
        q.put("profile", [{"user_id": "u1", "count": 1, "bogus": 2}])
    assert e.value.code == "NotFound"
    labels = pd.DataFrame({"user_id": ["u1"], "event_timestamp": [NOW]})
    with pytest.raises(quiver.QuiverError) as e:
        q.get_historical_features(labels, ["stats:pop"])
    assert e.value.code == "InvalidArgument" and "item_id" in e.value.message
    q.ping()  # the connection is still good


def test_reconnects_after_the_server_restarts(server, q):
    q.put("profile", [{"user_id": "u1", "count": 9}])
    server.stop()
    server.start()  # same port, same data: the next call reconnects by itself
    assert q.get_online_features("profile", ["u1"])["count"].tolist() == [9]
    server.stop()
    with pytest.raises(quiver.QuiverError) as e:
        q.get_online_features("profile", ["u1"])
    assert e.value.code == "Unavailable" and "cannot connect" in e.value.message
    server.start()
    assert q.get_online_features("profile", ["u1"])["count"].tolist() == [9]


def test_monitoring_documents(q):
    q.put("profile", [{"user_id": "m%d" % i, "count": i} for i in range(200)])
    stats = q.stats("profile")
    count = {f["name"]: f for f in stats["fields"]}["count"]["since_start"]
    assert count["count"] == 200
    assert count["mean"] == 99.5
    assert any(v["view"].startswith("profile@") for v in q.freshness()["views"])
    captured = q.capture_baseline("profile")
    assert captured["baseline"]["source"] == "captured"
    drift = q.drift("profile")
    fields = {f["name"]: f for f in drift["views"][0]["fields"]}
    assert fields["count"]["count"] == 200 and not fields["count"]["drifting"]
    assert q.clear_baseline("profile")["cleared"] is True
    with pytest.raises(quiver.QuiverError, match="NotFound"):
        q.stats("nope")


def test_status_and_compaction_apply_the_retention(q):
    status = q.status()
    assert status["durability"] == q.durability and status["server_version"] == q.server_version
    assert status["kafka"] is None  # no --kafka-brokers
    assert status["window_entities"] >= 0 and status["window_bytes"] >= 0
    assert status["compaction"]["finished"] == 0 and not status["compaction"]["running"]
    hours = [NOW - pd.Timedelta(h, "h") for h in (3, 2, 0)]
    for n, t in enumerate(hours):
        q.put("kept", [{"user_id": "a", "n": n}], event_time=t)
    q.put("kept", [{"user_id": "old", "n": 7}], event_time=hours[0])
    status = q.status()
    assert status["rows"] >= 2
    memory = status["memory"]  # what --max-memory counts, by part
    assert memory["rows"] == status["memory_bytes"] > 0 and memory["max_memory"] == 0
    assert memory["total"] == sum(memory[p] for p in ("rows", "windows", "history", "clients",
                                                       "transactions", "dead_letters"))
    labels = pd.DataFrame({"user_id": ["a", "a", "old"],
                           "event_timestamp": [hours[0], hours[1], NOW]})

    def as_of():
        train = q.get_historical_features(labels, ["kept:n"])
        return [None if m else v for v, m in zip(train["kept:n"], train["kept:n__missing"])]
    assert as_of() == [0, 1, 7]
    compaction = q.compact()
    assert compaction["finished"] == 1 and compaction["last_error"] == ""
    assert compaction["last_seconds"] >= 0 and compaction["started_ms"] > 0
    # Versions past the hour are gone, but never an entity's newest.
    assert as_of() == [None, None, 7]
    assert q.compact(wait=False) is None
