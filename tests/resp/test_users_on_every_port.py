"""The RESP port's users on the native and HTTP ports: for each kind of
request, a user allowed and a user denied, with per-view permissions as
key patterns over the feature rows' names (quiver:<view>:*), on the native
port (the Python client), over HTTP (Basic with the user's name, Bearer
with the default user's password) and on RESP (the rows as hashes); every
denial in ACL LOG, with the port it came from."""

import base64
import json
import urllib.error
import urllib.request

import pandas as pd
import pytest
import redis

import quiver
from conftest import Quiverd

DEFINITIONS = """
entities:
  - {name: user, keys: [user_id]}
  - {name: item, keys: [item_id]}
views:
  - name: user_profile
    version: 1
    entity: user
    fields:
      - {name: age, type: int64}
  - name: item_stats
    version: 1
    entity: item
    fields:
      - {name: clicks, type: int64}
  - name: secret_scores
    version: 1
    entity: user
    fields:
      - {name: score, type: float64}
"""

PW = "pw-123"
USERS = {
    # reads user_* and item_* everywhere, nothing else
    "ranker": ["on", ">" + PW, "%R~quiver:user_*", "%R~quiver:item_*", "+@read"],
    # writes every view, reads none
    "pipeline": ["on", ">" + PW, "%W~quiver:*", "+@write"],
    # applies definitions and runs the server
    "admin": ["on", ">" + PW, "+@admin", "+quiver|monitor"],
}


@pytest.fixture(scope="module")
def server():
    s = Quiverd.with_definitions(DEFINITIONS, "--requirepass", "root-pw")
    admin = redis.Redis(port=s.resp_port, password="root-pw", socket_timeout=30)
    for name, rules in USERS.items():
        admin.execute_command("ACL", "SETUSER", name, *rules)
    with quiver.Client(port=s.port, password="root-pw") as root:
        root.put("user_profile", [{"user_id": "u1", "age": 30}])
        root.put("item_stats", [{"item_id": "i1", "clicks": 5}])
        root.put("secret_scores", [{"user_id": "u1", "score": 0.5}])
    yield s
    s.stop()


@pytest.fixture
def admin(server):
    c = redis.Redis(port=server.resp_port, password="root-pw", socket_timeout=30)
    c.acl_log_reset()
    yield c
    c.close()


def native(server, user):
    return quiver.Client(port=server.port, user=user, password=PW)


def denied(call):
    """The NoPermission error a call raises, or None if it succeeds."""
    try:
        call()
        return None
    except quiver.QuiverError as e:
        assert "NOPERM" in str(e), e
        return str(e)


def test_a_reader_reads_its_views_and_nothing_else(server):
    with native(server, "ranker") as q:
        assert denied(lambda: q.get_online_features(["user_profile:age"], {"user_id": ["u1"]})) \
            is None
        assert denied(lambda: q.get_online_features(["item_stats:clicks"], {"item_id": ["i1"]})) \
            is None
        assert "read the view 'secret_scores'" in denied(
            lambda: q.get_online_features(["secret_scores:score"], {"user_id": ["u1"]}))
        assert "'quiver|put'" in denied(lambda: q.put("user_profile", [{"user_id": "u2",
                                                                        "age": 1}]))
        assert denied(lambda: q.views()) is None  # the views' descriptions: every user's
        assert "'quiver|compact'" in denied(lambda: q.compact())
        labels = pd.DataFrame({"user_id": ["u1"], "event_timestamp": [2_000_000_000_000]})
        assert denied(lambda: q.get_historical_features(labels, ["user_profile:age"])) is None
        assert "secret_scores" in denied(
            lambda: q.get_historical_features(labels, ["user_profile:age",
                                                       "secret_scores:score"]))


def test_a_writer_writes_and_cannot_read(server):
    with native(server, "pipeline") as q:
        assert denied(lambda: q.put("secret_scores", [{"user_id": "u9", "score": 1.0}])) is None
        assert denied(lambda: q.delete("secret_scores", ["u9"])) is None
        assert "'quiver|get'" in denied(
            lambda: q.get_online_features(["user_profile:age"], {"user_id": ["u1"]}))
        assert "'quiver|apply'" in denied(lambda: q.apply(DEFINITIONS))


def test_an_admin_applies_and_monitors_but_reads_no_rows(server):
    with native(server, "admin") as q:
        assert denied(lambda: q.apply(DEFINITIONS)) is None
        assert denied(lambda: q.status()) is None
        assert "'quiver|get'" in denied(
            lambda: q.get_online_features(["user_profile:age"], {"user_id": ["u1"]}))


def test_a_wrong_password_and_a_deleted_user(server, admin):
    with pytest.raises(quiver.QuiverError, match="invalid username-password pair"):
        quiver.Client(port=server.port, user="ranker", password="wrong")
    with pytest.raises(quiver.QuiverError, match="Unauthenticated|NoAuth|password"):
        quiver.Client(port=server.port)  # the default user needs root-pw
    admin.execute_command("ACL", "SETUSER", "temp", "on", ">" + PW, "+@all", "~*")
    with native(server, "temp") as q:
        q.views()
        admin.execute_command("ACL", "DELUSER", "temp")
        with pytest.raises(quiver.QuiverError, match="was deleted"):
            q.views()
    entries = admin.acl_log()
    assert any(e["reason"] == "auth" and e["context"] == "native" and e["username"] == "ranker"
               for e in entries)


def http(server, path, user=None, password=PW, bearer=None, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", data=body)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    if bearer is not None:
        request.add_header("Authorization", "Bearer " + bearer)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_http_checks_the_same_users(server, admin):
    assert http(server, "/v1/features/user_profile/u1", "ranker")[0] == 200
    status, body = http(server, "/v1/features/secret_scores/u1", "ranker")
    assert status == 403 and "secret_scores" in json.dumps(body)
    batch = json.dumps({"view": "secret_scores", "keys": ["u1"]}).encode()
    assert http(server, "/v1/features", "ranker", body=batch)[0] == 403
    assert http(server, "/metrics", "ranker")[0] == 403  # monitor: not @read
    assert http(server, "/v1/freshness", "admin")[0] == 200
    assert http(server, "/v1/views", "pipeline")[0] == 200  # every user's
    assert http(server, "/v1/drift", "pipeline")[0] == 403
    assert http(server, "/v1/features/user_profile/u1", "ranker", password="wrong")[0] == 401
    assert http(server, "/v1/features/user_profile/u1", bearer="root-pw")[0] == 200
    assert http(server, "/v1/features/user_profile/u1")[0] == 401
    assert http(server, "/health")[0] == 200  # always
    entries = admin.acl_log()
    assert {(e["reason"], e["context"], e["object"], e["username"]) for e in entries} >= {
        ("key", "http", "quiver:secret_scores:*", "ranker"),
        ("command", "http", "quiver|monitor", "ranker"),
        ("auth", "http", "authorization", "ranker"),
    }


def test_resp_reads_rows_by_the_same_patterns(server):
    c = redis.Redis(port=server.resp_port, username="ranker", password=PW, socket_timeout=30)
    assert c.hgetall("quiver:user_profile:u1") == {b"age": b"30"}
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.hgetall("quiver:secret_scores:u1")
