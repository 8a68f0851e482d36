"""The dashboard on a server with a password and users: nothing but the
page (a login prompt) and the login itself is served without
credentials; a login session stands for its user, whose permissions still
apply; logging out, or the user's password changing, ends it. Over the
wire, then in Chromium."""

import pytest

from conftest import DEFINITIONS, Http, Quiverd, definitions_file, wait_for, write

PASSWORD = "s3cret-dash"
DATA_PATHS = ["/v1/status", "/v1/series?part=requests", "/v1/views", "/v1/freshness",
              "/v1/drift", "/v1/views/profile/stats", "/v1/views/profile/distribution?field=visits",
              "/v1/history/profile/u1", "/v1/features/profile/u1", "/metrics", "/v1/latency"]
PAGE = {"X-Requested-With": "quiver-dashboard"}


@pytest.fixture(scope="module")
def server():
    s = Quiverd("--features", definitions_file(DEFINITIONS), "--requirepass", PASSWORD,
                "--series-interval", "200ms")
    r = s.client(password=PASSWORD, socket_timeout=30)
    # A reader of the profile view alone, without the monitor request.
    r.execute_command("ACL", "SETUSER", "reader", "on", ">r34d", "%R~quiver:profile*",
                      "+@read", "-@dangerous")
    r.execute_command("ACL", "SETUSER", "watcher", "on", ">w4tch", "+quiver|monitor",
                      "+quiver|get", "+quiver|history", "~*")
    r.close()
    write_as_admin(s)
    yield s
    s.stop()


def write_as_admin(s):
    import quiver
    with quiver.Client(port=s.port, password=PASSWORD) as client:
        assert client.put("profile", [{"user_id": "u1", "visits": 4}])["applied"] == 1


def login(http, user, password):
    """Logs in as the page does; the session's cookie, or None."""
    status, headers, _ = http.request(
        "/v1/login", ('{"user": "%s", "password": "%s"}' % (user, password)).encode(),
        dict(PAGE, **{"Content-Type": "application/json"}))
    if status != 200:
        return None, status
    return headers["Set-Cookie"].split(";")[0], status


def test_without_credentials_only_the_page_and_the_login_are_served(server):
    http = Http(server.http_port)
    for path in DATA_PATHS:
        status, headers, _ = http.request(path)
        assert status == 401, path
        assert headers["WWW-Authenticate"] == 'Basic realm="quiver"', path
        # The page's own requests get no challenge: no browser password prompt.
        status, headers, _ = http.request(path, headers=PAGE)
        assert status == 401 and "WWW-Authenticate" not in headers, path
    for path in ("/", "/assets/app.js", "/assets/app.css", "/assets/chart.min.js"):
        assert http.request(path)[0] == 200, path
    session = http.json("/v1/session")[1]
    assert session["user"] is None and session["login_required"] is True
    assert session["password_required"] is True
    assert http.request("/health")[0] == 200


def test_a_login_session_stands_for_its_user(server):
    http = Http(server.http_port)
    assert login(http, "default", "wrong") == (None, 401)
    cookie, _ = login(http, "watcher", "w4tch")
    assert cookie.startswith("quiver_session=")
    with_cookie = dict(PAGE, Cookie=cookie)
    assert http.request("/v1/status", headers=with_cookie)[0] == 200
    assert http.request("/v1/history/profile/u1", headers=with_cookie)[0] == 200
    assert http.json("/v1/session", headers=with_cookie)[1]["user"] == "watcher"
    # The cookie without the page's header is not a credential (no cross-site use).
    assert http.request("/v1/status", headers={"Cookie": cookie})[0] == 401
    # Logging out ends the session.
    assert http.request("/v1/logout", b"{}", with_cookie)[0] == 200
    assert http.request("/v1/status", headers=with_cookie)[0] == 401


def test_a_session_keeps_its_users_permissions(server):
    http = Http(server.http_port)
    cookie, _ = login(http, "reader", "r34d")
    with_cookie = dict(PAGE, Cookie=cookie)
    assert http.request("/v1/features/profile/u1", headers=with_cookie)[0] == 200
    status, _, body = http.request("/v1/status", headers=with_cookie)
    assert status == 403 and "quiver|monitor" in body
    assert http.request("/v1/features/items/i1", headers=with_cookie)[0] == 403
    # ACL LOG has the denial, with the http context.
    r = server.client(password=PASSWORD, socket_timeout=30)
    entries = r.execute_command("ACL", "LOG")
    r.close()
    assert any(b"reader" in e[e.index(b"username") + 1] for e in entries)


def test_a_session_ends_when_its_password_is_removed(server):
    http = Http(server.http_port)
    r = server.client(password=PASSWORD, socket_timeout=30)
    r.execute_command("ACL", "SETUSER", "temp", "on", ">t3mp", "+@all", "~*")
    cookie, _ = login(http, "temp", "t3mp")
    with_cookie = dict(PAGE, Cookie=cookie)
    assert http.request("/v1/status", headers=with_cookie)[0] == 200
    r.execute_command("ACL", "SETUSER", "temp", "<t3mp", ">other")
    r.close()
    assert http.request("/v1/status", headers=with_cookie)[0] == 401


def test_basic_authorization_still_works_for_scripts(server):
    assert Http(server.http_port, auth=("watcher", "w4tch")).request("/v1/status")[0] == 200
    assert Http(server.http_port, auth=("default", PASSWORD)).request("/v1/series")[0] == 200


def test_the_browser_gets_a_login_prompt_then_the_dashboard(server, browser):
    browser.open(server.http_port, "#/overview", ready="login")
    assert browser.js("return document.getElementById('login').hidden") is False
    assert browser.js("return document.getElementById('main').children.length") == 0
    assert browser.js("return document.getElementById('nav').offsetHeight") == 0  # not shown
    browser.screenshot("dashboard-login")
    assert browser.errors() == []
    # A wrong password is said so; nothing else is shown.
    browser.js("document.getElementById('login-user').value = 'watcher';"
               "document.getElementById('login-password').value = 'nope';"
               "document.getElementById('login-submit').click();")
    browser.wait("!document.getElementById('login-error').hidden", "no error shown")
    assert "Wrong user name or password" in browser.text("#login-error")
    browser.errors()  # the refused login is a failed request in the console: expected here
    browser.js("document.body.dataset.ready = '';"
               "document.getElementById('login-password').value = 'w4tch';"
               "document.getElementById('login-submit').click();")
    browser.wait_ready("overview")
    assert "user watcher" in browser.text("#who")
    assert browser.errors() == []
    # Logging out comes back to the prompt.
    browser.js("document.body.dataset.ready = ''; document.getElementById('logout').click();")
    browser.wait_ready("login")
    assert "Logged out" in browser.text("#login-error")
    assert Http(server.http_port).request("/v1/status", headers=PAGE)[0] == 401
