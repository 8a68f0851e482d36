// RESP command semantics in process, without a socket (tests/resp/ drives
// the same commands through real Redis clients over the wire). Expected
// replies are Redis 7's, byte for byte.
#include <gtest/gtest.h>

#include "server/resp/resp_harness.h"
#include "support/visits_view.h"

namespace quiver::resp {
namespace {

using H = RespHarness;

TEST(RespCommandsTest, SetThenGetReturnsTheValue) {
  RespHarness h;
  EXPECT_EQ(h.Run({"SET", "k", "v"}), H::Ok());
  EXPECT_EQ(h.Run({"GET", "k"}), H::Bulk("v"));
  EXPECT_EQ(h.Run({"GET", "absent"}), H::Null());
}

TEST(RespCommandsTest, ACommandOnAKeyOfAnotherKindRepliesWrongType) {
  RespHarness h;
  ASSERT_EQ(h.Run({"SET", "k", "v"}), H::Ok());
  const std::string wrong_type =
      H::Error("WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(h.Run({"LPUSH", "k", "a"}), wrong_type);
  EXPECT_EQ(h.Run({"HGET", "k", "f"}), wrong_type);
  ASSERT_EQ(h.Run({"RPUSH", "list", "a"}), H::Integer(1));
  EXPECT_EQ(h.Run({"GET", "list"}), wrong_type);
  EXPECT_EQ(h.Run({"GET", "k"}), H::Bulk("v"));  // unchanged
}

// An error without a kind is "ERR message", even when its message starts
// with a word in capitals (which once passed for an error code).
TEST(RespCommandsTest, AnErrorWithoutAKindRepliesErr) {
  RespHarness h;
  ASSERT_EQ(h.Run({"SET", "k", "v"}), H::Ok());
  EXPECT_EQ(h.Run({"EXPIRE", "k", "10", "GT", "LT"}),
            H::Error("ERR GT and LT options at the same time are not compatible"));
  EXPECT_EQ(h.Run({"EXPIRE", "k", "10", "NX", "XX"}),
            H::Error("ERR NX and XX, GT or LT options at the same time are not compatible"));
  ASSERT_EQ(h.Run({"RPUSH", "l", "a"}), H::Integer(1));
  EXPECT_EQ(h.Run({"LPOS", "l", "a", "COUNT", "-1"}), H::Error("ERR COUNT can't be negative"));
  EXPECT_EQ(h.Run({"LPOS", "l", "a", "MAXLEN", "-1"}), H::Error("ERR MAXLEN can't be negative"));
  EXPECT_EQ(h.Run({"INCR", "k"}), H::Error("ERR value is not an integer or out of range"));
}

TEST(RespCommandsTest, WritesOverTheMemoryLimitReplyOomAndReadsGoOn) {
  RespHarness h({.max_memory_bytes = 64 << 10, .requirepass = ""});
  ASSERT_EQ(h.Run({"SET", "small", "v"}), H::Ok());
  const std::string big(128 << 10, 'x');
  const std::string oom = H::Error("OOM command not allowed when used memory > 'maxmemory'.");
  EXPECT_EQ(h.Run({"SET", "big", big}), oom);
  EXPECT_EQ(h.Run({"GET", "big"}), H::Null());
  EXPECT_EQ(h.Run({"GET", "small"}), H::Bulk("v"));
}

TEST(RespCommandsTest, APasswordIsRequiredBeforeAnyOtherCommand) {
  RespHarness h({.requirepass = "secret"});
  EXPECT_EQ(h.Run({"GET", "k"}), H::Error("NOAUTH Authentication required."));
  EXPECT_EQ(h.Run({"AUTH", "wrong"}),
            H::Error("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_EQ(h.Run({"HELLO", "3"}).substr(0, 51),
            "-NOAUTH HELLO must be called with the client alread");
  EXPECT_EQ(h.Run({"AUTH", "secret"}), H::Ok());
  EXPECT_EQ(h.Run({"GET", "k"}), H::Null());
}

TEST(RespCommandsTest, ARefusedCommandInsideMultiAbortsExec) {
  RespHarness h;
  EXPECT_EQ(h.Run({"MULTI"}), H::Ok());
  EXPECT_EQ(h.Run({"SET", "k", "v"}), "+QUEUED\r\n");
  EXPECT_EQ(h.Run({"GET"}), H::Error("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(h.Run({"EXEC"}),
            H::Error("EXECABORT Transaction discarded because of previous errors."));
  EXPECT_EQ(h.Run({"GET", "k"}), H::Null());
}

TEST(RespCommandsTest, ConfigReadsAndChangesQuiverdsSettingsByEitherName) {
  RespHarness h;
  EXPECT_EQ(h.Run({"CONFIG", "GET", "maxmemory"}), "*2\r\n" + H::Bulk("maxmemory") + H::Bulk("0"));
  EXPECT_EQ(h.Run({"CONFIG", "SET", "maxmemory", "64kb"}), H::Ok());
  EXPECT_EQ(h.Run({"CONFIG", "GET", "max_memory"}),
            "*2\r\n" + H::Bulk("max_memory") + H::Bulk("65536"));
  const std::string big(128 << 10, 'x');
  EXPECT_EQ(h.Run({"SET", "big", big}),
            H::Error("OOM command not allowed when used memory > 'maxmemory'."));
  EXPECT_EQ(h.Run({"CONFIG", "SET", "maxmemory", "0"}), H::Ok());
  EXPECT_EQ(h.Run({"SET", "big", big}), H::Ok());
  EXPECT_EQ(h.Run({"CONFIG", "SET", "databases", "32"}),
            H::Error("ERR CONFIG SET failed (possibly related to argument 'databases') - can't "
                     "set immutable config"));
  EXPECT_EQ(h.Run({"CONFIG", "SET", "no-such-thing", "1"}),
            H::Error("ERR Unknown option or number of arguments for CONFIG SET - 'no-such-thing'"));
  EXPECT_EQ(h.Run({"CONFIG", "SET", "appendonly", "yes"}), H::Ok());  // Redis's, stored
  EXPECT_EQ(h.Run({"CONFIG", "GET", "appendonly"}),
            "*2\r\n" + H::Bulk("appendonly") + H::Bulk("yes"));
}

TEST(RespCommandsTest, ConfigSetRequirepassAppliesToNewAuthentications) {
  RespHarness h;
  EXPECT_EQ(h.Run({"CONFIG", "SET", "requirepass", "s3cret"}), H::Ok());
  EXPECT_EQ(h.Run({"AUTH", "wrong"}),
            H::Error("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_EQ(h.Run({"AUTH", "s3cret"}), H::Ok());
}

TEST(RespCommandsTest, FeatureRowsReadAsHashesAndRefuseWrites) {
  RespHarness h;
  ASSERT_TRUE(h.store().Apply(kVisitsDefinitions).ok());
  ASSERT_TRUE(WriteVisits(h.store(), "u1", 7).ok());
  EXPECT_EQ(h.Run({"HGET", "quiver:profile:u1", "visits"}), H::Bulk("7"));
  EXPECT_EQ(h.Run({"HGET", "quiver:profile:nobody", "visits"}), H::Null());
  EXPECT_EQ(h.Run({"HSET", "quiver:profile:u1", "visits", "8"}).substr(0, 40),
            "-ERR keys under 'quiver:' are feature ro");
  EXPECT_EQ(h.Run({"HGET", "quiver:profile:u1", "visits"}), H::Bulk("7"));
}

}  // namespace
}  // namespace quiver::resp
