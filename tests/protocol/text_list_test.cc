#include "protocol/text_list.h"

#include <gtest/gtest.h>

namespace quiver {
namespace {

using List = std::vector<std::string_view>;

TEST(TextListTest, EmptyItemsAreDropped) {
  EXPECT_EQ(SplitCommaList("a,b,c"), (List{"a", "b", "c"}));
  EXPECT_EQ(SplitCommaList("a,,b,"), (List{"a", "b"}));
  EXPECT_EQ(SplitCommaList(""), List{});
  EXPECT_EQ(SplitCommaList(","), List{});
}

}  // namespace
}  // namespace quiver
