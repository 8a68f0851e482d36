#include "protocol/resp.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace quiver::protocol {

namespace {

Status ProtocolError(std::string_view what) {
  return Status::ProtocolError("Protocol error: " + std::string(what));
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// One argument of an inline line starting at line[*p] (not a blank):
// unescapes it to line[*w...] and advances both. False on bad quoting.
bool SplitOneArg(std::span<char> line, size_t* p, size_t* w) {
  const size_t n = line.size();
  auto at = [&](size_t i) { return i < n ? line[i] : '\0'; };
  char quote = 0;  // the open quote, if any
  for (;;) {
    const char c = at(*p);
    if (quote == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') return true;
      if (c == '"' || c == '\'') {
        quote = c;
      } else {
        line[(*w)++] = c;
      }
      ++*p;
      continue;
    }
    if (c == '\0') return false;  // unterminated
    if (c == quote) {             // must end the argument
      ++*p;
      return at(*p) == '\0' || IsBlank(at(*p));
    }
    if (quote == '"' && c == '\\' && at(*p + 1) == 'x' && IsHexDigit(at(*p + 2)) &&
        IsHexDigit(at(*p + 3))) {
      line[(*w)++] = static_cast<char>(HexValue(at(*p + 2)) * 16 + HexValue(at(*p + 3)));
      *p += 4;
    } else if (quote == '"' && c == '\\' && at(*p + 1) != '\0') {
      line[(*w)++] = Unescape(at(*p + 1));
      *p += 2;
    } else if (quote == '\'' && c == '\\' && at(*p + 1) == '\'') {
      line[(*w)++] = '\'';
      *p += 2;
    } else {
      line[(*w)++] = c;
      ++*p;
    }
  }
}

}  // namespace

bool ParseStrictInt(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  if (text.size() > 1 && (text[0] == '0' || (text[0] == '-' && text[1] == '0'))) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool SplitInlineArgs(std::span<char> line, std::vector<std::string_view>* args) {
  args->clear();
  // Redis splits a C string: an embedded NUL ends the line.
  if (const void* nul = std::memchr(line.data(), '\0', line.size())) {
    line = line.first(static_cast<const char*>(nul) - line.data());
  }
  size_t p = 0;
  for (;;) {
    while (p < line.size() && IsBlank(line[p]))
      ++p;
    if (p >= line.size()) return true;
    size_t w = p;
    const size_t start = p;
    if (!SplitOneArg(line, &p, &w)) {
      args->clear();
      return false;
    }
    args->emplace_back(line.data() + start, w - start);
  }
}

RespReader::RespReader(RespLimits limits) : limits_(limits) {}

void RespReader::Reserve(size_t bytes) {
  const size_t used = end_ - begin_;
  if (capacity_ - used >= bytes && begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, used);
  } else {
    // No doubling here: WritableSpace asks for at most as much again as is
    // buffered, which grows the buffer geometrically with the bytes.
    const size_t capacity = std::max(kInitialBytes, used + bytes);
    auto fresh = std::make_unique_for_overwrite<char[]>(capacity);
    if (used > 0) std::memcpy(fresh.get(), buf_.get() + begin_, used);
    buf_ = std::move(fresh);
    capacity_ = capacity;
  }
  begin_ = 0;
  end_ = used;
}

std::span<char> RespReader::WritableSpace(size_t min_bytes) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (capacity_ > kShrinkAbove) {  // a large request is done: give its memory back
      buf_.reset();
      capacity_ = 0;
    }
  }
  // Room for what the pending request still needs, but never more than the
  // bytes already received: a declared length is only a promise.
  const size_t missing = need_ > buffered() ? need_ - buffered() : 0;
  const size_t wanted = std::max(min_bytes, std::min(missing, buffered()));
  if (capacity_ - end_ < wanted) Reserve(wanted);
  return {buf_.get() + end_, capacity_ - end_};
}

void RespReader::Commit(size_t n) {
  end_ += n;
}

