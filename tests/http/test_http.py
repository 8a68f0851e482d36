"""The HTTP port against a real quiverd: /health, /metrics parsed by
Prometheus's own parser with counts checked against the requests the test
made, feature reads as JSON (GET one, POST a batch) compared with what the
CLI wrote, and bad requests answered with a clear error while the server
keeps serving."""

import base64
import socket
import subprocess
import struct
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families


def put(server, view, key, *assignments, event_time=None):
    extra = ["--event-time", str(event_time)] if event_time is not None else []
    subprocess.run([server.quiver_cli, "--port", str(server.port), "put", view, key, *assignments,
                    *extra], check=True, capture_output=True, timeout=60)


def metrics(http):
    status, headers, text = http.request("/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def sample(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_health(http):
    status, body = http.json("/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["durability"] == "sync"
    assert body["uptime_seconds"] >= 0


def test_health_with_curl(server):
    out = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:%d/health" % server.http_port],
        capture_output=True, check=True, timeout=30).stdout.decode()
    body, code = out.rsplit("\n", 1)
    assert code == "200"
    assert '"status":"ok"' in body


def test_request_counts_are_exact(server, http):
    before = metrics(http)
    r = server.client(db=3)
    for i in range(25):
        r.set("k%d" % i, "v")
    for i in range(10):
        r.get("k%d" % i)
    r.lpush("list", "x")
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.get("list")
    put(server, "profile", "counted", "visits=1")
    after = metrics(http)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("quiver_requests_total", front_end="resp", kind="set") == 25
    assert delta("quiver_requests_total", front_end="resp", kind="get") == 11
    assert delta("quiver_request_errors_total", front_end="resp", kind="get") == 1
    assert delta("quiver_request_errors_total", front_end="resp", kind="set") == 0
    assert delta("quiver_requests_total", front_end="native", kind="put") == 1
    # The histogram holds every request, in cumulative buckets.
    count = sample(after, "quiver_request_duration_seconds_count", front_end="resp", kind="set")
    assert count == sample(after, "quiver_requests_total", front_end="resp", kind="set")
    buckets = sorted((float(labels[-1][1]), value) for (name, labels), value in after.items()
                     if name == "quiver_request_duration_seconds_bucket"
                     and ("kind", "set") in labels and ("front_end", "resp") in labels)
    assert buckets[-1] == (float("inf"), count)
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    assert sample(after, "quiver_request_duration_seconds_sum", front_end="resp", kind="set") > 0
    # Under durability sync every write waited for its fsync.
    assert delta("quiver_commit_wait_seconds_count", front_end="resp") >= 26
    assert delta("quiver_commit_wait_seconds_count", front_end="native") >= 1
    assert sample(after, "quiver_resp_keys", db="3") == 26
    assert sample(after, "quiver_history_healthy") == 1
    assert sample(after, "quiver_online_rows") >= 27
    r.flushdb()
    r.close()


def test_http_requests_are_counted_too(http):
    before = sample(metrics(http), "quiver_requests_total", front_end="http", kind="health")
    for _ in range(3):
        http.request("/health")
    http.request("/no/such/path")
    after = metrics(http)
    assert sample(after, "quiver_requests_total", front_end="http", kind="health") == before + 3
    assert sample(after, "quiver_request_errors_total", front_end="http", kind="other") >= 1


def test_info_commandstats_and_latencystats(server):
    r = server.client(db=4)
    before = r.info("commandstats").get("cmdstat_incr", {}).get("calls", 0)
    for _ in range(7):
        r.execute_command("INCR", "counter")
    stats = r.info("commandstats")
    assert stats["cmdstat_incr"]["calls"] == before + 7
    assert stats["cmdstat_incr"]["usec"] >= 0
    latency = r.info("latencystats")
    assert latency["latency_percentiles_usec_incr"]["p50"] > 0
    assert "cmdstat_incr" not in r.info()  # not part of a plain INFO, as in Redis
    r.flushdb()
    r.close()


def test_views(http):
    status, body = http.json("/v1/views")
    assert status == 200
    views = {v["name"]: v for v in body["views"]}
    assert views["profile"]["entity"] == "user"
    fields = {f["name"]: f for f in views["profile"]["fields"]}
    assert fields["embedding"]["type"] == "float32[2]"
    assert fields["visits"]["default"] == 3
    assert fields["name"]["default"] == "anonymous"


def test_get_one_row_with_every_type(server, http):
    put(server, "profile", "u 1/x", "visits=42", "score=0.1", "name=Zoë \"quoted\"",
        "photo=raw\x01bytes", "active=true", "embedding=1.5,-2")
    status, body = http.json("/v1/features/profile/u%201%2Fx")
    assert status == 200, body
    assert body["view"] == "profile@v1"
    row = body["rows"][0]
    assert row["key"] == "u 1/x"
    assert row["state"] == "found"
    assert row["age_ms"] >= 0
    f = row["features"]
    assert f["visits"] == 42
    assert f32(f["score"]) == f32(0.1)  # the shortest text that reads back as the float32
    assert f["name"] == 'Zoë "quoted"'
    assert base64.b64decode(f["photo"]) == b"raw\x01bytes"
    assert f["active"] is True
    assert f["embedding"] == [1.5, -2.0]
    assert row["defaulted"] == []


def test_get_selected_fields_and_a_missing_entity(http):
    status, body = http.json("/v1/features/profile/nobody?fields=visits,name")
    assert status == 200
    row = body["rows"][0]
    assert row["state"] == "missing"
    assert row["features"] == {"visits": 3, "name": "anonymous"}
    assert row["defaulted"] == ["visits", "name"]


def test_post_a_batch_with_both_key_forms(server, http):
    put(server, "progress", "u1,i1", "done=0.5")
    put(server, "progress", "u2,i2", "done=1")
    status, body = http.json("/v1/features", {
        "view": "progress", "keys": [["u1", "i1"], "u2,i2", ["u3", "i3"]]}, "POST")
    assert status == 200, body
    assert [r["key"] for r in body["rows"]] == ["u1,i1", "u2,i2", "u3,i3"]
    assert [r["state"] for r in body["rows"]] == ["found", "found", "missing"]
    assert [r["features"]["done"] for r in body["rows"]] == [0.5, 1.0, 0.0]


@pytest.mark.parametrize("path,body,method,status,message", [
    ("/v1/features/nosuchview/k", None, None, 404, "nosuchview"),
    ("/v1/features/progress/only-one", None, None, 400, "names 1 join-key value"),
    ("/v1/features/profile/k?fields=nosuchfield", None, None, 404, "nosuchfield"),
    ("/v1/features/profile/bad%zz", None, None, 400, "percent-encoding"),
    ("/v1/features", b"{not json", "POST", 400, "not JSON"),
    ("/v1/features", b'{"view": "profile"}', "POST", 400, "keys"),
    ("/v1/features", b'{"view": "progress", "keys": [["a"]]}', "POST", 400, "join-key values"),
    ("/v1/features", b'{"view": "profile", "keys": [7]}', "POST", 400, "string"),
    ("/v1/features", None, None, 405, "not allowed"),
    ("/metrics", b"x", "POST", 405, "not allowed"),
    ("/nowhere", None, None, 404, "no such path"),
])
def test_bad_requests_get_a_clear_error(http, path, body, method, status, message):
    got, _, text = http.request(path, body, method)
    assert got == status, text
    assert message in text
    assert http.request("/health")[0] == 200


def test_an_oversize_body_is_refused_and_the_server_keeps_serving(http):
    status, _, text = http.request("/v1/features", b"x" * 8192, "POST")
    assert status == 413
    assert "too large" in text
    assert http.request("/health")[0] == 200


def test_garbage_on_the_socket_gets_400_and_a_close(server, http):
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=30) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400")
    assert http.request("/health")[0] == 200


