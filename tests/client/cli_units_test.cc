#include <gtest/gtest.h>

#include <sstream>

#include "client/cli/csv.h"
#include "client/cli/values.h"
#include "client/json.h"
#include "protocol/timestamp.h"

namespace quiver {
namespace {

TEST(TimestampTest, ParsesRfc3339AndUnixMillis) {
  EXPECT_EQ(*ParseTimestampMs("0"), 0);
  EXPECT_EQ(*ParseTimestampMs("1763900000000"), 1'763'900'000'000);
  EXPECT_EQ(*ParseTimestampMs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimestampMs("2026-11-23T07:00:00Z"), 1'795'417'200'000);
  EXPECT_EQ(*ParseTimestampMs("2026-11-23T08:00:00.250+01:00"), 1'795'417'200'250);
  EXPECT_EQ(*ParseTimestampMs("2000-02-29T00:00:00Z"), 951'782'400'000);
  EXPECT_FALSE(ParseTimestampMs("2026-11-23").ok());
  EXPECT_FALSE(ParseTimestampMs("2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestampMs("2026-11-23T07:00:00").ok()) << "an offset is required";
  EXPECT_EQ(FormatTimestampMs(1'795'417'200'250), "2026-11-23T07:00:00.250Z");
}

TEST(CsvTest, FieldsRoundTripThroughQuoting) {
  const std::vector<std::string> fields = {"plain",   "",           "[0.5,1,2]", "say \"hi\"", "\"",
                                           "\"\"x\"", "two\nlines", "cr\r",      "end,\""};
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    cli::AppendCsvField(fields[i], &line);
  }
  EXPECT_TRUE(line.starts_with(R"(plain,,"[0.5,1,2]","say ""hi""","""","""""x""",)")) << line;
  std::istringstream in(line + "\n");
  cli::CsvReader reader(in);
  std::vector<std::string> read;
  Result<bool> got = reader.Next(&read);
  ASSERT_TRUE(got.ok() && *got) << got.status().ToString();
  EXPECT_EQ(read, fields);
}

TEST(SplitKeyTest, CountsJoinKeys) {
  EXPECT_EQ(*SplitKey("u1,i9", 2), (std::vector<std::string>{"u1", "i9"}));
  EXPECT_FALSE(SplitKey("u1", 2).ok());
  EXPECT_FALSE(SplitKey("u1,i9,x", 2).ok());
}

TEST(JsonTest, StringsAreAlwaysValidJson) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01", &out);
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
  out.clear();
  AppendJsonString("caf\xc3\xa9", &out);
  EXPECT_EQ(out, "\"caf\xc3\xa9\"") << "UTF-8 passes through";
  out.clear();
  AppendJsonString("\xff", &out);
  EXPECT_EQ(out, R"("\u00ff")") << "other bytes are escaped";
}

}  // namespace
}  // namespace quiver
