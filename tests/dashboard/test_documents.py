"""The JSON documents the dashboard draws, on their own, over the wire:
/v1/status, /v1/series (every part), /v1/views/{view}/distribution,
/v1/history/{view}/{key}, and the page's files."""

import re
import time

from conftest import TOPIC, Http, produce, wait_for, watch_events, write, write_items


def series(http, part, **query):
    q = "&".join("%s=%s" % kv for kv in query.items())
    return http.ok("/v1/series?part=%s%s" % (part, "&" + q if q else ""))


def counted(doc, rates):
    """What a column of rates counted: each rate times its sample's interval."""
    t = doc["t"]
    return sum((r or 0) * (t[i] - t[i - 1]) / 1000 for i, r in enumerate(rates) if i > 0)


def latest_sample_after(http, part, t, **query):
    """The series once a sample taken after t (ms, server time) is in it."""
    doc = {}

    def taken():
        nonlocal doc
        doc = series(http, part, **query)
        return doc["t"] and doc["t"][-1] > t
    wait_for(taken, "no %s sample after %d" % (part, t))
    return doc


def test_status_names_the_server_its_memory_and_kafka(http, kafka):
    doc = http.ok("/v1/status")
    assert doc["durability"] == "sync"
    assert doc["views"] == 5
    assert set(doc["memory"]["parts"]) == {"rows", "windows", "history", "clients",
                                           "transactions", "dead_letters"}
    assert doc["memory"]["total"] == sum(doc["memory"]["parts"].values())
    assert doc["series"] == {"interval_ms": 100, "span_ms": 3600000, "drift_interval_ms": 1000}
    assert doc["kafka"]["brokers"] == kafka.bootstrap
    assert "bad_json" in doc["kafka"]["malformed"]


def test_request_series_count_what_was_served_between_samples(http):
    for _ in range(30):
        http.ok("/v1/views")
    t0 = int(time.time() * 1000)
    doc = latest_sample_after(http, "requests", t0)
    views = [r for r in doc["requests"] if r["front_end"] == "http" and r["kind"] == "views"]
    assert len(views) == 1
    r = views[0]
    assert len(r["rate"]) == len(doc["t"]) == len(r["p99_us"])
    # 30 requests, spread over the samples of 100 ms after them: their rates add up to 30.
    assert counted(doc, r["rate"]) >= 29.9
    assert any(p is not None and p > 0 for p in r["p99_us"])


def test_view_series_show_rows_and_the_write_rate(http, server):
    write(server, "profile", [{"user_id": "s%d" % i, "visits": i} for i in range(40)])
    # Rows come from the table pass, which is repeated at most every 50 times
    # its last duration (slow under the sanitizers), so the count of a sample
    # may be a pass behind; it catches up within a few passes.
    doc = {}

    def counted_rows():
        nonlocal doc
        doc = series(http, "views", view="profile")
        return doc["views"] and doc["views"][0]["rows"][-1] >= 40
    wait_for(counted_rows, "the view's rows are not sampled")
    assert [v["view"] for v in doc["views"]] == ["profile@v1"]
    assert counted(doc, doc["views"][0]["write_rate"]) >= 39.9


def test_memory_series_has_every_part(http):
    doc = series(http, "memory")
    assert set(doc["memory"]) == {"rows", "windows", "history", "clients", "transactions",
                                  "dead_letters"}
    assert all(len(col) == len(doc["t"]) for col in doc["memory"].values())
    newer = series(http, "memory", since=doc["t"][-1])
    assert all(t > doc["t"][-1] for t in newer["t"])


def test_kafka_series_show_ingestion_and_partition_lag(http, kafka):
    produce(kafka.bootstrap, watch_events(0, 400, 1_700_000_000_000) + ["u1\tnot json at all"])
    wait_for(lambda: http.ok("/v1/status")["kafka"]["events"] >= 400, "events not ingested")
    t0 = int(time.time() * 1000)
    doc = latest_sample_after(http, "kafka", t0)
    assert doc["ingesting"] is True
    assert sorted(p["partition"] for p in doc["partitions"]) == [TOPIC + "/0", TOPIC + "/1"]
    assert counted(doc, doc["event_rate"]) >= 399.9
    wait_for(lambda: http.ok("/v1/status")["kafka"]["malformed"]["bad_json"] >= 1,
             "the malformed event is not counted")
    doc = latest_sample_after(http, "kafka", int(time.time() * 1000))
    assert counted(doc, doc["malformed_rate"]) >= 0.99


