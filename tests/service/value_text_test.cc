// One value renderer for the RESP port's text and the HTTP port's JSON.
#include "service/value_text.h"

#include <gtest/gtest.h>

#include "protocol/json_text.h"
#include "storage/registry/registry.h"
#include "support/test_columns.h"
#include "util/rcu.h"

namespace quiver {
namespace {

constexpr char kDefinitions[] = R"(
entities: [{name: thing, keys: [thing_id]}]
views:
  - name: every
    entity: thing
    fields:
      - {name: b, type: bool, default: true}
      - {name: i, type: int64, default: -7}
      - {name: f, type: float32, default: 0.1}
      - {name: v, type: "float32[2]", default: [1.5, -2]}
      - {name: s, type: string, default: "say \"hi\""}
      - {name: raw, type: bytes, default: "abc"}
)";

class ValueTextTest : public ::testing::Test {
 protected:
  ValueTextTest() {
    EXPECT_TRUE(registry_.Apply(*ParseDefinitions(kDefinitions)).ok());
    rcu::ReadLock lock;
    view_ = registry_.current().ResolveName("every").value();
  }
  // The default of field `name` (no row) in the format.
  std::string Default(std::string_view name, ValueFormat format) {
    std::string out;
    const auto fi = static_cast<size_t>(view_->FieldIndex(name));
    AppendFieldValue(view_->fields[fi], nullptr, fi, format, &out);
    return out;
  }

  rcu::ThreadRegistration registration_;
  Registry registry_;
  const ViewSchema* view_ = nullptr;
};

TEST_F(ValueTextTest, JsonHasTypesTextHasPlainValues) {
  EXPECT_EQ(Default("b", ValueFormat::kJson), "true");
  EXPECT_EQ(Default("b", ValueFormat::kText), "1");
  EXPECT_EQ(Default("i", ValueFormat::kJson), "-7");
  EXPECT_EQ(Default("i", ValueFormat::kText), "-7");
  EXPECT_EQ(Default("f", ValueFormat::kJson), "0.1");  // shortest form that reads back
  EXPECT_EQ(Default("f", ValueFormat::kText), "0.1");
  EXPECT_EQ(Default("v", ValueFormat::kJson), "[1.5,-2]");
  EXPECT_EQ(Default("v", ValueFormat::kText), "1.5,-2");
  EXPECT_EQ(Default("s", ValueFormat::kJson), R"("say \"hi\"")");
  EXPECT_EQ(Default("s", ValueFormat::kText), R"(say "hi")");
  EXPECT_EQ(Default("raw", ValueFormat::kJson), R"("YWJj")");  // base64
  EXPECT_EQ(Default("raw", ValueFormat::kText), "abc");
}

// The HTTP port refuses an answer over its limit from this bound, before
// rendering it: it must never be below what AppendFieldValue writes.
TEST_F(ValueTextTest, TheJsonBoundCoversWhatIsRendered) {
  ReadResult read;
  read.view = view_;
  read.states = {RowState::kMissing, RowState::kMissing};
  read.rows.resize(2);
  read.event_time_ms.resize(2);
  for (size_t fi = 0; fi < view_->fields.size(); ++fi) {
    const std::string one = Default(view_->fields[fi].name, ValueFormat::kJson);
    const uint64_t bound = JsonValuesBound(read, static_cast<int>(fi));
    EXPECT_GE(bound, 2 * one.size()) << view_->fields[fi].name;
    if (IsVariableWidth(view_->fields[fi].type.type)) {
      EXPECT_EQ(bound, 2 * one.size()) << "exact for " << view_->fields[fi].name;
    }
  }
  for (std::string_view s : {std::string_view("plain"), std::string_view("q\"b\\n\n\t\x01"),
                             std::string_view("\xff\xfe not utf-8"), std::string_view("é ü")}) {
    std::string out;
    AppendJsonString(s, &out);
    EXPECT_EQ(JsonStringSize(s), out.size()) << out;
  }
}

}  // namespace
}  // namespace quiver
