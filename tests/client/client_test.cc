// The C++ client against a real quiverd on an ephemeral port.
#include "quiver/client.h"

#include <sys/wait.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "client/connection.h"
#include "protocol/frame.h"
#include "support/connect.h"
#include "support/quiverd_process.h"

namespace quiver {
namespace {

using testing::QuiverdProcess;

constexpr char kDefinitions[] = R"(
entities:
  - {name: user, keys: [user_id]}
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: all_types
    entity: user
    fields:
      - {name: b, type: bool}
      - {name: i32, type: int32, default: 20}
      - {name: i64, type: int64}
      - {name: f32, type: float32}
      - {name: f64, type: float64}
      - {name: s, type: string, default: unknown}
      - {name: raw, type: bytes}
      - {name: vec, type: "float32[4]"}
  - name: progress
    entity: user_item
    fields:
      - {name: p, type: float32}
)";

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << "quiverd did not start";
    client_ = testing::ConnectTo(server_);
    ASSERT_NE(client_, nullptr);
    auto applied = client_->Apply(kDefinitions);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }

  QuiverdProcess server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, EveryTypeRoundTripsThroughTheServer) {
  const float vec1[4] = {0.5f, -1.0f, 2.0f, 3.25f};
  WriteBatch batch("all_types");
  batch.Row({"u1"}, 1'700'000'000'000)
      .Set("b", true)
      .Set("i32", int32_t{-7})
      .Set("i64", int64_t{1} << 50)
      .Set("f32", 1.5f)
      .Set("f64", 2.75)
      .Set("s", "drama")
      .SetBytes("raw", std::string_view("\0\x01\xff", 3))
      .Set("vec", std::span<const float>(vec1));
  auto put = client_->Put(batch);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->applied, 1u);

  auto got = client_->Get(GetRequest{"all_types", {"u1"}, {}});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  client_.reset();  // results own their buffer: valid after the client is gone
  const GetResult& r = *got;
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.view(), "all_types@v1");
  EXPECT_TRUE(r.found(0));
  EXPECT_EQ(r.event_time_ms(0), 1'700'000'000'000);
  EXPECT_EQ(r.age_ms(0), r.server_time_ms() - 1'700'000'000'000);
  ASSERT_EQ(r.columns().size(), 8u);
  EXPECT_TRUE(r.column("b")->bool_value(0));
  EXPECT_EQ(r.column("i32")->int32_value(0), -7);
  EXPECT_EQ(r.column("i64")->int64_value(0), int64_t{1} << 50);
  EXPECT_EQ(r.column("f32")->float32_value(0), 1.5f);
  EXPECT_EQ(r.column("f64")->float64_value(0), 2.75);
  EXPECT_EQ(r.column("s")->string_value(0), "drama");
  EXPECT_EQ(r.column("raw")->string_value(0), std::string_view("\0\x01\xff", 3));
  std::span<const float> vec = r.column("vec")->vector_value(0);
  ASSERT_EQ(vec.size(), 4u);
  EXPECT_EQ(std::vector<float>(vec.begin(), vec.end()), std::vector<float>(vec1, vec1 + 4));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(vec.data()) % alignof(float), 0u);
  for (const Column& c : r.columns())
    EXPECT_FALSE(c.is_null(0)) << c.name();
}

