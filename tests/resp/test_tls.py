"""TLS on the RESP and native ports, with certificates made by openssl at
test time: redis-cli --tls and redis-py over TLS, mutual TLS (required,
optional, off), what is refused (a CA the client does not trust, a client
certificate of another CA, expired certificates, plain text to a TLS port,
a client that never shakes hands), a certificate's name as the RESP user,
reloads (CONFIG SET and SIGHUP) while clients stay connected, the plain
ports turned off, and the Python client on the native port over TLS."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

import pytest
import redis

from conftest import Quiverd
from quiverd import wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from certs import Certs  # noqa: E402


@pytest.fixture(scope="module")
def certs():
    directory = tempfile.mkdtemp(prefix="quiver-certs-")
    yield Certs(directory)
    shutil.rmtree(directory, ignore_errors=True)


def tls_args(certs, *more, cert=None):
    crt, key = cert or certs.server
    return ("--tls-port", "0", "--tls-native-port", "0", "--tls-http-port", "0",
            "--tls-cert-file", crt,
            "--tls-key-file", key, "--tls-ca-cert-file", certs.ca, *more)


@pytest.fixture(scope="module")
def server(certs):
    s = Quiverd(*tls_args(certs))
    yield s
    s.stop()


def client(server, certs, client_cert="client", ca=None, **kwargs):
    crt, key = getattr(certs, client_cert) if client_cert else (None, None)
    return redis.Redis(port=server.tls_port, ssl=True, ssl_ca_certs=ca or certs.ca,
                       ssl_certfile=crt, ssl_keyfile=key, socket_timeout=30, **kwargs)


def peer_name(port, certs):
    """The common name of the certificate the server shows."""
    context = ssl.create_default_context(cafile=certs.ca)
    context.load_cert_chain(*certs.client)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as s:
            return dict(x[0] for x in s.getpeercert()["subject"])["commonName"]


def test_redis_py_over_tls(server, certs):
    c = client(server, certs)
    assert c.set("k", "v") and c.get("k") == b"v"
    plain = server.client(socket_timeout=30)
    assert plain.get("k") == b"v"  # the same server, the same data
    c.close()


def test_redis_cli_over_tls(server, certs):
    crt, key = certs.client
    out = subprocess.run(["redis-cli", "--tls", "--cacert", certs.ca, "--cert", crt, "--key", key,
                          "-p", str(server.tls_port), "PING"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "PONG"


def refused(make):
    """Whether a client's first command fails at the connection."""
    try:
        make().ping()
        return False
    except (redis.ConnectionError, ssl.SSLError, OSError):
        return True


def test_what_is_refused(server, certs):
    # A server the client's CA does not vouch for.
    assert refused(lambda: client(server, certs, ca=certs.other_ca))
    # A client certificate of another CA, an expired one, none at all.
    assert refused(lambda: client(server, certs, client_cert="other_client"))
    assert refused(lambda: client(server, certs, client_cert="expired_client"))
    assert refused(lambda: client(server, certs, client_cert=None))
    assert not refused(lambda: client(server, certs))


def test_plain_text_to_a_tls_port_gets_no_answer(server):
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=30) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert s.recv(1024) == b""  # closed, nothing said


def test_an_expired_server_certificate_is_refused_by_clients(certs):
    s = Quiverd(*tls_args(certs, cert=certs.expired_server))
    try:
        assert refused(lambda: client(s, certs))
    finally:
        s.stop()


@pytest.mark.parametrize("mode", ["optional", "no"])
def test_client_certificates_optional_or_not_asked(certs, mode):
    s = Quiverd(*tls_args(certs, "--tls-auth-clients", mode))
    try:
        assert not refused(lambda: client(s, certs, client_cert=None))
        assert not refused(lambda: client(s, certs))
        # Optional still refuses a certificate the CA did not sign.
        assert refused(lambda: client(s, certs, client_cert="other_client")) == (mode == "optional")
    finally:
        s.stop()


