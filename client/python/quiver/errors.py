"""Errors raised by the quiver client."""

# Numbers match protocol/quiver.fbs StatusCode (and quiver::StatusCode in C++).
STATUS_NAMES = {
    0: "Ok",
    1: "InvalidArgument",
    2: "NotFound",
    3: "AlreadyExists",
    4: "FailedPrecondition",
    5: "ResourceExhausted",
    6: "Unavailable",
    7: "Internal",
    8: "ProtocolError",
    9: "IoError",
    10: "Unauthenticated",
}


class QuiverError(Exception):
    """A request failed. ``code`` is the status name ("NotFound",
    "InvalidArgument", ...), ``message`` the server's (or client's) words."""

    def __init__(self, code, message):
        self.code = STATUS_NAMES.get(code, str(code)) if isinstance(code, int) else code
        self.message = message
        super().__init__(f"{self.code}: {message}")
