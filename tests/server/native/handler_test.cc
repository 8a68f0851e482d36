#include "server/native/handler.h"

#include <cstring>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>

#include "protocol/frame.h"
#include "server/native/codec.h"
#include "support/quiverd_process.h"
#include "util/rcu.h"

namespace quiver {
namespace {

// Runs one request frame (copied 8-aligned) through a handler into *out and
// returns the verified response, which views *response (an aligned copy).
const fb::Response* HandleFrame(NativeHandler& handler,
                                const flatbuffers::FlatBufferBuilder& request,
                                flatbuffers::FlatBufferBuilder* out,
                                std::vector<uint64_t>* response, bool* keep = nullptr) {
  std::vector<uint64_t> aligned((request.GetSize() + 7) / 8);
  std::memcpy(aligned.data(), request.GetBufferPointer(), request.GetSize());
  const bool k =
      handler.Handle({reinterpret_cast<uint8_t*>(aligned.data()), request.GetSize()}, out);
  if (keep) *keep = k;
  response->assign((out->GetSize() + 7) / 8, 0);
  std::memcpy(response->data(), out->GetBufferPointer(), out->GetSize());
  return protocol::VerifyResponse({reinterpret_cast<uint8_t*>(response->data()), out->GetSize()});
}

class NativeHandlerTest : public ::testing::Test {
 protected:
  NativeHandlerTest()
      : table_(OnlineTable::Options{}),
        store_(registry_, table_, nullptr, {}),
        handler_(store_, {}) {
    EXPECT_TRUE(store_
                    .Apply("entities: [{name: user, keys: [user_id]}]\n"
                           "views: [{name: v, entity: user, fields: [{name: x, type: int64}]}]")
                    .ok());
  }

  // Runs one request frame through the handler; returns the verified response.
  const fb::Response* Handle(flatbuffers::FlatBufferBuilder& request, bool* keep = nullptr) {
    return HandleFrame(handler_, request, &out_, &response_, keep);
  }

  rcu::ThreadRegistration registration_;
  Registry registry_;
  OnlineTable table_;
  FeatureStore store_;
  NativeHandler handler_;
  flatbuffers::FlatBufferBuilder out_;
  std::vector<uint64_t> response_;
};

TEST_F(NativeHandlerTest, PutThenGetIsColumnar) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<int64_t> xs{10, 20};
  auto col = fb::CreateColumn(b, b.CreateString("x"), fb::FieldType::Int64, 0, 0, 0, 0,
                              b.CreateVector(xs));
  auto put = fb::CreatePut(b, b.CreateString("v"), b.CreateVectorOfStrings({"a", "b"}), 0,
                           b.CreateVector(std::vector{col}));
  b.FinishSizePrefixed(fb::CreateRequest(b, 5, fb::RequestBody::Put, put.Union()));
  const fb::Response* r = Handle(b);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->id(), 5u);
  ASSERT_EQ(r->code(), fb::StatusCode::Ok) << r->message()->str();
  EXPECT_EQ(r->body_as_PutReply()->applied(), 2u);

  flatbuffers::FlatBufferBuilder g;
  auto get = fb::CreateGet(g, g.CreateString("v"), 0, g.CreateVectorOfStrings({"b", "zz", "a"}));
  g.FinishSizePrefixed(fb::CreateRequest(g, 6, fb::RequestBody::Get, get.Union()));
  r = Handle(g);
  ASSERT_NE(r, nullptr);
  const fb::GetReply* reply = r->body_as_GetReply();
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->view()->str(), "v@v1");
  ASSERT_EQ(reply->states()->size(), 3u);
  EXPECT_EQ(reply->states()->Get(1), fb::RowState::Missing);
  const fb::Column* x = reply->columns()->Get(0);
  EXPECT_EQ(x->i64()->Get(0), 20);
  EXPECT_EQ(x->i64()->Get(2), 10);
  ASSERT_NE(x->nulls(), nullptr);
  EXPECT_EQ(x->nulls()->Get(1), 1);
  EXPECT_EQ(x->nulls()->Get(0), 0);
}

TEST_F(NativeHandlerTest, MalformedFrameIsAProtocolErrorThatClosesTheConnection) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<uint8_t> junk(40, 0xee);
  b.PushBytes(junk.data(), junk.size());
  b.FinishSizePrefixed(flatbuffers::Offset<fb::Request>(b.GetSize()));
  bool keep = true;
  const fb::Response* r = Handle(b, &keep);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::ProtocolError);
  EXPECT_FALSE(keep);
}

