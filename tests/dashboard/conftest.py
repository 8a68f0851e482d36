"""pytest fixtures for the dashboard: a real quiverd (its time series
sampled every 200 ms) ingesting from librdkafka's mock Kafka cluster, the
JSON documents over urllib, and Debian's Chromium driven headless by
Selenium (chromium, chromium-driver, python3-selenium)."""

import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import pytest
import quiver

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from kafka_mock import KafkaMock  # noqa: E402
from quiverd import Quiverd, wait_for  # noqa: E402

TOPIC = "watch-events"
DEFINITIONS = """
sources:
  - {name: watch_events, kafka: {topic: watch-events}, format: json, event_time: "$.ts"}
entities:
  - {name: user, keys: [user_id]}
  - {name: item, keys: [item_id]}
views:
  - name: profile
    version: 1
    entity: user
    owner: growth-team
    tags: [core, users]
    description: What the product knows of a user
    freshness: 1h
    fields:
      - {name: visits, type: int64, default: 0, description: Sessions so far}
      - {name: score, type: float64}
      - {name: country, type: string}
  - name: items
    version: 1
    entity: item
    owner: catalog-team
    tags: [catalog]
    fields:
      - {name: popularity, type: float64, expected: {mean: 100, stddev: 10}}
      - {name: genre, type: string, checks: {allowed: [drama, comedy, action]}}
  - name: item_ranking
    version: 1
    entity: item
    depends_on: [items]
    description: Derived from items by the ranking job
    fields:
      - {name: rank, type: int64}
  - name: quick
    version: 1
    entity: user
    freshness: 1s
    fields:
      - {name: x, type: int64}
  - name: user_activity
    version: 1
    entity: user
    source: watch_events
    keys: {user_id: "$.userId"}
    fields:
      - {name: watches, type: int64, agg: count}
      - {name: minutes_1h, type: float64, agg: sum, of: "$.minutes", window: 1h, hop: 10m}
"""
GENRES = ["drama", "comedy", "action"]


class Http:
    """Requests to the HTTP port; replies as (status, headers, body)."""

    def __init__(self, port, auth=None):
        self.base = "http://127.0.0.1:%d" % port
        self.auth = auth  # (user, password) for Basic, or None

    def request(self, path, body=None, headers=None, method=None):
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=dict(headers or {}))
        if self.auth:
            token = base64.b64encode(("%s:%s" % self.auth).encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as reply:
                return reply.status, reply.headers, reply.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def json(self, path, body=None, headers=None):
        status, _, text = self.request(
            path, None if body is None else json.dumps(body).encode(), headers)
        return status, json.loads(text)

    def ok(self, path):
        status, doc = self.json(path)
        assert status == 200, (path, doc)
        return doc


def write_items(server, n, mean, seed, first=0):
    rng = random.Random(seed)
    rows = [{"item_id": "i%d" % i, "popularity": rng.gauss(mean, 10),
             "genre": rng.choice(GENRES)} for i in range(first, first + n)]
    with quiver.Client(port=server.port) as client:
        assert client.put("items", rows)["applied"] == n


def write(server, view, rows):
    with quiver.Client(port=server.port) as client:
        assert client.put(view, rows)["applied"] == len(rows)


def produce(bootstrap, lines, one_per_batch=False):
    """Messages (key TAB value) to the source topic, by kcat from outside;
    one_per_batch: each message in a record batch of its own."""
    extra = ["-X", "batch.num.messages=1", "-X", "linger.ms=0"] if one_per_batch else []
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", TOPIC, "-K", "\t", *extra],
                   input="\n".join(lines).encode(), check=True, timeout=60)


def watch_events(first, count, start_ms, step_ms=1000):
    lines = []
    for n in range(first, first + count):
        user = "u%d" % (n % 50)
        event = {"userId": user, "minutes": n % 17 + 0.5, "ts": start_ms + n * step_ms}
        lines.append("%s\t%s" % (user, json.dumps(event)))
    return lines


