"""Framing and the connection: size-prefixed FlatBuffers frames over TCP,
with the protocol's handshake. Internal to the client."""

import socket
import struct

import flatbuffers

from .errors import QuiverError
from .fb import Hello, HelloReply, Request, RequestBody, Response

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


class Connection:
    """One TCP connection to quiverd. ``call`` sends a request and returns
    its verified Response; ``pipeline`` sends many in one write."""

    def __init__(self, host, port, timeout, client_name, password=None):
        self.host, self.port, self.timeout, self.client_name = host, port, timeout, client_name
        self.password = password
        self.sock = None
        self.next_id = 1
        self.server_version = ""
        self.durability = ""
        self.max_frame_bytes = 64 << 20

    # ---- connection ----

    def open(self):
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as e:
            raise QuiverError("Unavailable",
                              f"cannot connect to quiverd at {self.host}:{self.port}: {e}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
            Hello.Start(b)
            Hello.AddProtocolVersion(b, PROTOCOL_VERSION)
            Hello.AddClientName(b, name)
            if password is not None:
                Hello.AddPassword(b, password)
            return Hello.End(b)

        response = self.call(RequestBody.RequestBody.Hello, body, reconnect=False)
        reply = body_as(response, HelloReply.HelloReply)
        self.server_version = (reply.ServerVersion() or b"").decode()
        self.durability = (reply.Durability() or b"").decode()
        self.max_frame_bytes = reply.MaxFrameBytes()

    # ---- requests ----

    def frame(self, body_type, build_body):
        """Builds one request frame; returns (id, bytes)."""
        b = flatbuffers.Builder(1024)
        body = build_body(b)
        request_id = self.next_id
        self.next_id += 1
        Request.Start(b)
        Request.AddId(b, request_id)
        Request.AddBodyType(b, body_type)
        Request.AddBody(b, body)
        b.FinishSizePrefixed(Request.End(b))
        return request_id, bytes(b.Output())

    def call(self, body_type, build_body, reconnect=True):
        return self.pipeline([(body_type, build_body)], reconnect)[0]

    def pipeline(self, requests, reconnect=True):
        """Sends every (body_type, build_body) in one write and returns their
        Responses in order. A Response with an error code raises QuiverError
        after every answer has been read."""
        frames = [self.frame(t, f) for t, f in requests]
        if self.sock is not None and reconnect and self._closed_by_peer():
            self.close()  # e.g. quiverd restarted while we were idle: reconnect below
        if self.sock is None:
            if not reconnect:
                raise QuiverError("Unavailable", "not connected")
            self.open()
        try:
            self.sock.sendall(b"".join(f for _, f in frames))
            responses = [self._receive(request_id) for request_id, _ in frames]
        except OSError as e:
            self.close()
            raise QuiverError("Unavailable", f"connection to quiverd lost: {e}") from None
        for r in responses:
            if r.Code() != 0:
                raise QuiverError(r.Code(), (r.Message() or b"").decode())
        return responses

    def _closed_by_peer(self):
        """True if the server has closed this (idle) connection."""
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