Result<bool> RespReader::Next(std::vector<std::string_view>* args) {
  for (;;) {
    if (begin_ == end_ || buffered() < need_) return false;
    Result<bool> got =
        (pending_.argc > 0 || buf_[begin_] == '*') ? NextMultibulk(args) : NextInline(args);
    if (!got.ok() || !*got || !args->empty()) return got;
    // An empty request: skip it.
  }
}

Result<bool> RespReader::ReadLength(size_t pos, char prefix, int64_t* value, size_t* next) const {
  const char* start = buf_.get() + begin_ + pos;
  const size_t avail = end_ - begin_ - pos;
  const void* cr = std::memchr(start, '\r', std::min(avail, limits_.max_inline + 1));
  if (cr == nullptr) {
    if (avail > limits_.max_inline) {
      return ProtocolError(prefix == '*' ? "too big mbulk count string"
                                         : "too big bulk count string");
    }
    return false;
  }
  const size_t line = static_cast<const char*>(cr) - start;
  if (line + 2 > avail) return false;  // the '\n' is not here yet
  if (start[0] != prefix) return ProtocolError(std::string("expected '$', got '") + start[0] + "'");
  if (!ParseStrictInt({start + 1, line - 1}, value)) {
    return ProtocolError(prefix == '*' ? "invalid multibulk length" : "invalid bulk length");
  }
  *next = pos + line + 2;
  return true;
}

Result<bool> RespReader::NextMultibulk(std::vector<std::string_view>* args) {
  Pending& p = pending_;
  if (p.argc == 0) {
    int64_t argc = 0;
    size_t next = 0;
    Result<bool> got = ReadLength(0, '*', &argc, &next);
    if (got.ok() && !*got) need_ = buffered() + 1;
    if (!got.ok() || !*got) return got;
    if (argc > static_cast<int64_t>(limits_.max_args)) {
      return ProtocolError("invalid multibulk length");
    }
    if (!authenticated_ && argc > static_cast<int64_t>(limits_.max_unauthenticated_args)) {
      return ProtocolError("unauthenticated multibulk length");
    }
    if (argc <= 0) {
      begin_ += next;
      args->clear();
      return true;  // an empty request
    }
    p.argc = static_cast<size_t>(argc);
    p.pos = next;
    p.args.clear();
  }
  while (p.args.size() < p.argc) {
    int64_t len = 0;
    size_t next = 0;
    Result<bool> got = ReadLength(p.pos, '$', &len, &next);
    if (!got.ok()) return got;
    if (!*got) {
      need_ = buffered() + 1;
      return false;
    }
    if (len < 0 || static_cast<size_t>(len) > limits_.max_bulk) {
      return ProtocolError("invalid bulk length");
    }
    if (!authenticated_ && static_cast<size_t>(len) > limits_.max_unauthenticated_bulk) {
      return ProtocolError("unauthenticated bulk length");
    }
    if (next + static_cast<size_t>(len) + 2 > limits_.max_request) {
      return ProtocolError("request larger than client-query-buffer-limit");
    }
    if (buffered() < next + static_cast<size_t>(len) + 2) {
      need_ = next + static_cast<size_t>(len) + 2;
      return false;
    }
    p.args.emplace_back(next, static_cast<size_t>(len));
    p.pos = next + static_cast<size_t>(len) + 2;
  }
  args->clear();
  for (auto [offset, len] : p.args)
    args->emplace_back(buf_.get() + begin_ + offset, len);
  begin_ += p.pos;
  p = Pending{};
  need_ = 0;
  return true;
}

Result<bool> RespReader::NextInline(std::vector<std::string_view>* args) {
  char* start = buf_.get() + begin_;
  const size_t avail = buffered();
  const void* nl = std::memchr(start, '\n', avail);
  if (nl == nullptr) {
    if (avail > limits_.max_inline) return ProtocolError("too big inline request");
    need_ = avail + 1;
    return false;
  }
  size_t line = static_cast<const char*>(nl) - start;
  begin_ += line + 1;
  need_ = 0;
  if (line > 0 && start[line - 1] == '\r') --line;
  if (!SplitInlineArgs({start, line}, args)) return ProtocolError("unbalanced quotes in request");
  return true;
}