def many_views(views, fields):
    """Definitions of `views` views of `fields` fields each (every third a
    float64 with expected statistics, so a drift baseline; an int64; a
    string), in chains of ten by depends_on (view_000 <- view_001 ...)."""
    lines = ["entities:", "  - {name: user, keys: [user_id]}", "views:"]
    for v in range(views):
        lines += ["  - name: view_%03d" % v, "    entity: user", "    owner: team-%d" % (v % 7),
                  "    tags: [t%d, many]" % (v % 5), "    freshness: 1h"]
        if v % 10:
            lines.append("    depends_on: [view_%03d]" % (v - 1))
        lines.append("    fields:")
        for f in range(fields):
            kind = ("float64", "int64", "string")[f % 3]
            extra = ", expected: {mean: 10, stddev: 2}" if kind == "float64" else ""
            lines.append("      - {name: f%02d, type: %s%s}" % (f, kind, extra))
    return "\n".join(lines) + "\n"


def definitions_file(text):
    path = os.path.join(tempfile.mkdtemp(prefix="quiver-dash-"), "features.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.fixture(scope="module")
def kafka():
    k = KafkaMock(brokers=1, topics=[(TOPIC, 2)])
    yield k
    k.stop()


@pytest.fixture(scope="module")
def server(kafka):
    # Fetches of at most 512 bytes a partition: a backlog of messages in
    # record batches of one (produce(one_per_batch=True)) drains over
    # seconds, a lag every sample sees.
    s = Quiverd("--features", definitions_file(DEFINITIONS), "--kafka-brokers", kafka.bootstrap,
                "--kafka-config", "max.partition.fetch.bytes=512", "--series-interval", "100ms",
                "--series-drift-interval", "1s")
    yield s
    s.stop()


@pytest.fixture
def http(server):
    return Http(server.http_port)


class Browser:
    """Headless Chromium on one page of a quiverd's dashboard."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        options = Options()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(60)

    def open(self, port, fragment="#/overview", ready=None):
        """Loads the dashboard at a page and waits until that page has drawn
        its data (the page marks <body data-ready="NAME">). A new load each
        time, never a jump within the page already there."""
        self.driver.get("about:blank")
        self.driver.get("http://127.0.0.1:%d/%s" % (port, fragment))
        return self.wait_ready(ready or fragment.strip("#/").split("/")[0] or "overview")

    def go(self, fragment, ready=None):
        """Navigates within the loaded page, as a click on a link does."""
        self.js("document.body.dataset.ready = ''; location.hash = arguments[0];", fragment)
        return self.wait_ready(ready or fragment.strip("#/").split("/")[0])

    def wait_ready(self, name, timeout=60):
        wait_for(lambda: self.js("return document.body.dataset.ready") in (name, name + ":error"),
                 "the dashboard's page %s did not finish drawing" % name, timeout)
        error = self.js("return document.getElementById('error').textContent")
        assert self.js("return document.body.dataset.ready") == name, error
        return self

    def wait(self, condition, what, timeout=60):
        """Waits until a JavaScript expression is true on the page."""
        wait_for(lambda: self.js("return !!(%s)" % condition), what, timeout)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def text(self, selector):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                       selector)

    def drawn_pixels(self, selector):
        """The pixels a canvas has drawn (not transparent): an empty chart has none."""
        return self.js("""
            const c = document.querySelector(arguments[0]);
            if (!c) return -1;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
            return n;""", selector)

    def errors(self):
        """The browser console's errors since the last call (JavaScript
        errors, failed loads, Content-Security-Policy violations)."""
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def screenshot(self, name):
        """Saves a PNG in $QUIVER_SCREENSHOTS (docs/images when the docs'
        pictures are remade), else in a temporary directory."""
        folder = os.environ.get("QUIVER_SCREENSHOTS") or tempfile.mkdtemp(prefix="quiver-shots-")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name + ".png")
        assert self.driver.save_screenshot(path), path
        return path

    def quit(self):
        self.driver.quit()


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.quit()
