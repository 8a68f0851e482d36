"""Framing and the connection: size-prefixed FlatBuffers frames over TCP,
with the protocol's handshake. Internal to the client."""

import os
import select
import socket
import ssl
import struct

import flatbuffers

from .errors import QuiverError
from .fb import Hello, HelloReply, Position, Request, RequestBody, Response

PROTOCOL_VERSION = 1


def offsets_vector(builder, offsets):
    """A FlatBuffers vector of already-built tables or strings."""
    builder.StartVector(4, len(offsets), 4)
    for o in reversed(offsets):
        builder.PrependUOffsetTRelative(o)
    return builder.EndVector()


def strings_vector(builder, values):
    """A FlatBuffers vector of strings."""
    return offsets_vector(builder, [builder.CreateString(v) if isinstance(v, str)
                                    else builder.CreateByteVector(v) for v in values])


def parse_servers(host, port, servers=None):
    """[(host, port)] from a list of "host[:port]" (or one string of them
    joined by commas), else from host (which may itself be such a list)."""
    if servers is None:
        servers = host.split(",") if isinstance(host, str) else [host]
    elif isinstance(servers, str):
        servers = servers.split(",")
    out = []
    for s in servers:
        if isinstance(s, tuple):
            out.append((s[0], int(s[1])))
            continue
        s = s.strip()
        if s.startswith("["):  # [v6]:port
            h, _, rest = s[1:].partition("]")
            out.append((h, int(rest[1:]) if rest.startswith(":") else port))
        elif s.count(":") == 1:
            h, _, p = s.partition(":")
            out.append((h, int(p)))
        else:
            out.append((s, port))
    if not out:
        raise QuiverError("InvalidArgument", "no server to connect to")
    return out


class WriteIds:
    """Write ids (docs/cluster.md#retried-writes): a random prefix per
    client, then a counter; 32 hex digits."""

    def __init__(self):
        self.prefix = os.urandom(8).hex()
        self.next = 0

    def __call__(self):
        self.next += 1
        return f"{self.prefix}{self.next - 1:016x}"


