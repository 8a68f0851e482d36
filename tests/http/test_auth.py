"""requirepass guards every port of a real quiverd: RESP (AUTH, as Redis),
the native protocol (the password in Hello: the CLI's --password and
$QUIVER_PASSWORD, the Python client's password=) and HTTP (Bearer or Basic,
except /health); CONFIG SET requirepass changes it for all three."""

import base64
import os
import subprocess
import sys

import pytest
import quiver
import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from quiverd import Quiverd  # noqa: E402


@pytest.fixture(scope="module")
def server():
    s = Quiverd("--requirepass", "s3cret")
    yield s
    s.stop()


def get(server, path, authorization=None):
    args = ["curl", "-s", "-o", "/dev/stdout", "-w", "\n%{http_code}",
            "-D", "/dev/stderr", "http://127.0.0.1:%d%s" % (server.http_port, path)]
    if authorization:
        args[1:1] = ["-H", "Authorization: " + authorization]
    done = subprocess.run(args, capture_output=True, timeout=30, check=True)
    body, code = done.stdout.decode().rsplit("\n", 1)
    return int(code), body, done.stderr.decode()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def cli(server, *args, env=None):
    return subprocess.run([server.quiver_cli, "--port", str(server.port), *args],
                          capture_output=True, timeout=60, env=env)


def test_http_needs_the_password_except_health(server):
    assert get(server, "/health")[0] == 200
    code, body, headers = get(server, "/metrics")
    assert code == 401 and "requires a user's password" in body
    assert 'WWW-Authenticate: Basic realm="quiver"' in headers
    assert get(server, "/metrics", "Bearer s3cret")[0] == 200
    assert get(server, "/v1/views", basic("prometheus", "s3cret"))[0] == 200
    code, body, _ = get(server, "/v1/views", "Bearer wrong")
    assert code == 401 and "invalid username-password pair" in body
    assert get(server, "/v1/views", basic("x", "wrong"))[0] == 401
    assert get(server, "/v1/views", "Basic !!!")[0] == 401
    # Refused requests count as errors of the kind they asked for.
    metrics = get(server, "/metrics", "Bearer s3cret")[1]
    assert 'quiver_request_errors_total{front_end="http",kind="views"} 3' in metrics
    assert 'quiver_request_errors_total{front_end="http",kind="metrics"} 1' in metrics
    assert 'quiver_requests_total{front_end="http",kind="other"}' not in metrics


def test_native_clients_need_the_password(server):
    done = cli(server, "views")
    assert done.returncode != 0
    assert b"Unauthenticated: NOAUTH this server requires a password" in done.stderr
    done = cli(server, "--password", "nope", "views")
    assert b"Unauthenticated: WRONGPASS invalid username-password pair" in done.stderr
    assert cli(server, "--password", "s3cret", "ping").returncode == 0
    env = dict(os.environ, QUIVER_PASSWORD="s3cret")
    assert cli(server, "ping", env=env).returncode == 0
    with pytest.raises(quiver.QuiverError) as e:
        quiver.Client(port=server.port)
    assert e.value.code == "Unauthenticated"
    with quiver.Client(port=server.port, password="s3cret") as c:
        c.ping()


def test_resp_needs_auth_and_config_set_changes_every_port(server):
    with pytest.raises(redis.exceptions.AuthenticationError):
        server.client().get("k")
    r = server.client(password="s3cret")
    assert r.set("k", "v")
    r.config_set("requirepass", "n3w")
    try:
        assert get(server, "/v1/views", "Bearer s3cret")[0] == 401
        assert get(server, "/v1/views", "Bearer n3w")[0] == 200
        assert cli(server, "--password", "n3w", "ping").returncode == 0
        assert cli(server, "--password", "s3cret", "ping").returncode != 0
        assert server.client(password="n3w").get("k") == b"v"
    finally:
        server.client(password="n3w").config_set("requirepass", "s3cret")
