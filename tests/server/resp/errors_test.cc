// The RESP front end's table from error kinds to Redis error codes.
#include "server/resp/errors.h"

#include <gtest/gtest.h>

namespace quiver::resp {
namespace {

TEST(RespErrorsTest, EachKindRepliesItsRedisCode) {
  EXPECT_EQ(ErrorReply(Status::WrongType("Operation against a key")),
            "WRONGTYPE Operation against a key");
  EXPECT_EQ(ErrorReply(Status::NoAuth("Authentication required.")),
            "NOAUTH Authentication required.");
  EXPECT_EQ(ErrorReply(Status::WrongPass("invalid")), "WRONGPASS invalid");
  EXPECT_EQ(ErrorReply(Status::NoPermission("no")), "NOPERM no");
  EXPECT_EQ(ErrorReply(Status::ReadOnly("replica")), "READONLY replica");
  EXPECT_EQ(ErrorReply(Status::Busy("script")), "BUSY script");
}

TEST(RespErrorsTest, OutOfMemoryRepliesRedisTextWhateverLimitRefused) {
  EXPECT_EQ(ErrorReply(Status::OutOfMemory("write of 3 rows refused")), kOomReply);
}

TEST(RespErrorsTest, AStatusWithoutAKindRepliesErrWhateverItsMessage) {
  EXPECT_EQ(ErrorReply(Status::InvalidArgument("syntax error")), "ERR syntax error");
  EXPECT_EQ(ErrorReply(Status::InvalidArgument("GT and LT options")), "ERR GT and LT options");
  EXPECT_EQ(ErrorReply(Status::ResourceExhausted("OOM lookalike")), "ERR OOM lookalike");
}

TEST(StatusKindTest, ToStringNamesTheKindBeforeTheMessage) {
  EXPECT_EQ(Status::OutOfMemory("write refused").ToString(),
            "ResourceExhausted: OOM write refused");
  EXPECT_EQ(Status::NoAuth("send it").ToString(), "Unauthenticated: NOAUTH send it");
  EXPECT_EQ(Status::NotFound("unknown view 'x'").ToString(), "NotFound: unknown view 'x'");
  EXPECT_EQ(Status::WrongType("m").kind(), ErrorKind::kWrongType);
  EXPECT_EQ(Status::InvalidArgument("m").kind(), ErrorKind::kNone);
}

}  // namespace
}  // namespace quiver::resp
