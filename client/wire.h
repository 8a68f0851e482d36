// Encoding of client requests and decoding of server responses. Internal
// to the client library.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "client/connection.h"
#include "client/write_batch_impl.h"
#include "quiver/client.h"
#include "quiver_generated.h"

namespace quiver::client_internal {

using FbStrings = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

// Verifies the frame and checks it answers request `id`; a non-OK code
// becomes the returned Status (the server's code and message).
Result<const fb::Response*> CheckResponse(const Frame& frame, uint64_t id);
// The already-verified Response of a frame.
const fb::Response* ResponseOf(const Frame& frame);

std::vector<std::string> Strings(const FbStrings* v);
std::vector<Position> DecodePositions(const flatbuffers::Vector<const fb::Position*>* v);
// Adds positions to a set of them, keeping the newest of each partition.
void MergePositions(std::span<const Position> from, std::vector<Position>* into);
ViewInfo DecodeViewInfo(const fb::ViewInfo& v);

// Pads the batch's columns to its row count first.
flatbuffers::Offset<fb::Put> EncodePut(flatbuffers::FlatBufferBuilder& b, WriteBatch::Impl& batch);
flatbuffers::Offset<fb::Get> EncodeGet(flatbuffers::FlatBufferBuilder& b,
                                       const GetRequest& request);
flatbuffers::Offset<fb::GetAsOf> EncodeGetAsOf(flatbuffers::FlatBufferBuilder& b,
                                               const GetAsOfRequest& request);
flatbuffers::Offset<fb::History> EncodeHistory(flatbuffers::FlatBufferBuilder& b,
                                               const HistoryRequest& request);
flatbuffers::Offset<fb::TrainingBatch> EncodeTrainingSet(flatbuffers::FlatBufferBuilder& b,
                                                         const TrainingSetBatch& batch);
Result<TrainingSetResult> DecodeTrainingSet(const Frame& frame);
Result<PutResult> DecodePutReply(const Frame& frame);
Result<GetResult> DecodeGetResult(const Frame& frame);
// In status.cc.
Result<BackfillResult> DecodeBackfill(const Frame& frame);
Result<ServerStatus> DecodeStatus(const Frame& frame);
Result<uint64_t> DecodeCompact(const Frame& frame);
Result<std::string> DecodeMonitoring(const Frame& frame);

// Write ids (docs/cluster.md#retried-writes): 32 hex digits, a random
// 64-bit prefix drawn per client, then a counter.
class WriteIdSource {
 public:
  WriteIdSource();
  std::string Next();

 private:
  uint64_t prefix_;
  uint64_t next_ = 0;
};

// Friend of the public result types: builds them from wire messages.
struct Access {
  // Wraps a wire column; fails if its vectors do not match its type and row count.
  static Result<Column> MakeColumn(const fb::Column& c, size_t rows);
  static Result<GetResult> MakeGetResult(const Frame& frame, const fb::GetReply& reply);
  static Result<TrainingSetResult> MakeTrainingSet(const Frame& frame,
                                                   const fb::TrainingReply& reply);
};

}  // namespace quiver::client_internal