def test_a_certificates_name_is_the_user(certs):
    s = Quiverd(*tls_args(certs, "--tls-auth-clients-user", "CN", "--requirepass", "pw"))
    try:
        admin = redis.Redis(port=s.resp_port, password="pw", socket_timeout=30)
        admin.execute_command("ACL", "SETUSER", "tlsuser", "on", "+@all", "~*")
        c = client(s, certs)
        assert c.execute_command("ACL", "WHOAMI") == b"tlsuser"  # no AUTH needed
        # The native port and HTTPS too: no password, yet served.
        import quiver
        context = ssl.create_default_context(cafile=certs.ca)
        context.load_cert_chain(*certs.client)
        with quiver.Client(port=s.tls_native_port, tls=context) as q:
            assert q.views() == []
        crt, key = certs.client
        url = f"https://127.0.0.1:{s.tls_http_port}/v1/views"
        https = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                "--cacert", certs.ca, "--cert", crt, "--key", key, url],
                               capture_output=True, text=True, timeout=60)
        assert https.stdout == "200", https.stderr
        admin.execute_command("ACL", "SETUSER", "tlsuser", "off")
        with pytest.raises(redis.AuthenticationError):
            client(s, certs).get("k")  # an off user is not taken: default, which needs AUTH
    finally:
        s.stop()


def test_reload_while_clients_stay_connected(certs):
    crt, key = certs.server
    live_crt, live_key = certs.path("live.crt"), certs.path("live.key")
    shutil.copy(crt, live_crt)
    shutil.copy(key, live_key)
    s = Quiverd(*tls_args(certs, cert=(live_crt, live_key)))
    try:
        before = client(s, certs)
        assert before.set("k", "1")
        assert peer_name(s.tls_port, certs) == "localhost"
        admin = s.client(socket_timeout=30)
        # What would make no context is refused, and the old one stays.
        with pytest.raises(redis.ResponseError, match="tls-cert-file"):
            admin.config_set("tls-cert-file", certs.path("nosuch.crt"))
        renamed = certs.issue("renamed", "renamed.example", "ca", server=True)
        with pytest.raises(redis.ResponseError, match="does not match"):
            admin.config_set("tls-key-file", renamed[1])  # the current certificate's it is not
        assert peer_name(s.tls_port, certs) == "localhost"
        # A certificate and its key, together.
        admin.execute_command("CONFIG", "SET", "tls-cert-file", renamed[0], "tls-key-file",
                              renamed[1])
        assert peer_name(s.tls_port, certs) == "renamed.example"
        assert before.get("k") == b"1"  # the old connection goes on
        # SIGHUP: the files are read again.
        hup = certs.issue("hup", "hup.example", "ca", server=True)
        shutil.copy(hup[0], renamed[0])
        shutil.copy(hup[1], renamed[1])
        s.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: peer_name(s.tls_port, certs) == "hup.example", "SIGHUP reloaded")
        assert before.get("k") == b"1"
    finally:
        s.stop()


def test_a_handshake_that_never_comes_is_given_up(server):
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=60) as s:
        assert s.recv(1024) == b""  # closed by quiverd (10 s), not by this test's timeout


def test_plain_ports_can_be_turned_off(certs):
    s = Quiverd(*tls_args(certs, "--resp-port", "off", "--port", "off"))
    try:
        assert s.resp_port == 0 and s.port == 0
        assert client(s, certs).ping()
    finally:
        s.stop()


def test_python_client_over_tls_on_the_native_port(server, certs):
    import quiver  # the build's (PYTHONPATH)
    context = ssl.create_default_context(cafile=certs.ca)
    context.load_cert_chain(*certs.client)
    with quiver.Client(port=server.tls_native_port, tls=context) as q:
        assert q.server_version
    plain_context = ssl.create_default_context(cafile=certs.other_ca)
    with pytest.raises(quiver.QuiverError, match="TLS handshake"):
        quiver.Client(port=server.tls_native_port, tls=plain_context)


def quiver_cli(server, *args):
    return subprocess.run([server.quiver_cli, "--port", str(server.tls_native_port), *args],
                          capture_output=True, text=True, timeout=60)