def test_keep_alive_serves_many_requests_on_one_connection(server):
    request = ("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=30) as s:
        s.sendall(request * 5)
        data = b""
        while data.count(b"HTTP/1.1 200") < 5:
            chunk = s.recv(65536)
            assert chunk, "connection closed early"
            data += chunk


def test_latency_percentiles_per_front_end_and_kind(server, http):
    r = server.client()
    for i in range(40):
        r.set("lat%d" % i, "v")
    status, body = http.json("/v1/latency")
    assert status == 200 and body["unit"] == "us"
    kinds = {(k["front_end"], k["kind"]): k for k in body["requests"]}
    sets = kinds[("resp", "set")]
    assert sets["count"] >= 40 and sets["errors"] == 0
    assert 0 < sets["p50"] <= sets["p90"] <= sets["p99"] <= sets["p999"]
    assert sets["p999"] <= sets["max"] * 1.0625
    assert ("http", "latency") in kinds or ("http", "health") in kinds
    assert [c["front_end"] for c in body["commit_waits"]] == ["native", "resp", "http"]


def test_freshness_violations_appear_when_writes_stop(server, http):
    """A view with a 2 s SLA: fresh while written, past its SLA once writes
    stop for longer."""
    put(server, "quick", "a", "x=1")
    put(server, "quick", "b", "x=2")
    time.sleep(1.1)  # measurements are reused for a second
    quick = {v["view"]: v for v in http.json("/v1/freshness")[1]["views"]}["quick@v1"]
    assert (quick["rows"], quick["past_sla"]) == (2, 0)
    time.sleep(2.5)  # no writes for longer than the SLA
    quick = {v["view"]: v for v in http.json("/v1/freshness")[1]["views"]}["quick@v1"]
    assert (quick["rows"], quick["past_sla"], quick["past_sla_ratio"]) == (2, 2, 1)
    assert sample(metrics(http), "quiver_view_past_sla_rows", view="quick@v1") == 2


def test_freshness_against_the_sla(server, http):
    now = int(time.time() * 1000)
    hour = 3600 * 1000
    put(server, "fresh", "recent", "x=1", event_time=now - 10 * 60 * 1000)
    put(server, "fresh", "late", "x=2", event_time=now - 2 * hour)
    put(server, "fresh", "later", "x=3", event_time=now - 3 * hour)
    put(server, "fresh", "gone", "x=4", event_time=now - 30 * hour)  # past the 1d TTL
    time.sleep(1.1)  # measurements are reused for a second
    status, body = http.json("/v1/freshness")
    assert status == 200
    views = {v["view"]: v for v in body["views"]}
    f = views["fresh@v1"]
    assert f["sla_ms"] == hour
    assert (f["rows"], f["expired"], f["past_sla"]) == (3, 1, 2)
    assert f["past_sla_ratio"] == 2 / 3
    # Ages within the histogram's 6.25%, and a few seconds of test time.
    assert 2 * hour <= f["age_ms"]["p50"] <= 2 * hour * 1.0625 + 10000
    assert 3 * hour <= f["age_ms"]["max"] <= 3 * hour + 10000
    assert f["memory_bytes"] > 0
    assert views["profile@v1"]["sla_ms"] == 0
    samples = metrics(http)
    assert sample(samples, "quiver_view_rows", view="fresh@v1") == 3
    assert sample(samples, "quiver_view_expired_rows", view="fresh@v1") == 1
    assert sample(samples, "quiver_view_past_sla_rows", view="fresh@v1") == 2
    assert sample(samples, "quiver_view_freshness_sla_seconds", view="fresh@v1") == 3600
    assert sample(samples, "quiver_view_age_seconds", view="fresh@v1", quantile="1") >= 3 * 3600
    assert ("quiver_view_past_sla_rows", (("view", "profile@v1"),)) not in samples
