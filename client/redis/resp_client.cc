#include "client/redis/resp_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace quiver::redis {

namespace {

constexpr size_t kMaxBulk = 1u << 30;      // a DUMP payload may be large
constexpr int64_t kMaxElements = 1 << 24;  // of one array
constexpr int kMaxDepth = 16;

// The line at the front of in (without its CRLF), or npos if incomplete.
size_t LineEnd(std::string_view in) {
  return in.find("\r\n");
}

Status Malformed(std::string_view why) {
  return Status::InvalidArgument("the server's reply is malformed: " + std::string(why));
}

Result<size_t> Parse(std::string_view in, Reply* out, int depth) {
  if (depth > kMaxDepth) return Malformed("nested too deep");
  const size_t end = LineEnd(in);
  if (end == std::string_view::npos) return size_t{0};
  const std::string_view line = in.substr(1, end - 1);
  size_t used = end + 2;
  int64_t n = 0;
  const auto number = [&]() {
    const auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
    return ec == std::errc() && p == line.data() + line.size();
  };
  switch (in[0]) {
    case '+':
    case '-':
      out->kind = in[0] == '+' ? Reply::Kind::kStatus : Reply::Kind::kError;
      out->text.assign(line);
      return used;
    case ':':
      if (!number()) return Malformed("an integer is no number");
      out->kind = Reply::Kind::kInteger, out->integer = n;
      return used;
    case '$':
      if (!number() || n < -1 || n > static_cast<int64_t>(kMaxBulk))
        return Malformed("bulk length");
      if (n == -1) {
        out->kind = Reply::Kind::kNil;
        return used;
      }
      if (in.size() < used + static_cast<size_t>(n) + 2) return size_t{0};
      out->kind = Reply::Kind::kBulk;
      out->text.assign(in.substr(used, static_cast<size_t>(n)));
      return used + static_cast<size_t>(n) + 2;
    case '*':
      if (!number() || n < -1 || n > kMaxElements) return Malformed("array length");
      out->kind = n == -1 ? Reply::Kind::kNil : Reply::Kind::kArray;
      // Each element takes at least 3 bytes: reserve no more than could be there.
      out->elements.reserve(static_cast<size_t>(std::min<int64_t>(
          std::max<int64_t>(n, 0), static_cast<int64_t>((in.size() - used) / 3))));
      for (int64_t i = 0; i < n; ++i) {
        Reply& e = out->elements.emplace_back();
        Result<size_t> took = Parse(in.substr(used), &e, depth + 1);
        if (!took.ok() || *took == 0) return took;
        used += *took;
      }
      return used;
    default:
      return Malformed("an unknown reply type");
  }
}

Status Errno(std::string_view what) {
  return Status::Unavailable(std::string(what) + ": " + std::strerror(errno));
}

bool WaitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1) == 1;
}

Result<int> Dial(const RespClient::Options& o) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(o.port);
  if (const int rc = ::getaddrinfo(o.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("cannot resolve " + o.host + ": " + gai_strerror(rc));
  }
  Status last = Status::Unavailable("no address for " + o.host);
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const timeval tv{o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      ::freeaddrinfo(found);
      return fd;
    }
    last = Errno("cannot connect to " + o.host + ":" + port);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return last;
}

}  // namespace

Result<size_t> ParseReply(std::string_view in, Reply* out) {
  if (in.empty()) return size_t{0};
  *out = Reply{};
  return Parse(in, out, 0);
}

Result<std::unique_ptr<RespClient>> RespClient::Connect(const Options& options) {
  QUIVER_ASSIGN_OR_RETURN(int fd, Dial(options));
  std::unique_ptr<RespClient> c(new RespClient(fd, options.timeout_ms));
  if (std::string error;
      options.tls.enabled && !c->tls_.Start(fd, options.host, options.tls, &error)) {
    return Status::Unavailable("TLS handshake with " + options.host + ":" +
                               std::to_string(options.port) + " failed: " + error);
  }
  if (options.password.empty()) return c;
  Result<Reply> auth = options.user.empty() ? c->Call({"AUTH", options.password})
                                            : c->Call({"AUTH", options.user, options.password});
  if (!auth.ok()) return auth.status();
  if (auth->is_error()) return Status::Unauthenticated("AUTH failed: " + auth->text);
  return c;
}

RespClient::~RespClient() {
  tls_.Close();
  ::close(fd_);
}

void RespClient::Append(std::span<const std::string_view> args) {
  out_.append("*").append(std::to_string(args.size())).append("\r\n");
  for (std::string_view a : args)
    out_.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
}

Status RespClient::Flush() {
  size_t sent = 0;
  while (sent < out_.size()) {
    const ssize_t n = tls_.Send(fd_, out_.data() + sent, out_.size() - sent);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {  // EAGAIN: the send timeout passed
      return Errno("send");
    }
  }
  out_.clear();
  return Status::Ok();
}

Status RespClient::Receive() {
  if (!tls_.Pending() && !WaitFor(fd_, POLLIN, timeout_ms_))
    return Status::Unavailable("no reply within " + std::to_string(timeout_ms_) + " ms");
  if (in_pos_ > 0 && in_pos_ == in_.size()) in_.clear(), in_pos_ = 0;
  char buf[64 * 1024];
  const ssize_t n = tls_.Receive(fd_, buf, sizeof buf);
  if (n == 0) return Status::Unavailable("the server closed the connection");
  if (n < 0) return errno == EINTR ? Status::Ok() : Errno("recv");
  in_.append(buf, static_cast<size_t>(n));
  return Status::Ok();
}

Result<Reply> RespClient::Read() {
  for (;;) {
    Reply reply;
    QUIVER_ASSIGN_OR_RETURN(size_t used, ParseReply(std::string_view(in_).substr(in_pos_), &reply));
    if (used > 0) {
      in_pos_ += used;
      if (in_pos_ > (1u << 20) && in_pos_ * 2 > in_.size()) in_.erase(0, in_pos_), in_pos_ = 0;
      return reply;
    }
    QUIVER_RETURN_IF_ERROR(Receive());
  }
}

Result<Reply> RespClient::Call(std::initializer_list<std::string_view> args) {
  Append(args);
  QUIVER_RETURN_IF_ERROR(Flush());
  return Read();
}

}  // namespace quiver::redis
