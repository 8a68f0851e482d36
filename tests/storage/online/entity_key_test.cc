#include "storage/online/entity_key.h"

#include <gtest/gtest.h>

namespace quiver {
namespace {

TEST(EntityKeyTest, JoinedKeyIsWhatSplitJoinedKeyTakes) {
  for (const std::vector<std::string_view>& parts : {std::vector<std::string_view>{"u1"},
                                                     {"u1", "i9"},
                                                     {"a", "bc", std::string_view("x\0y", 3)}}) {
    EncodedKeys keys;
    ASSERT_TRUE(EncodeEntityKeys(parts, parts.size(), &keys).ok());
    const std::string joined = JoinedKey(keys.views[0], parts.size());
    Result<std::vector<std::string_view>> split = SplitJoinedKey(joined, parts.size());
    ASSERT_TRUE(split.ok());
    EXPECT_EQ(*split, parts);
  }
}

TEST(EntityKeyTest, AMalformedCompositeKeyIsRenderedAsItIs) {
  EXPECT_EQ(JoinedKey("\x05"
                      "ab",
                      2),
            "\x05"
            "ab");  // a length past the end
  EXPECT_EQ(JoinedKey("", 2), "");
}

}  // namespace
}  // namespace quiver
