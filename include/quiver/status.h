// Status and Result<T>: how every quiver API reports failure. No exception
// crosses a quiver API; a function that can fail returns one of these.
// Both are plain values, safe to copy and move between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace quiver {

// Wire-stable codes: the same numbers travel in the protocol's Response.code.
enum class StatusCode : uint16_t {
  kOk = 0,
  kInvalidArgument = 1,     // the request itself is wrong (bad value, wrong type)
  kNotFound = 2,            // unknown view, entity or field
  kAlreadyExists = 3,       // a definition conflicts with an existing one
  kFailedPrecondition = 4,  // state does not allow it (e.g. protocol version)
  kResourceExhausted = 5,   // memory limit, frame too large
  kUnavailable = 6,         // connection lost, server shutting down
  kInternal = 7,            // a bug: please report it
  kProtocolError = 8,       // malformed frame; the connection is closed
  kIoError = 9,             // the operating system refused (socket, disk)
  kUnauthenticated = 10,    // the server requires a password (requirepass) not given
};

std::string_view StatusCodeName(StatusCode code);

// What kind of error, finer than its code, where a front end must tell the
// client something specific: Redis's error codes ("-WRONGTYPE …"). The kind
// is data, set where the error arises; no front end parses a message to
// learn it. Most errors have none. A message never repeats its kind: each
// front end writes the kind on its wire (the RESP prefix, the native
// message's first word).
enum class ErrorKind : uint8_t {
  kNone = 0,
  kWrongType,     // an operation against a key holding another kind of value
  kOutOfMemory,   // the memory limit refuses a write
  kNoAuth,        // authentication is required first
  kWrongPass,     // the password (or user and password) is wrong
  kNoPermission,  // the user may not run this command or touch this key
  kReadOnly,      // this server does not accept writes
  kBusy,          // the server is busy (a script is running)
  kMisconf,       // writes are refused: the disk failed (Redis's MISCONF)
  kClusterDown,   // the cluster's changelog cannot take the write (Redis's CLUSTERDOWN)
  kLoading,       // a cluster member catching up refuses reads (Redis's LOADING)
};

// The kind's Redis error code ("WRONGTYPE", "OOM", …); "" for kNone.
std::string_view ErrorKindName(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(StatusCode code, ErrorKind kind, std::string message)
      : code_(code), kind_(kind), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status ProtocolError(std::string m) { return {StatusCode::kProtocolError, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }

  // Errors of a kind, each with the code it travels with.
  static Status WrongType(std::string m) {
    return {StatusCode::kFailedPrecondition, ErrorKind::kWrongType, std::move(m)};
  }
  static Status OutOfMemory(std::string m) {
    return {StatusCode::kResourceExhausted, ErrorKind::kOutOfMemory, std::move(m)};
  }
  static Status NoAuth(std::string m) {
    return {StatusCode::kUnauthenticated, ErrorKind::kNoAuth, std::move(m)};
  }
  static Status WrongPass(std::string m) {
    return {StatusCode::kUnauthenticated, ErrorKind::kWrongPass, std::move(m)};
  }
  static Status NoPermission(std::string m) {
    return {StatusCode::kFailedPrecondition, ErrorKind::kNoPermission, std::move(m)};
  }
  static Status ReadOnly(std::string m) {
    return {StatusCode::kFailedPrecondition, ErrorKind::kReadOnly, std::move(m)};
  }
  static Status Busy(std::string m) {
    return {StatusCode::kUnavailable, ErrorKind::kBusy, std::move(m)};
  }
  static Status Misconf(std::string m) {
    return {StatusCode::kUnavailable, ErrorKind::kMisconf, std::move(m)};
  }
  static Status ClusterDown(std::string m) {
    return {StatusCode::kUnavailable, ErrorKind::kClusterDown, std::move(m)};
  }
  static Status Loading(std::string m) {
    return {StatusCode::kUnavailable, ErrorKind::kLoading, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }

  // The message preceded by the kind's name, if it has one: "OOM write
  // refused …", as the native protocol carries it.
  std::string KindAndMessage() const;
  // "NotFound: unknown view 'x'", "ResourceExhausted: OOM write refused …",
  // or "OK".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  ErrorKind kind_ = ErrorKind::kNone;
  std::string message_;
};

// Holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

inline std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kInternal:
      return "Internal";
    case StatusCode::kProtocolError:
      return "ProtocolError";
    case StatusCode::kIoError:
      return "IoError";
    case StatusCode::kUnauthenticated:
      return "Unauthenticated";
  }
  return "Unknown";
}

inline std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "";
    case ErrorKind::kWrongType:
      return "WRONGTYPE";
    case ErrorKind::kOutOfMemory:
      return "OOM";
    case ErrorKind::kNoAuth:
      return "NOAUTH";
    case ErrorKind::kWrongPass:
      return "WRONGPASS";
    case ErrorKind::kNoPermission:
      return "NOPERM";
    case ErrorKind::kReadOnly:
      return "READONLY";
    case ErrorKind::kBusy:
      return "BUSY";
    case ErrorKind::kMisconf:
      return "MISCONF";
    case ErrorKind::kClusterDown:
      return "CLUSTERDOWN";
    case ErrorKind::kLoading:
      return "LOADING";
  }
  return "";
}

inline std::string Status::KindAndMessage() const {
  if (kind_ == ErrorKind::kNone) return message_;
  std::string s(ErrorKindName(kind_));
  s += ' ';
  s += message_;
  return s;
}

inline std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(StatusCodeName(code_));
  s += ": ";
  s += KindAndMessage();
  return s;
}

}  // namespace quiver

// Propagates a non-OK Status from an expression returning Status.
#define QUIVER_RETURN_IF_ERROR(expr) \
  do {                               \
    ::quiver::Status _qs = (expr);   \
    if (!_qs.ok()) return _qs;       \
  } while (0)

#define QUIVER_CONCAT_INNER(a, b) a##b
#define QUIVER_CONCAT(a, b) QUIVER_CONCAT_INNER(a, b)
// Assigns the value of a Result<T> expression to lhs or returns its Status.
#define QUIVER_ASSIGN_OR_RETURN(lhs, expr) \
  QUIVER_ASSIGN_OR_RETURN_IMPL(QUIVER_CONCAT(_qr_, __LINE__), lhs, expr)
#define QUIVER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
