// One value renderer for the RESP port's text and the HTTP port's JSON.
#include "service/value_text.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace quiver
