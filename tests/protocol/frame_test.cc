#include "protocol/frame.h"

#include <cstring>

#include <gtest/gtest.h>

#include "quiver/types.h"

namespace quiver::protocol {
namespace {

std::vector<uint8_t> PingFrame(uint64_t id, size_t payload_size) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<uint8_t> payload(payload_size, 0xab);
  auto ping = fb::CreatePing(b, b.CreateVector(payload));
  b.FinishSizePrefixed(fb::CreateRequest(b, id, fb::RequestBody::Ping, ping.Union()));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

void Feed(FrameReader& reader, const uint8_t* data, size_t n) {
  std::span<uint8_t> space = reader.WritableSpace(n);
  std::memcpy(space.data(), data, n);
  reader.Commit(n);
}

TEST(FrameReaderTest, YieldsFramesSplitAcrossReads) {
  std::vector<uint8_t> frame = PingFrame(7, 100);
  FrameReader reader;
  Feed(reader, frame.data(), 3);
  EXPECT_TRUE(reader.Next()->empty()) << "prefix incomplete";
  Feed(reader, frame.data() + 3, frame.size() - 4);
  EXPECT_TRUE(reader.Next()->empty()) << "body incomplete";
  Feed(reader, frame.data() + frame.size() - 1, 1);
  auto got = reader.Next();
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), frame.size());
  const fb::Request* request = VerifyRequest(*got);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->id(), 7u);
}

TEST(FrameReaderTest, PipelinedFramesComeOutAlignedAndInOrder) {
  std::vector<uint8_t> stream;
  for (uint64_t id = 1; id <= 50; ++id) {
    std::vector<uint8_t> f = PingFrame(id, id * 3);  // odd sizes misalign later frames
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameReader reader;
  Feed(reader, stream.data(), stream.size());
  for (uint64_t id = 1; id <= 50; ++id) {
    auto got = reader.Next();
    ASSERT_TRUE(got.ok());
    ASSERT_FALSE(got->empty());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got->data()) % 8, 0u);
    const fb::Request* request = VerifyRequest(*got);
    ASSERT_NE(request, nullptr);
    EXPECT_EQ(request->id(), id);
  }
  EXPECT_TRUE(reader.Next()->empty());
}

TEST(FrameReaderTest, OversizeFrameIsRefusedBeforeItsBodyArrives) {
  FrameReader reader(/*max_frame=*/1024);
  const uint32_t announced = 1u << 30;
  Feed(reader, reinterpret_cast<const uint8_t*>(&announced), 4);
  auto got = reader.Next();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(got.status().message().find("--max-frame"), std::string::npos);
}

TEST(FrameReaderTest, ADeclaredLengthCostsNothingUntilItsBytesArrive) {
  FrameReader reader;
  const uint32_t announced = 60u << 20;
  Feed(reader, reinterpret_cast<const uint8_t*>(&announced), 4);
  EXPECT_TRUE(reader.Next()->empty());
  reader.WritableSpace();
  EXPECT_LE(reader.capacity(), 2 * FrameReader::kInitialBytes);
  const std::vector<uint8_t> chunk(100'000, 0xab);
  for (int i = 0; i < 30; ++i) {
    Feed(reader, chunk.data(), chunk.size());
    EXPECT_TRUE(reader.Next()->empty());
    reader.WritableSpace();
    EXPECT_LE(reader.capacity(), 2 * reader.buffered() + FrameReader::kInitialBytes) << i;
  }
}

TEST(FrameReaderTest, TheBufferShrinksBackAfterALargeFrame) {
  FrameReader reader;
  std::vector<uint8_t> frame = PingFrame(1, 3 << 20);
  Feed(reader, frame.data(), frame.size());
  ASSERT_EQ(reader.Next()->size(), frame.size());
  EXPECT_GT(reader.capacity(), FrameReader::kShrinkAbove);
  reader.WritableSpace();
  EXPECT_EQ(reader.capacity(), FrameReader::kInitialBytes);
}

TEST(FrameReaderTest, ALowerLimitNamesItsReason) {
  FrameReader reader;
  reader.set_max_frame(16 * 1024, "before authentication");
  std::vector<uint8_t> frame = PingFrame(1, 20'000);
  Feed(reader, frame.data(), frame.size());
  auto got = reader.Next();
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("(before authentication)"), std::string::npos)
      << got.status().message();
}

TEST(VerifyTest, GarbageIsRejected) {
  alignas(8) uint8_t garbage[64];
  for (size_t i = 0; i < sizeof garbage; ++i)
    garbage[i] = static_cast<uint8_t>(i * 37);
  const uint32_t size = sizeof garbage - 4;
  std::memcpy(garbage, &size, 4);
  EXPECT_EQ(VerifyRequest({garbage, sizeof garbage}), nullptr);
  EXPECT_EQ(VerifyResponse({garbage, sizeof garbage}), nullptr);
}

TEST(VerifyTest, TruncatedFrameIsRejected) {
  std::vector<uint8_t> frame = PingFrame(1, 64);
  std::vector<uint64_t> aligned((frame.size() + 7) / 8);
  std::memcpy(aligned.data(), frame.data(), frame.size());
  std::span<const uint8_t> whole(reinterpret_cast<uint8_t*>(aligned.data()), frame.size());
  EXPECT_NE(VerifyRequest(whole), nullptr);
  EXPECT_EQ(VerifyRequest(whole.first(frame.size() - 8)), nullptr);
}

TEST(ErrorResponseTest, CarriesCodeMessageAndId) {
  flatbuffers::FlatBufferBuilder b;
  BuildErrorResponse(&b, 42, Status::NotFound("unknown view 'x'"));
  std::vector<uint64_t> aligned((b.GetSize() + 7) / 8);
  std::memcpy(aligned.data(), b.GetBufferPointer(), b.GetSize());
  const fb::Response* r = VerifyResponse({reinterpret_cast<uint8_t*>(aligned.data()), b.GetSize()});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->id(), 42u);
  EXPECT_EQ(r->code(), fb::StatusCode::NotFound);
  EXPECT_EQ(r->message()->str(), "unknown view 'x'");
}

// The native wire has no field for an error's kind: its name leads the
// message, as Redis's codes lead its errors.
TEST(ErrorResponseTest, CarriesTheKindAsTheMessagesFirstWord) {
  flatbuffers::FlatBufferBuilder b;
  BuildErrorResponse(&b, 7, Status::OutOfMemory("write refused"));
  std::vector<uint64_t> aligned((b.GetSize() + 7) / 8);
  std::memcpy(aligned.data(), b.GetBufferPointer(), b.GetSize());
  const fb::Response* r = VerifyResponse({reinterpret_cast<uint8_t*>(aligned.data()), b.GetSize()});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::ResourceExhausted);
  EXPECT_EQ(r->message()->str(), "OOM write refused");
}

static_assert(static_cast<int>(fb::StatusCode::IoError) == static_cast<int>(StatusCode::kIoError));
static_assert(static_cast<int>(fb::FieldType::Float32Vector) ==
              static_cast<int>(FieldType::kFloat32Vector));

}  // namespace
}  // namespace quiver::protocol
