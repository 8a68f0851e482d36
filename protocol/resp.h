// The Redis serialization protocol (RESP): RespReader turns a byte stream
// into commands, RespWriter encodes replies in RESP2 or RESP3.
//
// The reader accepts what Redis 7 accepts: multibulk requests
// (`*N\r\n$len\r\narg\r\n...`) and inline commands (a line of words, with
// "double" and 'single' quoting as redis-cli and telnet send them), with
// Redis's limits and Redis's protocol error texts. It resumes a partly
// received command where it stopped, so a large request costs one pass.
// It belongs to one connection and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"

namespace quiver::protocol {

struct RespLimits {
  size_t max_bulk = 512u << 20;      // proto-max-bulk-len
  size_t max_args = 1024 * 1024;     // arguments of one multibulk request
  size_t max_inline = 64 * 1024;     // bytes of an inline command line
  size_t max_request = 1024u << 20;  // bytes of one whole request (client-query-buffer-limit)
  // Before a client has authenticated (when a password is set), as Redis 7.
  size_t max_unauthenticated_args = 10;
  size_t max_unauthenticated_bulk = 16 * 1024;
};

class RespReader {
 public:
  explicit RespReader(RespLimits limits = {});

  // Space for the next read from the stream, at least `min_bytes` long
  // (more if a partly received request needs it). Invalidates the
  // arguments of commands returned before.
  std::span<char> WritableSpace(size_t min_bytes = 16 * 1024);
  // Marks n bytes of WritableSpace() as received.
  void Commit(size_t n);

  // The next complete command: true with *args set (views into the
  // buffer, valid until WritableSpace()), false if more bytes are needed.
  // Empty requests (a blank line, `*0`) are skipped. A protocol error is
  // ProtocolError whose message is Redis's ("Protocol error: ..."): the
  // stream cannot be resynchronised, answer it and close.
  Result<bool> Next(std::vector<std::string_view>* args);

  // Bytes received but not yet returned as commands.
  size_t buffered() const { return end_ - begin_; }
  // The bytes the buffer holds now (received or room for more).
  size_t capacity() const { return capacity_; }

  // Applies the limits of clients that have not authenticated to the
  // requests parsed from now on (Redis's "unauthenticated multibulk/bulk
  // length" errors).
  void set_authenticated(bool yes) { authenticated_ = yes; }

  // The buffer shrinks back to its initial size once empty if it grew past
  // this.
  static constexpr size_t kInitialBytes = 16 * 1024;
  static constexpr size_t kShrinkAbove = 256 * 1024;

 private:
  // Parse state of a multibulk request that is not complete yet; offsets
  // are relative to begin_, so they survive compaction of the buffer.
  struct Pending {
    size_t argc = 0;                              // announced arguments; 0: no request started
    size_t pos = 0;                               // where parsing resumes
    std::vector<std::pair<size_t, size_t>> args;  // (offset, length) parsed so far
  };

  Result<bool> NextMultibulk(std::vector<std::string_view>* args);
  Result<bool> NextInline(std::vector<std::string_view>* args);
  // The integer of a `<prefix>N\r\n` line at pos: sets *value and *next.
  // False if the line is incomplete.
  Result<bool> ReadLength(size_t pos, char prefix, int64_t* value, size_t* next) const;
  void Reserve(size_t bytes);

  RespLimits limits_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last received byte
  size_t need_ = 0;   // bytes from begin_ the pending request needs at least
  bool authenticated_ = true;
  Pending pending_;
};

// Redis's string2ll: an optional '-', digits, no '+', spaces or leading
// zeros. Lengths in requests and integer arguments of commands parse so.
bool ParseStrictInt(std::string_view text, int64_t* out);

// Splits an inline command line into arguments as Redis's sdssplitargs
// does: words separated by blanks; "..." with C escapes (\n, \xHH, ...) and
// '...' with \' only. Unescapes in place, so the arguments view `line`.
// False on unbalanced quotes (or a closing quote not followed by a blank).
bool SplitInlineArgs(std::span<char> line, std::vector<std::string_view>* args);

// Appends replies to a string. RESP2 by default; SetVersion(3) after HELLO 3
// switches nulls, maps, sets, doubles and booleans to their RESP3 forms.
class RespWriter {
 public:
  explicit RespWriter(std::string* out) : out_(out) {}

  int version() const { return version_; }
  void SetVersion(int version) { version_ = version; }
  std::string* out() { return out_; }

  void Simple(std::string_view text);  // +text
  void Ok() { Simple("OK"); }
  // -text: text starts with the error code ("ERR ...", "WRONGTYPE ...").
  void Error(std::string_view text);
  void Integer(int64_t value);
  void Bulk(std::string_view bytes);
  void Null();       // a missing value: $-1 (RESP2) or _ (RESP3)
  void NullArray();  // a missing aggregate: *-1 (RESP2) or _ (RESP3)
  void Array(size_t n);
  void Map(size_t pairs);     // %n (RESP3) or an array of 2n (RESP2)
  void Set(size_t n);         // ~n (RESP3) or an array of n (RESP2)
  void Push(size_t n);        // >n (RESP3) or an array of n (RESP2): Pub/Sub messages
  void Double(double value);  // ,value (RESP3) or a bulk string (RESP2)
  void Bool(bool value);      // #t/#f (RESP3) or :1/:0 (RESP2)
  // A verbatim text (RESP3 =len\r\ntxt:...) or a bulk string (RESP2).
  void Verbatim(std::string_view text);

 private:
  void Header(char prefix, int64_t n);

  std::string* out_;
  int version_ = 2;
};

// The text of a long double as INCRBYFLOAT and HINCRBYFLOAT store and
// reply it: Redis's "%.17Lf" with trailing zeros (and a trailing point)
// removed, so 10.5 + 0.1 is "10.6".
std::string FormatLongDouble(long double value);

}  // namespace quiver::protocol