def test_drift_series_flag_a_shifted_feature(http, server):
    write_items(server, 500, mean=150, seed=7, first=10_000)  # five stddevs above expected
    def drifting():
        doc = series(http, "drift", view="items")
        fields = {f["field"]: f for f in doc["fields"]}
        return "popularity" in fields and fields["popularity"]["drifting"][-1] == 1
    wait_for(drifting, "the shifted popularity is not flagged in the drift series")
    doc = series(http, "drift", view="items@v1")
    assert doc["interval_ms"] == 1000
    assert [f["field"] for f in doc["fields"]] == ["popularity"]  # the one with a baseline


def test_distribution_overlays_the_baseline(http, server):
    write_items(server, 300, mean=100, seed=3, first=20_000)
    doc = http.ok("/v1/views/items/distribution?field=popularity&bins=25")
    assert doc["kind"] == "numeric" and len(doc["edges"]) == 26
    assert doc["baseline"]["source"] == "expected"
    for shares in (doc["windows"]["recent"]["shares"], doc["baseline"]["shares"]):
        assert len(shares) == 25 and abs(sum(shares) - 1) < 1e-6
    cats = http.ok("/v1/views/items@v1/distribution?field=genre")
    assert cats["kind"] == "categorical"
    assert {c["value"] for c in cats["categories"]} == set(["drama", "comedy", "action"])


def test_history_lists_an_entitys_versions_oldest_first(http, server):
    for visits in (1, 5, 2, 8):
        write(server, "profile", [{"user_id": "h1", "visits": visits}])
    doc = http.ok("/v1/history/profile/h1")
    assert [v["features"]["visits"] for v in doc["versions"]] == [1, 5, 2, 8]
    assert doc["view"] == "profile@v1" and doc["key"] == "h1"
    two = http.ok("/v1/history/profile/h1?limit=2&fields=visits")
    assert [v["features"] for v in two["versions"]] == [{"visits": 2}, {"visits": 8}]
    assert http.json("/v1/history/profile/nobody")[1]["versions"] == []


def test_bad_requests_get_a_clear_error(http):
    cases = {
        "/v1/series?part=cpu": (400, "unknown series part 'cpu'"),
        "/v1/series?since=-4": (400, "since must be an integer"),
        "/v1/series?since=abc": (400, "since must be an integer"),
        "/v1/views/items/distribution": (400, "name the field"),
        "/v1/views/items/distribution?field=nope": (404, "no field 'nope'"),
        "/v1/views/nope/distribution?field=x": (404, "nope"),
        "/v1/views/items/distribution?field=genre&bins=100000": (400, "bins must be"),
        "/v1/history/profile/h1?limit=0": (400, "limit must be an integer from 1 to 10000"),
        "/v1/history/nope/h1": (404, "nope"),
        "/v1/history/profile": (404, "/v1/history/{view}/{key}"),
        "/v1/history/profile/%zz": (400, "percent-encoding"),
    }
    for path, (status, text) in cases.items():
        got, doc = http.json(path)
        assert got == status, (path, doc)
        assert text in doc["error"], (path, doc)
    assert http.request("/v1/status", b"{}")[0] == 405


def test_the_page_and_its_files_are_built_in(http):
    status, headers, body = http.request("/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    scripts = re.findall(r'src="([^"]+)"', body)
    assert scripts == ["/assets/chart.min.js", "/assets/app.js"]
    with open("/usr/share/javascript/chart.js/chart.min.js") as f:
        assert http.request("/assets/chart.min.js")[2] == f.read()  # Debian's, as it is
    etag = headers["ETag"]
    assert http.request("/", headers={"If-None-Match": etag})[0] == 304
    assert http.request("/assets/app.css")[1]["Content-Type"] == "text/css; charset=utf-8"
    assert http.request("/assets/missing.js")[0] == 404


def test_session_says_no_login_is_needed_without_a_password(http):
    doc = http.ok("/v1/session")
    assert doc == {"user": "default", "login_required": False, "password_required": False,
                   "statistics": True, "history": True, "series_interval_ms": 100}