namespace {
// Writes "<prefix><n>\r\n" at buf (room for 23 bytes); returns its end.
char* WriteHeader(char* buf, char prefix, int64_t n) {
  buf[0] = prefix;
  char* end = std::to_chars(buf + 1, buf + 21, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  return end;
}
}  // namespace

void RespWriter::Header(char prefix, int64_t n) {
  char buf[24];
  out_->append(buf, WriteHeader(buf, prefix, n) - buf);
}

void RespWriter::Simple(std::string_view text) {
  out_->push_back('+');
  out_->append(text);
  out_->append("\r\n");
}

void RespWriter::Error(std::string_view text) {
  out_->push_back('-');
  // An error is one line: newlines would break the stream.
  for (char c : text)
    out_->push_back(c == '\r' || c == '\n' ? ' ' : c);
  out_->append("\r\n");
}

void RespWriter::Integer(int64_t value) {
  Header(':', value);
}

void RespWriter::Bulk(std::string_view bytes) {
  // Most values are small (LRANGE of short items, HGETALL fields): one
  // append of the whole element instead of three.
  constexpr size_t kSmall = 64;
  if (bytes.size() > kSmall) {
    Header('$', static_cast<int64_t>(bytes.size()));
    out_->append(bytes);
    out_->append("\r\n");
    return;
  }
  char buf[kSmall + 24];
  char* end = WriteHeader(buf, '$', static_cast<int64_t>(bytes.size()));
  if (!bytes.empty()) std::memcpy(end, bytes.data(), bytes.size());  // an empty view may be null
  end += bytes.size();
  *end++ = '\r';
  *end++ = '\n';
  out_->append(buf, static_cast<size_t>(end - buf));
}

void RespWriter::Null() {
  out_->append(version_ >= 3 ? "_\r\n" : "$-1\r\n");
}

void RespWriter::NullArray() {
  out_->append(version_ >= 3 ? "_\r\n" : "*-1\r\n");
}

void RespWriter::Array(size_t n) {
  Header('*', static_cast<int64_t>(n));
}

void RespWriter::Map(size_t pairs) {
  if (version_ >= 3) {
    Header('%', static_cast<int64_t>(pairs));
  } else {
    Header('*', static_cast<int64_t>(2 * pairs));
  }
}

void RespWriter::Set(size_t n) {
  Header(version_ >= 3 ? '~' : '*', static_cast<int64_t>(n));
}

void RespWriter::Push(size_t n) {
  Header(version_ >= 3 ? '>' : '*', static_cast<int64_t>(n));
}

void RespWriter::Double(double value) {
  char buf[64];
  int n;
  if (std::isinf(value)) {
    n = std::snprintf(buf, sizeof(buf), "%s", value > 0 ? "inf" : "-inf");
  } else {
    n = std::snprintf(buf, sizeof(buf), "%.17g", value);
  }
  if (version_ >= 3) {
    out_->push_back(',');
    out_->append(buf, n);
    out_->append("\r\n");
  } else {
    Bulk({buf, static_cast<size_t>(n)});
  }
}

void RespWriter::Bool(bool value) {
  if (version_ >= 3) {
    out_->append(value ? "#t\r\n" : "#f\r\n");
  } else {
    Integer(value ? 1 : 0);
  }
}

void RespWriter::Verbatim(std::string_view text) {
  if (version_ < 3) {
    Bulk(text);
    return;
  }
  Header('=', static_cast<int64_t>(text.size() + 4));
  out_->append("txt:");
  out_->append(text);
  out_->append("\r\n");
}

std::string FormatLongDouble(long double value) {
  char buf[5 * 1024];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", value);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(buf)) return "0";
  std::string_view text(buf, static_cast<size_t>(n));
  if (text.find('.') != std::string_view::npos) {
    while (!text.empty() && text.back() == '0')
      text.remove_suffix(1);
    if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  }
  if (text == "-0") return "0";
  return std::string(text);
}

}  // namespace quiver::protocol
