// RespReader and RespWriter: requests as Redis parses them, whole or in
// pieces, Redis's protocol errors, and the RESP2/RESP3 reply forms.
#include "protocol/resp.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace quiver::protocol {
namespace {

using Commands = std::vector<std::vector<std::string>>;

// Feeds `input` in pieces of `piece` bytes; returns the commands parsed,
// and the protocol error if one came.
Commands Parse(const std::string& input, size_t piece, std::string* error = nullptr,
               RespLimits limits = {}) {
  RespReader reader(limits);
  Commands out;
  std::vector<std::string_view> args;
  for (size_t at = 0; at < input.size(); at += piece) {
    const size_t n = std::min(piece, input.size() - at);
    std::span<char> space = reader.WritableSpace(n);
    std::memcpy(space.data(), input.data() + at, n);
    reader.Commit(n);
    for (;;) {
      Result<bool> got = reader.Next(&args);
      if (!got.ok()) {
        if (error != nullptr) *error = got.status().message();
        return out;
      }
      if (!*got) break;
      out.emplace_back(args.begin(), args.end());
    }
  }
  return out;
}

TEST(RespReaderTest, MultibulkAndInlineWholeOrByteByByte) {
  static constexpr char kInput[] =
      "*3\r\n$3\r\nSET\r\n$5\r\nk\0\r\nx\r\n$0\r\n\r\n"  // binary-safe, empty arg
      "PING\r\n"
      "  set   \"a b\" 'c\\'d' \"\\x41\\n\"\n"  // inline, quoted and escaped
      "\r\n"                                    // blank line: skipped
      "*0\r\n*-1\r\n"                           // empty multibulk: skipped
      "*1\r\n$4\r\nPING\r\n";
  const std::string bytes(kInput, sizeof(kInput) - 1);
  const Commands want = {
      {"SET", std::string("k\0\r\nx", 5), ""}, {"PING"}, {"set", "a b", "c'd", "A\n"}, {"PING"}};
  for (size_t piece : {bytes.size(), size_t{1}, size_t{2}, size_t{7}}) {
    EXPECT_EQ(Parse(bytes, piece), want) << "piece " << piece;
  }
}

TEST(RespReaderTest, ProtocolErrorsUseRedisWords) {
  struct Case {
    std::string input, error;
  };
  const Case cases[] = {
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*2000000\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n%3\r\n", "Protocol error: expected '$', got '%'"},
      {"*1\r\n$-2\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$99999999999\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$01\r\n", "Protocol error: invalid bulk length"},
      {"SET \"unterminated\r\n", "Protocol error: unbalanced quotes in request"},
      {"SET \"a\"b\r\n", "Protocol error: unbalanced quotes in request"},
      {std::string(70 * 1024, 'a'), "Protocol error: too big inline request"},
      {"*1\r\n$" + std::string(70 * 1024, '1'), "Protocol error: too big bulk count string"},
  };
  for (const Case& c : cases) {
    std::string error;
    Parse(c.input, c.input.size(), &error);
    EXPECT_EQ(error, c.error) << c.input.substr(0, 40);
  }
}

TEST(RespReaderTest, LargeBulkArrivingInPiecesIsParsedOnce) {
  const std::string value(3 << 20, 'v');
  const std::string input =
      "*2\r\n$3\r\nGET\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  Commands got = Parse(input, 4096);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0][1], value);
}

TEST(RespReaderTest, RequestOverTheLimitIsRefusedBeforeItIsRead) {
  std::string error;
  Parse("*1\r\n$2000\r\n", 64, &error, {.max_bulk = 1000});
  EXPECT_EQ(error, "Protocol error: invalid bulk length");
}

// Feeds bytes as a socket read would: into what WritableSpace offers.
void Feed(RespReader& reader, std::string_view bytes) {
  while (!bytes.empty()) {
    std::span<char> space = reader.WritableSpace();
    const size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    reader.Commit(n);
    bytes.remove_prefix(n);
  }
}

TEST(RespReaderTest, ADeclaredLengthCostsNothingUntilItsBytesArrive) {
  RespReader reader;
  std::vector<std::string_view> args;
  Feed(reader, "*1\r\n$536870912\r\n");
  EXPECT_FALSE(*reader.Next(&args));
  reader.WritableSpace();
  EXPECT_LE(reader.capacity(), 2 * RespReader::kInitialBytes) << "512 MB announced, 20 bytes sent";
  // As the bytes come, the buffer grows with them: at most twice what arrived.
  const std::string chunk(100'000, 'x');
  for (int i = 0; i < 40; ++i) {
    Feed(reader, chunk);
    EXPECT_FALSE(*reader.Next(&args));
    reader.WritableSpace();
    EXPECT_LE(reader.capacity(), 2 * reader.buffered() + RespReader::kInitialBytes) << i;
  }
}

TEST(RespReaderTest, TheBufferShrinksBackAfterALargeRequest) {
  RespReader reader;
  const std::string value(3 << 20, 'v');
  Feed(reader, "*2\r\n$3\r\nGET\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n");
  std::vector<std::string_view> args;
  ASSERT_TRUE(*reader.Next(&args));
  EXPECT_EQ(args[1].size(), value.size());
  EXPECT_GT(reader.capacity(), RespReader::kShrinkAbove);
  reader.WritableSpace();
  EXPECT_EQ(reader.capacity(), RespReader::kInitialBytes);
}

TEST(RespReaderTest, BeforeAuthOnlySmallRequestsAreParsed) {
  struct Case {
    std::string input, error;
  };
  const Case cases[] = {
      {"*11\r\n", "Protocol error: unauthenticated multibulk length"},
      {"*2000000\r\n", "Protocol error: invalid multibulk length"},  // Redis checks this first
      {"*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length"},
      {"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"},
      {"*10\r\n$16384\r\n", ""},  // at the limits: waits for the bytes
  };
  for (const Case& c : cases) {
    RespReader reader;
    reader.set_authenticated(false);
    Feed(reader, c.input);
    std::vector<std::string_view> args;
    Result<bool> got = reader.Next(&args);
    EXPECT_EQ(got.ok() ? "" : got.status().message(), c.error) << c.input;
  }
  RespReader reader;
  reader.set_authenticated(false);
  Feed(reader, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n");
  std::vector<std::string_view> args;
  ASSERT_TRUE(*reader.Next(&args));
  reader.set_authenticated(true);  // AUTH succeeded
  EXPECT_TRUE(reader.Next(&args).ok()) << "the next request is parsed under the new limits";
}

TEST(RespWriterTest, Resp2AndResp3Forms) {
  std::string out;
  RespWriter w(&out);
  w.Null();
  w.NullArray();
  w.Map(1);
  w.Set(2);
  w.Double(1.5);
  w.Bool(true);
  w.Verbatim("hi");
  w.Error("ERR bad\r\nthing");
  EXPECT_EQ(out, "$-1\r\n*-1\r\n*2\r\n*2\r\n$3\r\n1.5\r\n:1\r\n$2\r\nhi\r\n-ERR bad  thing\r\n");
  out.clear();
  w.SetVersion(3);
  w.Null();
  w.NullArray();
  w.Map(1);
  w.Set(2);
  w.Double(1.5);
  w.Bool(false);
  w.Verbatim("hi");
  EXPECT_EQ(out, "_\r\n_\r\n%1\r\n~2\r\n,1.5\r\n#f\r\n=6\r\ntxt:hi\r\n");
}

TEST(RespWriterTest, LongDoublesPrintAsRedisDoes) {
  EXPECT_EQ(FormatLongDouble(10.5L + 0.1L), "10.6");
  EXPECT_EQ(FormatLongDouble(5200.0L), "5200");
  EXPECT_EQ(FormatLongDouble(-0.0L), "0");
  EXPECT_EQ(FormatLongDouble(3.0e-5L), "0.00003");
}

TEST(SplitInlineArgsTest, MatchesSdsSplitArgs) {
  std::vector<std::string_view> args;
  std::string line = "a\t\"b\\tc\" '' \"\\xzz\"";
  ASSERT_TRUE(SplitInlineArgs(line, &args));
  ASSERT_EQ(args.size(), 4u);
  EXPECT_EQ(args[1], "b\tc");
  EXPECT_EQ(args[2], "");
  EXPECT_EQ(args[3], "xzz");
  std::string bad = "'abc";
  EXPECT_FALSE(SplitInlineArgs(bad, &args));
}

}  // namespace
}  // namespace quiver::protocol
