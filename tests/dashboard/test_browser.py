"""The dashboard in a real Chromium (headless, driven by Selenium) against a
real quiverd ingesting from Kafka: every page loads without a console
error, the registry shows the applied views, the charts draw, a drifting
feature and a stale view are flagged on the overview, the lookup shows a
written row with its history, Kafka's lag is drawn. The screenshots of
docs/dashboard.md are taken here (QUIVER_SCREENSHOTS=docs/images)."""

import time

import pytest

from conftest import Http, produce, wait_for, watch_events, write, write_items

CHARTS = "canvas[data-chart]"


@pytest.fixture(scope="module")
def loaded(server, kafka):
    """The server with what the pages show: users, items, a stream."""
    write(server, "profile", [{"user_id": "u%d" % i, "visits": i, "score": i / 10,
                               "country": ["fr", "de", "us"][i % 3]} for i in range(200)])
    write_items(server, 2000, mean=100, seed=1)
    write(server, "item_ranking", [{"item_id": "i%d" % i, "rank": i} for i in range(50)])
    produce(kafka.bootstrap, watch_events(0, 3000, int(time.time() * 1000) - 300_000, step_ms=100))
    http = Http(server.http_port)
    wait_for(lambda: http.ok("/v1/status")["kafka"]["events"] >= 3000, "events not ingested")
    return server


def assert_charts_drawn(browser, at_least):
    canvases = browser.js("return [...document.querySelectorAll(arguments[0])]"
                          ".map(c => c.dataset.chart)", CHARTS)
    assert len(canvases) >= at_least, canvases
    for i, name in enumerate(canvases):
        selector = "%s:nth-of-type(1)" % CHARTS
        pixels = browser.js("""
            const c = [...document.querySelectorAll(arguments[0])][arguments[1]];
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
            return n;""", CHARTS, i)
        assert pixels > 500, (name, pixels, selector)


def test_the_overview_loads_and_draws(loaded, browser):
    browser.open(loaded.http_port, "#/overview")
    assert browser.text("#status-cards").count("\n") >= 6
    assert "sync" in browser.text("#status-cards")
    browser.wait("document.querySelector('#memory .bar span')", "no memory bar")
    assert_charts_drawn(browser, 3)
    assert browser.errors() == []


def test_the_registry_shows_the_applied_views(loaded, browser):
    browser.open(loaded.http_port, "#/registry")
    rows = browser.js("return [...document.querySelectorAll('#registry tbody tr')]"
                      ".map(r => r.dataset.view)")
    assert sorted(rows) == ["item_ranking@v1", "items@v1", "profile@v1", "quick@v1",
                            "user_activity@v1"]
    profile = browser.text('#registry tr[data-view="profile@v1"]')
    assert "growth-team" in profile and "core" in profile and "1h" in profile
    # Search by tag, owner or name.
    for query, expected in (("catalog", ["items@v1"]), ("growth", ["profile@v1"]),
                            ("activity", ["user_activity@v1"])):
        browser.js("const s = document.getElementById('registry-search');"
                   "s.value = arguments[0]; s.dispatchEvent(new Event('input'));", query)
        shown = browser.js("return [...document.querySelectorAll('#registry tbody tr:not(.hidden)')]"
                           ".map(r => r.dataset.view)")
        assert shown == expected, query
    # The lineage: items -> item_ranking, the topic -> user_activity.
    nodes = browser.js("return [...document.querySelectorAll('#lineage text')].map(t => t.textContent)")
    assert sorted(nodes) == ["item_ranking", "items", "topic:watch_events", "user_activity"]
    assert browser.js("return document.querySelectorAll('#lineage path').length") == 2
    assert browser.errors() == []


def test_a_view_page_shows_its_fields_freshness_and_write_rate(loaded, browser):
    browser.open(loaded.http_port, "#/view/items")
    assert browser.js("return [...document.querySelectorAll('#fields tbody tr')]"
                      ".map(r => r.dataset.field)") == ["popularity", "genre"]
    assert "allowed action|comedy|drama" in browser.text('#fields tr[data-field="genre"]')
    assert_charts_drawn(browser, 2)
    browser.go("#/view/user_activity")
    assert "watch_events keyed by" in browser.text("dl.meta")
    assert "sum($.minutes) over 1h hop 10m" in browser.text('#fields tr[data-field="minutes_1h"]')
    assert browser.errors() == []


