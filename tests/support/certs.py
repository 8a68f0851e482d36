"""Test certificates, made with the openssl command at test time (no key
is committed): a CA; a server certificate for 127.0.0.1 and localhost;
client certificates (their common names name RESP users); another CA with
its own server and client certificates (which the first CA does not
vouch for); an expired server certificate and an expired client one."""

import os
import subprocess
import textwrap


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Certs:
    def __init__(self, directory):
        self.dir = directory
        self._ca("ca")
        self._ca("other-ca")
        self.server = self.issue("server", "localhost", "ca", server=True)
        self.client = self.issue("client", "tlsuser", "ca")
        self.other_server = self.issue("other-server", "localhost", "other-ca", server=True)
        self.other_client = self.issue("other-client", "tlsuser", "other-ca")
        self.expired_server = self.issue("expired-server", "localhost", "ca", server=True,
                                         expired=True)
        self.expired_client = self.issue("expired-client", "tlsuser", "ca", expired=True)
        self.ca = self.path("ca.crt")
        self.other_ca = self.path("other-ca.crt")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _ca(self, name):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.crt", "-days", "30", "-subj", f"/CN=quiver test {name}",
                 cwd=self.dir)

    def issue(self, name, common_name, ca, server=False, expired=False, passphrase=None):
        """Makes name.key and name.crt, signed by ca; returns (crt, key)."""
        key_args = ["-passout", f"pass:{passphrase}"] if passphrase else ["-nodes"]
        _openssl("req", "-newkey", "rsa:2048", *key_args, "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", f"/CN={common_name}", cwd=self.dir)
        ext = f"{name}.ext"
        with open(self.path(ext), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server else
                    "extendedKeyUsage=clientAuth\n")
        if expired:
            self._sign_expired(name, ca, ext)
        else:
            _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey",
                     f"{ca}.key", "-CAcreateserial", "-out", f"{name}.crt", "-days", "30",
                     "-extfile", ext, cwd=self.dir)
        return self.path(f"{name}.crt"), self.path(f"{name}.key")

    def _sign_expired(self, name, ca, ext):
        """`openssl ca` sets a validity period in the past."""
        db = f"{name}-db"
        os.makedirs(self.path(db), exist_ok=True)
        open(self.path(f"{db}/index.txt"), "w").close()
        with open(self.path(f"{db}/serial"), "w") as f:
            f.write("1000\n")
        with open(self.path(f"{db}/ca.cnf"), "w") as f:
            f.write(textwrap.dedent(f"""\
                [ca]
                default_ca = test
                [test]
                database = {db}/index.txt
                serial = {db}/serial
                new_certs_dir = {db}
                default_md = sha256
                policy = any
                [any]
                commonName = supplied
                """))
        _openssl("ca", "-batch", "-config", f"{db}/ca.cnf", "-cert", f"{ca}.crt", "-keyfile",
                 f"{ca}.key", "-in", f"{name}.csr", "-out", f"{name}.crt", "-startdate",
                 "20200101000000Z", "-enddate", "20200102000000Z", "-extfile", ext,
                 cwd=self.dir)