def test_the_cli_and_cpp_client_over_tls(server, certs):
    crt, key = certs.client
    ok = quiver_cli(server, "--tls", "--cacert", certs.ca, "--cert", crt, "--key", key, "ping")
    assert ok.returncode == 0 and ok.stdout.startswith("PONG quiverd"), ok.stderr
    # By IP address: the server's certificate names 127.0.0.1 too; by a
    # name it does not carry, refused.
    wrong_name = quiver_cli(server, "--host", "127.0.0.1", "--tls", "--cacert", certs.ca,
                            "--cert", crt, "--key", key, "--sni", "other.example", "ping")
    assert wrong_name.returncode != 0
    assert "could not be verified: hostname mismatch" in wrong_name.stderr
    wrong_ca = quiver_cli(server, "--tls", "--cacert", certs.other_ca, "--cert", crt, "--key",
                          key, "ping")
    assert wrong_ca.returncode != 0
    assert "failed in the TLS handshake: the server's certificate could not be verified" \
        in wrong_ca.stderr
    no_cert = quiver_cli(server, "--tls", "--cacert", certs.ca, "ping")  # mutual TLS required
    assert no_cert.returncode != 0 and "Unavailable" in no_cert.stderr
    plain = quiver_cli(server, "ping")  # plain text to the TLS port: no answer
    assert plain.returncode != 0


def test_https(server, certs):
    """The HTTP port over TLS: curl with and without a client certificate,
    and a plain request to it."""
    crt, key = certs.client
    url = f"https://127.0.0.1:{server.tls_http_port}/health"
    ok = subprocess.run(["curl", "-sS", "--cacert", certs.ca, "--cert", crt, "--key", key, url],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and '"status":"ok"' in ok.stdout, ok.stderr
    no_cert = subprocess.run(["curl", "-sS", "--cacert", certs.ca, url], capture_output=True,
                             text=True, timeout=60)
    assert no_cert.returncode != 0  # mutual TLS
    plain = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{server.tls_http_port}/health"],
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode != 0 and '"status"' not in plain.stdout


def test_secrets_are_not_shown(certs, tmp_path):
    """Kafka's secrets in CONFIG GET kafka_config, and a key's passphrase
    read from a file (not on the command line)."""
    crt, key = certs.issue("locked", "localhost", "ca", server=True, passphrase="open-sesame")
    pass_file = tmp_path / "pass"
    pass_file.write_text("open-sesame\n")
    s = Quiverd("--tls-port", "0", "--tls-cert-file", crt, "--tls-key-file", key,
                "--tls-key-file-pass-file", str(pass_file), "--tls-auth-clients", "no",
                "--kafka-config", "security.protocol=sasl_ssl,sasl.password=topsecret,"
                "ssl.key.password=alsosecret,session.timeout.ms=6000")
    try:
        admin = s.client(socket_timeout=30)
        shown = admin.config_get("kafka_config")["kafka_config"]
        assert "topsecret" not in shown and "alsosecret" not in shown
        assert "sasl.password=(hidden)" in shown and "session.timeout.ms=6000" in shown
        with open(f"/proc/{s.proc.pid}/cmdline", "rb") as f:
            assert b"open-sesame" not in f.read()
        assert "open-sesame" not in str(admin.info("everything"))
        c = redis.Redis(port=s.tls_port, ssl=True, ssl_ca_certs=certs.ca, socket_timeout=30)
        assert c.ping()  # the encrypted key was opened with the passphrase
    finally:
        s.stop()


def test_import_redis_over_tls_on_both_ends(server, certs):
    """quiver import-redis from a Redis over TLS into quiverd's TLS ports."""
    from conftest import RedisServer, free_port
    crt, key = certs.server
    tls_port = free_port()
    source = RedisServer("--tls-port", str(tls_port), "--tls-cert-file", crt, "--tls-key-file", key,
                         "--tls-ca-cert-file", certs.ca)
    try:
        source.client.set("imported:a", "1")
        source.client.rpush("imported:l", "x", "y")
        ccrt, ckey = certs.client
        done = subprocess.run(
            [server.quiver_cli, "--port", str(server.tls_native_port), "--tls", "--cacert",
             certs.ca, "--cert", ccrt, "--key", ckey, "import-redis",
             f"127.0.0.1:{tls_port}", "--source-tls", "--source-cacert", certs.ca,
             "--source-cert", ccrt, "--source-key", ckey, "--resp-port", str(server.tls_port),
             "--no-progress"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        c = client(server, certs)
        assert c.get("imported:a") == b"1" and c.lrange("imported:l", 0, -1) == [b"x", b"y"]
        wrong = subprocess.run(
            [server.quiver_cli, "import-redis", f"127.0.0.1:{tls_port}", "--source-tls",
             "--source-cacert", certs.other_ca, "--resp-port", str(server.tls_port)],
            capture_output=True, text=True, timeout=120)
        assert wrong.returncode != 0 and "could not be verified" in wrong.stderr
    finally:
        source.stop()
