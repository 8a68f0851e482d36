"""The dashboard on servers unlike the main suite's: one that keeps no
statistics and no history (--statistics false --durability memory), where
every page still loads without a console error and says what is off; and
one with 100 views of 20 fields (2,000 fields, the size the dashboard is
built for), whose pages all load without an error. How fast they load is
measured by bench/dashboard_bench.py, not here."""

import pytest

from conftest import Quiverd, definitions_file, many_views, write

PAGES = ["#/overview", "#/registry", "#/kafka", "#/lookup"]


@pytest.fixture(scope="module")
def bare():
    s = Quiverd("--features", definitions_file("""
entities:
  - {name: user, keys: [user_id]}
views:
  - name: profile
    entity: user
    fields:
      - {name: visits, type: int64}
"""), "--statistics", "false", "--durability", "memory", "--series-interval", "200ms")
    write(s, "profile", [{"user_id": "u1", "visits": 3}])
    yield s
    s.stop()


def test_without_statistics_or_history_every_page_says_what_is_off(bare, browser):
    for fragment in PAGES + ["#/view/profile", "#/lookup/profile@v1/u1"]:
        browser.open(bare.http_port, fragment)
        assert browser.errors() == [], fragment
    assert "this server keeps no history" in browser.text("main")
    assert "Found" in browser.text("#lookup-state")
    browser.open(bare.http_port, "#/feature/profile@v1/visits")
    assert "Statistics are off" in browser.text("main")
    browser.open(bare.http_port, "#/overview")
    assert "Statistics are off" in browser.text("#drifting")
    browser.open(bare.http_port, "#/kafka")
    assert browser.text("#kafka-off").startswith("This server does not ingest from Kafka")
    assert browser.errors() == []


def test_two_thousand_fields_load_without_errors(browser):
    s = Quiverd("--features", definitions_file(many_views(100, 20)),
                "--series-interval", "200ms")
    try:
        for v in (0, 42, 99):
            write(s, "view_%03d" % v, [{"user_id": "u%d" % i, "f00": 10.0 + i % 5, "f01": i,
                                       "f02": "c%d" % (i % 3)} for i in range(50)])
        browser.open(s.http_port, "#/registry")
        assert browser.js("return document.querySelectorAll('#registry tbody tr').length") == 100
        # Ten chains of ten views (view_000 <- view_001 <- ... view_009, ...).
        assert browser.js("return document.querySelectorAll('#lineage rect').length") == 100
        assert browser.js("return document.querySelectorAll('#lineage path').length") == 90
        for fragment in ("#/overview", "#/view/view_042", "#/feature/view_042@v1/f00",
                         "#/lookup/view_042@v1/u7"):
            browser.open(s.http_port, fragment)
        assert browser.errors() == []
    finally:
        s.stop()
