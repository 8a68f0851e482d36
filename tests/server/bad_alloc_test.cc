// No std::bad_alloc ends the process (issue 25): a request whose memory
// cannot be had fails alone, with an error, and the server goes on. This
// executable replaces operator new so that the Nth allocation of the
// calling thread throws, and runs native and RESP requests with N = 1, 2,
// ... until one succeeds: each earlier attempt must answer an error and
// leave the data as it was. (Records come from malloc, whose failure is a
// null the callers check: a SET has no operator new to fail.)
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "protocol/frame.h"
#include "protocol/resp.h"
#include "server/native/handler.h"
#include "server/resp/command.h"
#include "server/resp/resp_harness.h"
#include "storage/keyspace/keyspace.h"
#include "util/rcu.h"

namespace {
thread_local int64_t fail_in = -1;  // allocations until one throws; -1: none

// Null when this allocation is the one to fail.
void* TryAllocate(std::size_t n) noexcept {
  if (fail_in >= 0 && fail_in-- == 0) return nullptr;
  return std::malloc(n == 0 ? 1 : n);
}

void* Allocate(std::size_t n) {
  if (void* p = TryAllocate(n)) return p;
  throw std::bad_alloc();
}
}  // namespace

// Every form of new and delete but the aligned ones (left to the runtime,
// which pairs them itself), so that each delete frees what its new took.
void* operator new(std::size_t n) {
  return Allocate(n);
}
void* operator new[](std::size_t n) {
  return Allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return TryAllocate(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return TryAllocate(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace quiver {
namespace {

constexpr char kDefinitions[] =
    "entities: [{name: user, keys: [user_id]}]\n"
    "views: [{name: v, entity: user, fields: [{name: x, type: int64}, {name: s, type: string}]}]";

class BadAllocTest : public ::testing::Test {
 protected:
  BadAllocTest() : table_(OnlineTable::Options{}), store_(registry_, table_, nullptr, {}) {
    EXPECT_TRUE(store_.Apply(kDefinitions).ok());
  }
  rcu::ThreadRegistration registration_;
  Registry registry_;
  OnlineTable table_;
  FeatureStore store_;
};

// A native Put of two rows, as an aligned frame.
std::vector<uint64_t> PutFrame(size_t* size) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<int64_t> xs{10, 20};
  auto x = fb::CreateColumn(b, b.CreateString("x"), fb::FieldType::Int64, 0, 0, 0, 0,
                            b.CreateVector(xs));
  auto put = fb::CreatePut(b, b.CreateString("v"), b.CreateVectorOfStrings({"a", "b"}), 0,
                           b.CreateVector(std::vector{x}));
  b.FinishSizePrefixed(fb::CreateRequest(b, 7, fb::RequestBody::Put, put.Union()));
  std::vector<uint64_t> aligned((b.GetSize() + 7) / 8);
  std::memcpy(aligned.data(), b.GetBufferPointer(), b.GetSize());
  *size = b.GetSize();
  return aligned;
}

TEST_F(BadAllocTest, ANativeRequestWithoutMemoryFailsAloneUntilOneHasIt) {
  NativeHandler handler(store_, {});
  size_t size = 0;
  std::vector<uint64_t> frame = PutFrame(&size);
  int failures = 0;
  for (int64_t n = 0;; ++n) {
    ASSERT_LT(n, 10000) << "the request never succeeded";
    flatbuffers::FlatBufferBuilder out(1024);
    bool well_formed = false;
    fail_in = n;
    try {
      well_formed = handler.Handle({reinterpret_cast<uint8_t*>(frame.data()), size}, &out);
    } catch (const std::bad_alloc&) {
      // Before the handler had its answer's memory: the caller's part.
      fail_in = -1;
      ++failures;
      continue;
    }
    const bool failed = fail_in < 0;  // the allocation that was to fail did
    fail_in = -1;
    ASSERT_TRUE(well_formed);
    const fb::Response* r = protocol::VerifyResponse({out.GetBufferPointer(), out.GetSize()});
    ASSERT_NE(r, nullptr);
    if (!failed) {
      EXPECT_EQ(r->code(), fb::StatusCode::Ok);
      break;
    }
    ++failures;
    // Either the failure came after the rows were in (the answer could
    // not be built), or nothing changed.
    if (r->code() != fb::StatusCode::Ok) {
      EXPECT_EQ(r->code(), fb::StatusCode::ResourceExhausted) << r->message()->str();
    }
  }
  EXPECT_GT(failures, 3);
  EXPECT_EQ(table_.size(), 2);
}

TEST(BadAllocRespTest, ACommandWithoutMemoryFailsAloneUntilOneHasIt) {
  for (const std::vector<std::string_view>& args :
       {std::vector<std::string_view>{"RPUSH", "list", "a", "b", "c"},
        std::vector<std::string_view>{"HSET", "hash", "f1", "a", "f2", "b"},
        std::vector<std::string_view>{"LPUSH", "list2", "x", "y"}}) {
    resp::RespHarness h;
    int failures = 0;
    for (int64_t n = 0;; ++n) {
      ASSERT_LT(n, 10000) << args[0] << " never succeeded";
      std::string reply;
      fail_in = n;
      try {
        reply = h.Run(args);
      } catch (const std::bad_alloc&) {  // the harness's own allocations
        fail_in = -1;
        continue;
      }
      const bool failed = fail_in < 0;  // the allocation that was to fail did
      fail_in = -1;
      if (!failed) {
        EXPECT_TRUE(reply == ":3\r\n" || reply == ":2\r\n") << reply;
        break;
      }
      ++failures;
      // Refused whole: an error, and the key is not there.
      EXPECT_TRUE(reply.starts_with("-OOM")) << args[0] << ": " << reply;
      ASSERT_EQ(h.keyspace().Size(0), 0) << "a failed " << args[0] << " left its key";
    }
    EXPECT_GT(failures, 0) << args[0];
  }
}

}  // namespace
}  // namespace quiver