TEST_F(NativeHandlerTest, EmptyBodyIsAnErrorButKeepsTheConnection) {
  flatbuffers::FlatBufferBuilder b;
  fb::RequestBuilder req(b);
  req.add_id(9);
  b.FinishSizePrefixed(req.Finish());
  bool keep = false;
  const fb::Response* r = Handle(b, &keep);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::InvalidArgument);
  EXPECT_EQ(r->id(), 9u);
  EXPECT_TRUE(keep);
}

// Found by frame_fuzzer: a union type without its value passes verification.
TEST_F(NativeHandlerTest, BodyTypeWithoutBodyIsRefused) {
  for (auto type : {fb::RequestBody::Hello, fb::RequestBody::Ping,
                    fb::RequestBody::ApplyDefinitions, fb::RequestBody::DescribeView,
                    fb::RequestBody::Put, fb::RequestBody::Get, fb::RequestBody::Delete}) {
    flatbuffers::FlatBufferBuilder b;
    fb::RequestBuilder req(b);
    req.add_id(3);
    req.add_body_type(type);
    b.FinishSizePrefixed(req.Finish());
    const fb::Response* r = Handle(b);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->code(), fb::StatusCode::InvalidArgument) << static_cast<int>(type);
  }
}

TEST_F(NativeHandlerTest, PutColumnMissingItsValuesIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  auto col = fb::CreateColumn(b, b.CreateString("x"), fb::FieldType::Int64);
  auto put = fb::CreatePut(b, b.CreateString("v"), b.CreateVectorOfStrings({"a"}), 0,
                           b.CreateVector(std::vector{col}));
  b.FinishSizePrefixed(fb::CreateRequest(b, 1, fb::RequestBody::Put, put.Union()));
  const fb::Response* r = Handle(b);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::InvalidArgument);
  EXPECT_EQ(table_.size(), 0);
}

