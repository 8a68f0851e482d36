// NativeHandler: answers one native-protocol frame at a time: verifies it,
// decodes the request, calls the FeatureStore and encodes the response.
// One per connection (it keeps reusable scratch space); used by the thread
// that owns the connection. Knows nothing of sockets.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "storage/feature_store.h"

namespace quiver {

namespace fb {
struct Request;
}  // namespace fb

struct NativeHandlerOptions {
  uint64_t max_frame_bytes = 64u << 20;
  std::string server_version;
};

class NativeHandler {
 public:
  NativeHandler(FeatureStore& store, const NativeHandlerOptions& options)
      : store_(store), options_(options) {}

  // Builds the response frame for `frame` (prefix included, 8-aligned) into
  // *out, cleared first. Returns false if the frame was malformed: the
  // response then carries ProtocolError and the caller closes the
  // connection after sending it.
  bool Handle(std::span<const uint8_t> frame, flatbuffers::FlatBufferBuilder* out);

 private:
  Status Dispatch(const fb::Request& request, flatbuffers::FlatBufferBuilder& b, uint64_t id);

  FeatureStore& store_;
  NativeHandlerOptions options_;
  // Scratch reused across requests to avoid allocating on the hot path.
  std::vector<std::string_view> key_parts_;
  std::vector<std::string_view> fields_;
  ReadResult read_;
};

}  // namespace quiver
