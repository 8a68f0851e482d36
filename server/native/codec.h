// Conversions between native-protocol messages and storage types. Decoding
// wraps FlatBuffers vectors without copying; encoding writes columns
// straight from packed rows into the builder.
#pragma once

#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "quiver_generated.h"
#include "storage/features/feature_store.h"

namespace quiver {

using FbStrings = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

// Appends every string of v (may be null) to *out as views into the frame.
// A string field's text; empty if absent.
inline std::string_view StringOf(const flatbuffers::String* s) {
  return s ? s->string_view() : std::string_view();
}

void DecodeStrings(const FbStrings* v, std::vector<std::string_view>* out);

// Views a vector of 8-byte values in place. The verifier checks vectors for
// 4-byte alignment only, so a hand-made frame can misalign one; that is
// refused (InvalidArgument) rather than read unaligned.
Result<std::span<const int64_t>> AlignedInt64s(const flatbuffers::Vector<int64_t>* v,
                                               std::string_view what);

// Wraps a Put column. Fails if its type is unknown.
Result<ColumnInput> DecodeColumn(const fb::Column& column);

flatbuffers::Offset<fb::GetReply> EncodeGetReply(flatbuffers::FlatBufferBuilder& b,
                                                 const ReadResult& result);
// Upper bounds of the encoded replies' sizes, computed before building
// them (CheckAnswerSize, service/answer_limit.h). Not exact: cheaper and
// looser (no row is decoded; see ServedBytes).
uint64_t GetReplyBytes(const ReadResult& result, bool exact = true);
uint64_t TrainingReplyBytes(const TrainingResult& result, bool exact = true);

// Columns named as the features were requested ("view:field").
flatbuffers::Offset<fb::TrainingReply> EncodeTrainingReply(flatbuffers::FlatBufferBuilder& b,
                                                           const TrainingResult& result);

// Finishes an Ok response with this body.
template <typename T>
void FinishOk(flatbuffers::FlatBufferBuilder& b, uint64_t id, flatbuffers::Offset<T> body) {
  fb::ResponseBuilder response(b);
  response.add_id(id);
  response.add_code(fb::StatusCode::Ok);
  response.add_body_type(fb::ResponseBodyTraits<T>::enum_value);
  response.add_body(body.Union());
  b.FinishSizePrefixed(response.Finish());
}

flatbuffers::Offset<fb::ViewInfo> EncodeViewInfo(flatbuffers::FlatBufferBuilder& b,
                                                 const ViewSchema& view, const Catalog& catalog);

}  // namespace quiver