def test_a_drifting_feature_is_flagged_first_on_the_overview(loaded, browser):
    write_items(loaded, 2000, mean=160, seed=2, first=100_000)  # six stddevs above expected
    browser.open(loaded.http_port, "#/overview")
    browser.wait("document.querySelector('#drifting-list li[data-feature=\"items@v1:popularity\"]')",
                 "the drifting feature is not listed on the overview")
    assert "psi" in browser.text("#drifting")
    assert_charts_drawn(browser, 3)
    browser.screenshot("dashboard-overview")
    # Its page: the distribution against the baseline, and drift over time.
    browser.go("#/feature/items@v1/popularity")
    assert "yes" in browser.text("#drift-now")
    datasets = browser.js("return Chart.getChart(document.querySelector('canvas[data-chart^=\"Distribution\"]'))"
                          ".data.datasets.map(d => d.label)")
    assert datasets == ["recent", "since start", "baseline"]
    assert_charts_drawn(browser, 2)
    browser.screenshot("dashboard-feature")
    browser.go("#/feature/items@v1/genre")
    assert browser.js("return [...document.querySelectorAll('#categories tbody tr')].length") == 3
    assert browser.errors() == []


def test_a_stale_view_shows_past_its_sla(loaded, browser):
    write(loaded, "quick", [{"user_id": "u1", "x": 1}])
    http = Http(loaded.http_port)
    # The view's SLA is 1 s: wait until the server itself counts the row late.
    wait_for(lambda: any(v["view"] == "quick@v1" and v["past_sla"] == 1
                         for v in http.ok("/v1/freshness")["views"]), "quick never went stale")
    browser.open(loaded.http_port, "#/overview")
    browser.wait("document.querySelector('#stale-list li[data-view=\"quick@v1\"]')",
                 "the stale view is not listed")
    assert "1 of 1 rows older than 1s" in browser.text("#stale")
    browser.go("#/view/quick")
    assert browser.js("return document.getElementById('past-sla').classList.contains('bad')")
    assert browser.errors() == []


def test_the_lookup_shows_a_written_row_and_its_history(loaded, browser):
    for visits in (3, 9, 4, 12, 7):
        write(loaded, "profile", [{"user_id": "look", "visits": visits, "score": visits / 2}])
    browser.open(loaded.http_port, "#/lookup/profile@v1/look")
    assert "Found" in browser.text("#lookup-state") and "5 versions" in browser.text("#lookup-state")
    assert browser.text('#lookup-row tr[data-field="visits"]').startswith("visits\t7")
    assert browser.drawn_pixels('#lookup-row tr[data-field="visits"] canvas') > 20
    # Typed in the form, as a person would.
    browser.js("document.getElementById('lookup-key').value = 'u5';"
               "document.body.dataset.ready = '';"
               "document.querySelector('#lookup-form button').click();")
    browser.wait_ready("lookup")
    assert "Found" in browser.text("#lookup-state")
    assert "fr" in browser.text('#lookup-row tr[data-field="country"]') or \
        "de" in browser.text('#lookup-row tr[data-field="country"]') or \
        "us" in browser.text('#lookup-row tr[data-field="country"]')
    browser.go("#/lookup/profile@v1/nobody")
    assert "No row for this key" in browser.text("#lookup-state")
    assert browser.errors() == []


def lag_seen(http):
    return any(lag for p in http.ok("/v1/series?part=kafka")["partitions"]
               for lag in p["lag"] if lag)


def test_kafka_lag_ingestion_and_malformed_events(loaded, browser, kafka):
    produce(kafka.bootstrap, ["u1\t{broken", "u2\tnot json"])
    http = Http(loaded.http_port)
    wait_for(lambda: http.ok("/v1/status")["kafka"]["malformed"]["bad_json"] >= 2,
             "the malformed events are not counted")
    # A backlog of recent events, fetched 512 bytes at a time: it drains
    # over a second or two, which samples every 100 ms see as lag.
    produce(kafka.bootstrap, watch_events(10_000, 20_000, int(time.time() * 1000), step_ms=0),
            one_per_batch=True)
    wait_for(lambda: http.ok("/v1/status")["kafka"]["events"] >= 23_000, "the backlog is not ingested")
    assert lag_seen(http), "no sample saw the backlog as lag"
    # Drained: the last sample of each partition is no lag.
    wait_for(lambda: all(p["lag"][-1] == 0 for p in http.ok("/v1/series?part=kafka")["partitions"]),
             "the lag did not come back to 0")
    browser.open(loaded.http_port, "#/kafka")
    assert "running" in browser.text("#kafka-cards")
    assert "bad_json: 2" in browser.text("#malformed")
    lag = browser.js("return Chart.getChart(document.querySelector('canvas[data-chart=\"Lag per partition\"]'))"
                     ".data.datasets.map(d => d.label)")
    assert sorted(lag) == ["watch-events/0", "watch-events/1"]
    assert_charts_drawn(browser, 4)
    browser.screenshot("dashboard-kafka")
    assert browser.errors() == []