// A History answer of many versions makes the builder grow while the
// per-row vectors are written (a use-after-free the fuzzer once found).
TEST(NativeHandlerHistoryTest, ManyVersionsEncodeWhileTheBuilderGrows) {
  rcu::ThreadRegistration registration;
  const std::string dir = testing::MakeTempDir();
  {
    Registry registry;
    OnlineTable table(OnlineTable::Options{});
    auto history = HistoryStore::Open({.dir = dir, .durability = Durability::kNone});
    ASSERT_TRUE(history.ok());
    FeatureStore store(registry, table, history->get(), {});
    ASSERT_TRUE(store
                    .Apply("entities: [{name: user, keys: [user_id]}]\n"
                           "views: [{name: v, entity: user, fields: [{name: x, type: int64}]}]")
                    .ok());
    std::vector<std::string_view> key{"u"};
    for (int64_t t = 1; t <= 5000; ++t) {
      ColumnInput x{"x", TypeSpec{FieldType::kInt64, 0}, {reinterpret_cast<const uint8_t*>(&t), 8}};
      HistoryBatch batch;
      ASSERT_TRUE(store.Write({"v", key, {&t, 1}, {&x, 1}}, &batch).ok());
      store.Commit(std::move(batch), nullptr);
    }
    (*history)->Drain();
    NativeHandler handler(store, {});
    flatbuffers::FlatBufferBuilder b;
    auto req =
        fb::CreateHistory(b, b.CreateString("v"), 0, b.CreateVectorOfStrings({"u"}), 0, 1'000'000);
    b.FinishSizePrefixed(fb::CreateRequest(b, 1, fb::RequestBody::History, req.Union()));
    flatbuffers::FlatBufferBuilder out(64);  // small: it must grow
    std::vector<uint64_t> copy;
    bool keep = false;
    const fb::Response* r = HandleFrame(handler, b, &out, &copy, &keep);
    ASSERT_TRUE(keep);
    ASSERT_NE(r, nullptr);
    const fb::GetReply* reply = r->body_as_GetReply();
    ASSERT_NE(reply, nullptr);
    ASSERT_EQ(reply->event_time_ms()->size(), 5000u);
    for (uint32_t i = 0; i < 5000; ++i) {
      ASSERT_EQ(reply->event_time_ms()->Get(i), int64_t{i} + 1);
      ASSERT_EQ(reply->states()->Get(i), fb::RowState::Found);
      ASSERT_EQ(reply->columns()->Get(0)->i64()->Get(i), int64_t{i} + 1);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_F(NativeHandlerTest, FieldsNamedTwiceAreRefused) {
  flatbuffers::FlatBufferBuilder g;
  auto get = fb::CreateGet(g, g.CreateString("v"), g.CreateVectorOfStrings({"x", "x"}),
                           g.CreateVectorOfStrings({"a"}));
  g.FinishSizePrefixed(fb::CreateRequest(g, 6, fb::RequestBody::Get, get.Union()));
  const fb::Response* r = Handle(g);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::InvalidArgument);
  EXPECT_NE(r->message()->str().find("'x' is named twice"), std::string::npos)
      << r->message()->str();
}

TEST_F(NativeHandlerTest, AnAnswerOverTheFrameLimitIsRefusedBeforeItIsBuilt) {
  ASSERT_TRUE(store_
                  .Apply("entities: [{name: user, keys: [user_id]}]\n"
                         "views: [{name: wide, entity: user, "
                         "fields: [{name: e, type: 'float32[1024]'}]}]")
                  .ok());
  // 100,000 missing entities: their defaults alone would be 400 MB.
  std::vector<std::string> keys;
  for (int i = 0; i < 100'000; ++i)
    keys.push_back("k" + std::to_string(i));
  flatbuffers::FlatBufferBuilder g;
  auto get = fb::CreateGet(g, g.CreateString("wide"), 0, g.CreateVectorOfStrings(keys));
  g.FinishSizePrefixed(fb::CreateRequest(g, 6, fb::RequestBody::Get, get.Union()));
  const fb::Response* r = Handle(g);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::ResourceExhausted);
  const std::string message = r->message()->str();
  EXPECT_NE(message.find("the answer would be about 392.3 MiB, over the limit of 64.0 MiB"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("(--max-frame)"), std::string::npos) << message;
  EXPECT_NE(message.find("about 16312 of these 100000 fit in one request"), std::string::npos)
      << message;
  EXPECT_LT(out_.GetSize(), 4096u) << "only the error was built";

  keys.resize(1000);  // 4 MB: served
  flatbuffers::FlatBufferBuilder small;
  auto ok = fb::CreateGet(small, small.CreateString("wide"), 0, small.CreateVectorOfStrings(keys));
  small.FinishSizePrefixed(fb::CreateRequest(small, 7, fb::RequestBody::Get, ok.Union()));
  r = Handle(small);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::Ok) << r->message()->str();
}

// The bound the handler checks is never below what the encoder then builds.
TEST(ReplyBoundTest, TheBoundIsAtLeastTheEncodedSize) {
  rcu::ThreadRegistration registration;
  Registry registry;
  OnlineTable table(OnlineTable::Options{});
  FeatureStore store(registry, table, nullptr, {});
  ASSERT_TRUE(store
                  .Apply("entities: [{name: user, keys: [user_id]}]\n"
                         "views: [{name: mixed, entity: user, fields: ["
                         "{name: s, type: string, default: 'a default string'}, "
                         "{name: b, type: bytes}, {name: e, type: 'float32[3]'}, "
                         "{name: i, type: int32}, {name: f, type: bool}]}]")
                  .ok());
  std::vector<std::string> values;
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    keys.push_back("u" + std::to_string(i));
    values.push_back(std::string(static_cast<size_t>(i * 7 % 500), 'x'));
  }
  std::vector<std::string_view> key_views(keys.begin(), keys.begin() + 200);  // 100 missing
  std::vector<uint32_t> offsets{0};
  std::string data;
  for (size_t i = 0; i < key_views.size(); ++i) {
    data += values[i];
    offsets.push_back(static_cast<uint32_t>(data.size()));
  }
  ColumnInput s{"s", TypeSpec{FieldType::kString, 0}};
  s.offsets = offsets;
  s.data = {reinterpret_cast<const uint8_t*>(data.data()), data.size()};
  HistoryBatch batch;
  ASSERT_TRUE(store.Write({"mixed", key_views, {}, {&s, 1}}, &batch).ok());
  rcu::ReadLock lock;
  std::vector<std::string_view> all(keys.begin(), keys.end());
  for (std::vector<std::string_view> fields :
       {std::vector<std::string_view>{}, {"s"}, {"e", "i"}, {"b", "f"}}) {
    ReadResult read;
    ASSERT_TRUE(store.Read({"mixed", fields, all}, &read).ok());
    flatbuffers::FlatBufferBuilder b;
    b.Finish(EncodeGetReply(b, read));
    EXPECT_GE(GetReplyBytes(read), b.GetSize()) << fields.size();
    EXPECT_LE(GetReplyBytes(read), b.GetSize() * 2 + 4096) << "and not far above it";
  }
}

// INT64_MIN and INT64_MAX wherever a request carries a time: refused or
// answered, never a signed overflow (the UBSan suite runs this).
TEST(NativeHandlerExtremeTimesTest, EveryRequestKindTakesInt64Extremes) {
  rcu::ThreadRegistration registration;
  const std::string dir = testing::MakeTempDir();
  {
    Registry registry;
    OnlineTable table(OnlineTable::Options{});
    auto history = HistoryStore::Open({.dir = dir, .durability = Durability::kNone});
    ASSERT_TRUE(history.ok());
    FeatureStore store(registry, table, history->get(), {});
    ASSERT_TRUE(store
                    .Apply("entities: [{name: user, keys: [user_id]}]\n"
                           "views: [{name: v, entity: user, ttl: 1h, "
                           "fields: [{name: x, type: int64}]}]")
                    .ok());
    NativeHandler handler(store, {});
    auto handle = [&](flatbuffers::FlatBufferBuilder& b) {
      flatbuffers::FlatBufferBuilder out;
      std::vector<uint64_t> copy;
      bool keep = false;
      const fb::Response* r = HandleFrame(handler, b, &out, &copy, &keep);
      EXPECT_TRUE(keep);
      EXPECT_NE(r, nullptr);
      return r == nullptr ? fb::StatusCode::Internal : r->code();
    };
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    const int64_t now = store.NowMs();
    for (int64_t t : {now - 1000, kMin, kMax, int64_t{-1}, now + 3'600'000}) {
      flatbuffers::FlatBufferBuilder b;
      std::vector<int64_t> xs{t}, times{t};
      auto col = fb::CreateColumn(b, b.CreateString("x"), fb::FieldType::Int64, 0, 0, 0, 0,
                                  b.CreateVector(xs));
      auto put = fb::CreatePut(b, b.CreateString("v"), b.CreateVectorOfStrings({"u"}),
                               b.CreateVector(times), b.CreateVector(std::vector{col}));
      b.FinishSizePrefixed(fb::CreateRequest(b, 1, fb::RequestBody::Put, put.Union()));
      EXPECT_EQ(handle(b), t == now - 1000 ? fb::StatusCode::Ok : fb::StatusCode::InvalidArgument)
          << t;
    }
    (*history)->Drain();
    for (int64_t t : {kMin, kMax, int64_t{0}, int64_t{-1}, now}) {
      flatbuffers::FlatBufferBuilder b;
      auto req = fb::CreateGetAsOf(b, b.CreateString("v"), 0, b.CreateVectorOfStrings({"u", "w"}),
                                   b.CreateVector(std::vector<int64_t>{t}));
      b.FinishSizePrefixed(fb::CreateRequest(b, 2, fb::RequestBody::GetAsOf, req.Union()));
      EXPECT_EQ(handle(b), fb::StatusCode::Ok) << t;
      flatbuffers::FlatBufferBuilder tb;
      auto key =
          fb::CreateKeyColumn(tb, tb.CreateString("user_id"), tb.CreateVectorOfStrings({"u", "u"}));
      auto training = fb::CreateTrainingBatch(tb, tb.CreateVectorOfStrings({"v:x"}),
                                              tb.CreateVector(std::vector{key}),
                                              tb.CreateVector(std::vector<int64_t>{t, kMin}));
      tb.FinishSizePrefixed(
          fb::CreateRequest(tb, 3, fb::RequestBody::TrainingBatch, training.Union()));
      EXPECT_EQ(handle(tb), fb::StatusCode::Ok) << t;
    }
    for (auto [from, to] : {std::pair{kMin, kMax}, {kMax, kMin}, {kMin, kMin}, {kMax, kMax}}) {
      for (auto agg : {fb::Aggregation::None, fb::Aggregation::Avg, fb::Aggregation::Latest}) {
        flatbuffers::FlatBufferBuilder b;
        auto req = fb::CreateHistory(b, b.CreateString("v"), 0, b.CreateVectorOfStrings({"u"}),
                                     from, to, agg, std::numeric_limits<uint32_t>::max());
        b.FinishSizePrefixed(fb::CreateRequest(b, 4, fb::RequestBody::History, req.Union()));
        EXPECT_EQ(handle(b), from > to ? fb::StatusCode::InvalidArgument : fb::StatusCode::Ok)
            << from << ".." << to;
      }
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_F(NativeHandlerTest, ReadsOfThePastNeedAHistory) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<int64_t> times{1};
  auto as_of = fb::CreateGetAsOf(b, b.CreateString("v"), 0, b.CreateVectorOfStrings({"a"}),
                                 b.CreateVector(times));
  b.FinishSizePrefixed(fb::CreateRequest(b, 9, fb::RequestBody::GetAsOf, as_of.Union()));
  const fb::Response* r = Handle(b);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code(), fb::StatusCode::FailedPrecondition);
  EXPECT_NE(r->message()->str().find("keeps no history"), std::string::npos);
}

}  // namespace
}  // namespace quiver
