#include "protocol/frame.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace quiver::protocol {

namespace {
uint8_t* Bytes(const std::unique_ptr<uint64_t[]>& p) {
  return reinterpret_cast<uint8_t*>(p.get());
}
size_t Words(size_t bytes) {
  return (bytes + 7) / 8;
}
}  // namespace

const fb::Request* VerifyRequest(std::span<const uint8_t> frame) {
  flatbuffers::Verifier verifier(frame.data(), frame.size(), /*max_depth=*/64,
                                 /*max_tables=*/10'000'000);
  if (!fb::VerifySizePrefixedRequestBuffer(verifier)) return nullptr;
  return fb::GetSizePrefixedRequest(frame.data());
}

const fb::Response* VerifyResponse(std::span<const uint8_t> frame) {
  flatbuffers::Verifier verifier(frame.data(), frame.size(), 64, 10'000'000);
  if (!verifier.VerifySizePrefixedBuffer<fb::Response>(nullptr)) return nullptr;
  return flatbuffers::GetSizePrefixedRoot<fb::Response>(frame.data());
}

void BuildErrorResponse(flatbuffers::FlatBufferBuilder* builder, uint64_t id,
                        const Status& status) {
  builder->Clear();
  auto message = builder->CreateString(status.KindAndMessage());
  fb::ResponseBuilder response(*builder);
  response.add_id(id);
  response.add_code(static_cast<fb::StatusCode>(status.code()));
  response.add_message(message);
  builder->FinishSizePrefixed(response.Finish());
}

FrameReader::FrameReader(uint32_t max_frame) : max_frame_(max_frame) {}

void FrameReader::Reserve(size_t bytes) {
  if (begin_ > 0) {  // slide unconsumed bytes to the (aligned) front
    std::memmove(Bytes(buf_), Bytes(buf_) + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ + bytes <= capacity_) return;
  // WritableSpace asks for at most as much again as is buffered: the
  // buffer grows geometrically with the bytes, not with announced lengths.
  const size_t capacity = std::max(kInitialBytes, end_ + bytes);
  auto grown = std::make_unique_for_overwrite<uint64_t[]>(Words(capacity));
  if (end_ > 0) std::memcpy(Bytes(grown), Bytes(buf_), end_);
  buf_ = std::move(grown);
  capacity_ = Words(capacity) * 8;
}

std::span<uint8_t> FrameReader::WritableSpace(size_t min_bytes) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (capacity_ > kShrinkAbove) {  // a large frame is done: give its memory back
      buf_.reset();
      capacity_ = 0;
    }
  }
  if (scratch_capacity_ > kShrinkAbove) {
    scratch_.reset();
    scratch_capacity_ = 0;
  }
  const size_t buffered = end_ - begin_;
  const size_t missing = need_ > buffered ? need_ - buffered : 0;
  const size_t wanted = std::max(min_bytes, std::min(missing, buffered));
  if (capacity_ - end_ < wanted) Reserve(wanted);
  return {Bytes(buf_) + end_, capacity_ - end_};
}

void FrameReader::Commit(size_t n) {
  end_ += n;
}

Result<std::span<const uint8_t>> FrameReader::Next() {
  if (end_ - begin_ < kPrefixBytes) {
    if (begin_ == end_) begin_ = end_ = 0;
    return std::span<const uint8_t>();
  }
  const uint8_t* start = Bytes(buf_) + begin_;
  uint32_t body = 0;
  std::memcpy(&body, start, kPrefixBytes);  // little-endian hosts only (x86-64, arm64)
  if (body > max_frame_) {
    return Status::ResourceExhausted("frame of " + std::to_string(body) +
                                     " bytes exceeds the limit of " + std::to_string(max_frame_) +
                                     " (" + std::string(limit_name_) + ")");
  }
  const size_t total = kPrefixBytes + body;
  if (end_ - begin_ < total) {
    need_ = total;
    return std::span<const uint8_t>();
  }
  need_ = 0;
  begin_ += total;
  if (reinterpret_cast<uintptr_t>(start) % 8 == 0) return std::span<const uint8_t>(start, total);
  if (scratch_capacity_ < total) {
    scratch_ = std::make_unique_for_overwrite<uint64_t[]>(Words(total));
    scratch_capacity_ = Words(total) * 8;
  }
  std::memcpy(Bytes(scratch_), start, total);
  return std::span<const uint8_t>(Bytes(scratch_), total);
}

}  // namespace quiver::protocol
