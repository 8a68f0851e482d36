// Framing of the native protocol: size-prefixed FlatBuffers buffers.
// FrameReader turns a byte stream into verified-size frames; it belongs to
// one connection and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "quiver/status.h"
#include "quiver_generated.h"

namespace quiver::protocol {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr size_t kPrefixBytes = 4;
inline constexpr uint32_t kDefaultMaxFrame = 64u << 20;

// Verifies a whole frame (prefix included) and returns its root, or nullptr
// if it is not a well-formed Request / Response. `frame` must be 8-aligned.
const fb::Request* VerifyRequest(std::span<const uint8_t> frame);
const fb::Response* VerifyResponse(std::span<const uint8_t> frame);

// Builds, into *builder (cleared first), a Response carrying only an error.
void BuildErrorResponse(flatbuffers::FlatBufferBuilder* builder, uint64_t id, const Status& status);

// Memory follows the bytes that arrive: a prefix announcing a large frame
// costs nothing until its bytes come (the buffer at most doubles per read),
// and the buffer is released once a frame larger than kShrinkAbove is
// consumed.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_frame = kDefaultMaxFrame);

  // The limit for frames parsed from now on, and the setting the error
  // names when a frame exceeds it.
  void set_max_frame(uint32_t max_frame, std::string_view limit_name) {
    max_frame_ = max_frame;
    limit_name_ = limit_name;
  }
  static constexpr size_t kInitialBytes = 64 * 1024;
  static constexpr size_t kShrinkAbove = 1024 * 1024;

  // Space for the next read from the stream; at least `min_bytes` long
  // (more, up to the bytes already buffered, if a partly received frame
  // needs it). Invalidates frames returned before.
  std::span<uint8_t> WritableSpace(size_t min_bytes = kInitialBytes);
  // Marks n bytes of WritableSpace() as received.
  void Commit(size_t n);

  // The next complete frame, prefix included, 8-aligned and valid until the
  // next call; an empty span if more bytes are needed. Fails with
  // ResourceExhausted, before reading the body, if a frame announces more
  // than max_frame bytes (the stream cannot be resynchronised after that).
  Result<std::span<const uint8_t>> Next();

  // Bytes received but not yet returned as frames.
  size_t buffered() const { return end_ - begin_; }
  // The bytes the buffer holds now (received or room for more).
  size_t capacity() const { return capacity_; }

 private:
  void Reserve(size_t bytes);

  uint32_t max_frame_;
  std::string_view limit_name_ = "--max-frame";
  size_t need_ = 0;                  // bytes from begin_ the next frame needs
  std::unique_ptr<uint64_t[]> buf_;  // uint64_t: 8-aligned storage
  size_t capacity_ = 0;
  size_t begin_ = 0;                     // first unconsumed byte
  size_t end_ = 0;                       // one past the last received byte
  std::unique_ptr<uint64_t[]> scratch_;  // aligned copy of a misaligned frame
  size_t scratch_capacity_ = 0;
};

}  // namespace quiver::protocol