TEST_F(ClientTest, MissingEntitiesAndUnsetFieldsGetDefaultsAndFlags) {
  WriteBatch batch("all_types");
  batch.Row({"u1"}).Set("i64", int64_t{5});
  ASSERT_TRUE(client_->Put(batch).ok());
  auto got = client_->Get(GetRequest{"all_types", {"u1", "ghost"}, {"i64", "i32", "s"}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state(0), RowState::kFound);
  EXPECT_EQ(got->state(1), RowState::kMissing);
  EXPECT_EQ(got->age_ms(1), -1);
  const Column* i32 = got->column("i32");
  EXPECT_TRUE(i32->is_null(0));
  EXPECT_EQ(i32->int32_value(0), 20);
  EXPECT_FALSE(got->column("i64")->is_null(0));
  EXPECT_TRUE(got->column("i64")->is_null(1));
  EXPECT_EQ(got->column("s")->string_value(1), "unknown");
  ASSERT_EQ(got->columns().size(), 3u) << "only the requested fields, in order";
  EXPECT_EQ(got->columns()[0].name(), "i64");
}

TEST_F(ClientTest, ErrorsCarryTheServersCodeAndMessage) {
  auto got = client_->Get(GetRequest{"nope", {"u1"}, {}});
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "unknown view 'nope'");
  WriteBatch wrong("all_types");
  wrong.Row({"u1"}).Set("i32", int64_t{1});
  auto put = client_->Put(wrong);
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(put.status().message().find("is int32, got int64"), std::string::npos);
  auto progress = client_->Get(GetRequest{"progress", {"u1"}, {}});
  EXPECT_EQ(progress.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(client_->Ping().ok()) << "the connection survives request errors";
}

TEST_F(ClientTest, ApplyingAChangedSchemaIsRefused) {
  auto r = client_->Apply(
      "views: [{name: progress, entity: user_item, fields: [{name: p, type: float64}]}]");
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  auto views = client_->ListViews();
  ASSERT_TRUE(views.ok());
  ASSERT_EQ(views->size(), 2u);
  auto info = client_->Describe("progress");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->join_keys, (std::vector<std::string>{"user_id", "item_id"}));
  EXPECT_EQ(info->fields[0].type.type, FieldType::kFloat32);
}

TEST_F(ClientTest, PipelineAnswersEveryRequestInOrder) {
  Pipeline pipeline(*client_);
  for (int i = 0; i < 200; ++i) {
    WriteBatch batch("progress");
    batch.Row({"u" + std::to_string(i), "i1"}).Set("p", static_cast<float>(i));
    pipeline.Put(batch);
  }
  pipeline.Get(GetRequest{"nope", {"x"}, {}});  // fails alone
  for (int i = 0; i < 200; ++i)
    pipeline.Get(GetRequest{"progress", {"u" + std::to_string(i), "i1"}, {}});
  auto replies = pipeline.Run();
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  ASSERT_EQ(replies->size(), 401u);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE((*replies)[i].put.has_value());
  EXPECT_EQ((*replies)[200].status.code(), StatusCode::kNotFound);
  for (int i = 0; i < 200; ++i) {
    const auto& reply = (*replies)[201 + i];
    ASSERT_TRUE(reply.get.has_value()) << reply.status.ToString();
    EXPECT_EQ(reply.get->column("p")->float32_value(0), static_cast<float>(i));
  }
}

TEST_F(ClientTest, ConcurrentClientsSeeTheirOwnWrites) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto client = testing::ConnectTo(server_);
      ASSERT_NE(client, nullptr);
      for (int i = 0; i < 200; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i % 10);
        WriteBatch batch("all_types");
        batch.Row({key}, 1000 + i).Set("i64", int64_t{i});
        ASSERT_TRUE(client->Put(batch).ok());
        auto got = client->Get(GetRequest{"all_types", {key}, {"i64"}});
        ASSERT_TRUE(got.ok());
        ASSERT_EQ(got->column("i64")->int64_value(0), i);
      }
    });
  }
  for (auto& t : threads)
    t.join();
}

// Sends raw bytes on a fresh connection and returns the answer's status;
// if closed_after is set, also whether the server then closed the connection.
Status SendRaw(uint16_t port, const std::vector<uint8_t>& bytes, bool* closed_after) {
  client_internal::Connection connection;
  QUIVER_RETURN_IF_ERROR(connection.Open("127.0.0.1", port, 5000, 64u << 20));
  QUIVER_RETURN_IF_ERROR(connection.SendAll(bytes));
  auto frame = connection.ReceiveFrame();
  if (!frame.ok()) return frame.status();
  const fb::Response* response = protocol::VerifyResponse(frame->bytes());
  if (response == nullptr) return Status::Internal("unverifiable response");
  if (closed_after != nullptr) *closed_after = !connection.ReceiveFrame().ok();
  return Status(static_cast<StatusCode>(response->code()),
                response->message() ? response->message()->str() : "");
}