class Connection:
    """One TCP connection to quiverd, or to one member of a cluster at a
    time. ``call`` sends a request and returns its verified Response;
    ``pipeline`` sends many in one write. When the server goes away during
    a call, the next server is tried and the requests sent again (reads,
    and writes with their write ids, which a cluster applies once)."""

    def __init__(self, servers, timeout, client_name, password=None, tls=None, user=None):
        self.servers = servers
        self.tls = tls  # an ssl.SSLContext: the connection speaks TLS
        self.current = 0
        self.host, self.port = servers[0]
        self.timeout, self.client_name = timeout, client_name
        self.password = password
        self.user = user
        self.sock = None
        self.next_id = 1
        self.server_version = ""
        self.durability = ""
        self.max_frame_bytes = 64 << 20

    # ---- connection ----

    def open(self):
        """Connects to the current server, else to the next ones in turn."""
        error = None
        for _ in self.servers:
            self.host, self.port = self.servers[self.current]
            try:
                return self._open_one()
            except QuiverError as e:
                error = e
                self.current = (self.current + 1) % len(self.servers)
        raise error

    def _open_one(self):
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as e:
            raise QuiverError("Unavailable",
                              f"cannot connect to quiverd at {self.host}:{self.port}: {e}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
            except (ssl.SSLError, OSError) as e:
                sock.close()
                raise QuiverError("Unavailable", f"TLS handshake with quiverd at "
                                                 f"{self.host}:{self.port} failed: {e}") from None
        self.sock = sock
        try:
            self._handshake()
        except Exception:
            self.close()
            raise

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _handshake(self):
        def body(b):
            name = b.CreateString(self.client_name)
            password = b.CreateString(self.password) if self.password else None
            user = b.CreateString(self.user) if self.user else None
            Hello.Start(b)
            Hello.AddProtocolVersion(b, PROTOCOL_VERSION)
            Hello.AddClientName(b, name)
            if password is not None:
                Hello.AddPassword(b, password)
            if user is not None:
                Hello.AddUser(b, user)
            return Hello.End(b)

        response = self._exchange([self.frame(RequestBody.RequestBody.Hello, body)])[0]
        if response.Code() != 0:
            raise QuiverError(response.Code(), (response.Message() or b"").decode())
        reply = body_as(response, HelloReply.HelloReply)
        self.server_version = (reply.ServerVersion() or b"").decode()
        self.durability = (reply.Durability() or b"").decode()
        self.max_frame_bytes = reply.MaxFrameBytes()

    # ---- requests ----

    def frame(self, body_type, build_body, after=None, after_timeout_ms=0):
        """Builds one request frame; returns (id, bytes). after: changelog
        positions [(partition, offset)] the server applies before serving."""
        b = flatbuffers.Builder(1024)
        body = build_body(b)
        positions = None
        if after:
            Request.StartAfterVector(b, len(after))
            for partition, offset in reversed(after):
                Position.CreatePosition(b, partition, offset)
            positions = b.EndVector()
        request_id = self.next_id
        self.next_id += 1
        Request.Start(b)
        Request.AddId(b, request_id)
        Request.AddBodyType(b, body_type)
        Request.AddBody(b, body)
        if positions is not None:
            Request.AddAfter(b, positions)
            Request.AddAfterTimeoutMs(b, max(1, int(after_timeout_ms)))
        b.FinishSizePrefixed(Request.End(b))
        return request_id, bytes(b.Output())

    def call(self, body_type, build_body, after=None, after_timeout_ms=0, move=True):
        return self.pipeline([(body_type, build_body)], after, after_timeout_ms, move)[0]

    def pipeline(self, requests, after=None, after_timeout_ms=0, move=True):
        """Sends every (body_type, build_body) in one write and returns their
        Responses in order. A Response with an error code raises QuiverError
        after every answer has been read. move: when the server goes away
        (or catches up with a cluster's changelog), send them to the next."""
        frames = [self.frame(t, f, after, after_timeout_ms) for t, f in requests]
        if self.sock is not None and self._closed_by_peer():
            self.close()  # e.g. quiverd restarted while we were idle: reconnect below
        attempts = len(self.servers) if move else 1
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            if self.sock is None:
                self.open()
            try:
                responses = self._exchange(frames)
            except QuiverError as e:
                if e.code != "Unavailable" or last:
                    raise
                self.current = (self.current + 1) % len(self.servers)
                continue
            # A member catching up with the changelog refuses reads: another may serve them.
            if last or not any(r.Code() == 6 and (r.Message() or b"").startswith(b"LOADING ")
                               for r in responses):
                break
            self.close()
            self.current = (self.current + 1) % len(self.servers)
        for r in responses:
            if r.Code() != 0:
                raise QuiverError(r.Code(), (r.Message() or b"").decode())
        return responses

    def _exchange(self, frames):
        """Sends frames and reads their Responses; a lost connection is
        closed and raises Unavailable."""
        try:
            self.sock.sendall(b"".join(f for _, f in frames))
            return [self._receive(request_id) for request_id, _ in frames]
        except OSError as e:
            self.close()
            raise QuiverError("Unavailable",
                              f"connection to quiverd at {self.host}:{self.port} lost: {e}") from None

    def _closed_by_peer(self):
        """True if the server has closed this (idle) connection."""
        if isinstance(self.sock, ssl.SSLSocket):
            # No peeking through TLS: an idle connection that is readable
            # was closed (the server says nothing unasked).
            readable, _, _ = select.select([self.sock], [], [], 0)
            return bool(readable)
        self.sock.setblocking(False)  # with a timeout set, recv would wait for data
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        finally:
            self.sock.settimeout(self.timeout)

    def _read_exactly(self, view):
        got = 0
        while got < len(view):
            n = self.sock.recv_into(view[got:])
            if n == 0:
                raise OSError("the server closed the connection")
            got += n

    def _receive(self, request_id):
        header = bytearray(4)
        self._read_exactly(memoryview(header))
        (size,) = struct.unpack("<I", header)
        if size > self.max_frame_bytes:
            raise QuiverError("ProtocolError", f"answer of {size} bytes is over the frame limit")
        # The whole frame in one buffer, prefix included, so that vectors keep
        # the alignment the server gave them (numpy views them in place).
        buf = bytearray(4 + size)
        buf[:4] = header
        self._read_exactly(memoryview(buf)[4:])
        response = Response.Response.GetRootAs(buf, 4)
        if response.Id() != request_id and response.Id() != 0:
            self.close()
            raise QuiverError("ProtocolError",
                              f"answer to request {response.Id()} while waiting for {request_id}")
        return response


def body_as(response, table_class):
    """The response's body as an instance of a generated table class."""
    table = response.Body()
    reply = table_class()
    reply.Init(table.Bytes, table.Pos)
    return reply