TEST(ServerRobustnessTest, OversizeAndMalformedFramesAreRefusedWhileOthersAreServed) {
  QuiverdProcess server({"--max-frame", "1MB"});
  ASSERT_TRUE(server.ok());
  auto bystander = testing::ConnectTo(server);
  ASSERT_NE(bystander, nullptr);

  bool closed = false;
  const uint32_t huge = 512u << 20;
  std::vector<uint8_t> oversize(4);
  std::memcpy(oversize.data(), &huge, 4);
  Status s = SendRaw(server.port(), oversize, &closed);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_NE(s.message().find("--max-frame"), std::string::npos);
  EXPECT_TRUE(closed);

  std::vector<uint8_t> garbage(68, 0x5a);
  const uint32_t body = 64;
  std::memcpy(garbage.data(), &body, 4);
  s = SendRaw(server.port(), garbage, &closed);
  EXPECT_EQ(s.code(), StatusCode::kProtocolError) << s.ToString();
  EXPECT_TRUE(closed);

  flatbuffers::FlatBufferBuilder b;
  auto hello = fb::CreateHello(b, 99, b.CreateString("future"));
  b.FinishSizePrefixed(fb::CreateRequest(b, 1, fb::RequestBody::Hello, hello.Union()));
  s = SendRaw(server.port(), {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()}, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("unsupported protocol version 99"), std::string::npos);

  EXPECT_TRUE(bystander->Ping().ok()) << "other clients keep being served";
  EXPECT_TRUE(server.Alive());
}

TEST(ServerRobustnessTest, MemoryLimitRefusesWritesWhileReadsContinue) {
  // Without a history, so that the rows and this client's buffers are
  // what the limit counts (RocksDB's memtables take a few MB).
  QuiverdProcess server({"--max-memory", "256KB", "--durability", "memory"});
  ASSERT_TRUE(server.ok());
  auto client = testing::ConnectTo(server);
  ASSERT_TRUE(client->Apply(kDefinitions).ok());
  Status last;
  int written = 0;
  for (int i = 0; i < 10'000 && last.ok(); ++i) {
    WriteBatch batch("all_types");
    batch.Row({"user-" + std::to_string(i)}).Set("s", std::string(100, 'x'));
    auto r = client->Put(batch);
    last = r.status();
    written += r.ok();
  }
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(last.message().find("OOM"), std::string::npos);
  EXPECT_GT(written, 10);
  auto got = client->Get(GetRequest{"all_types", {"user-0"}, {"s"}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->column("s")->string_value(0), std::string(100, 'x'));
}

TEST(ServerLifecycleTest, StopsCleanlyOnSigterm) {
  QuiverdProcess server;
  ASSERT_TRUE(server.ok());
  auto client = testing::ConnectTo(server);
  ASSERT_TRUE(client->Ping().ok());
  const int status = server.Stop();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(client->Ping().code(), StatusCode::kUnavailable);
}

TEST(ServerLifecycleTest, ClientReconnectsAfterTheServerComesBack) {
  auto first = std::make_unique<QuiverdProcess>();
  ASSERT_TRUE(first->ok());
  const uint16_t port = first->port();
  auto client = testing::ConnectTo(*first);
  ASSERT_TRUE(client->Ping().ok());
  first.reset();  // stops it
  EXPECT_EQ(client->Ping().code(), StatusCode::kUnavailable);
  QuiverdProcess second({}, port);
  ASSERT_TRUE(second.ok()) << "could not restart on port " << port;
  ASSERT_EQ(second.port(), port);
  Status again = client->Ping();
  EXPECT_TRUE(again.ok()) << "the next call reconnects: " << again.ToString();
}

TEST(ServerLifecycleTest, FeaturesFileIsAppliedAtStart) {
  QuiverdProcess server({"--features", testing::SourcePath("examples/features.yaml")});
  ASSERT_TRUE(server.ok());
  auto views = testing::ConnectTo(server)->ListViews();
  ASSERT_TRUE(views.ok());
  EXPECT_EQ(views->size(), 3u);
}

}  // namespace
}  // namespace quiver
