// PackedSet: which members an intset holds (Redis's string2ll), the
// narrowest width, listpack order, and malformed values refused.
#include "storage/keyspace/packed_set.h"

#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

namespace quiver {
namespace {

std::vector<uint8_t> Pack(const PackedSet& set) {
  std::vector<uint8_t> out(PackedSetSize(set));
  PackSet(set, out.data());
  return out;
}

TEST(PackedSetTest, IntegersAreThoseRedisKeepsInAnIntset) {
  int64_t v = 0;
  for (const char* yes : {"0", "7", "-7", "123456", "9223372036854775807", "-9223372036854775808"})
    EXPECT_TRUE(SetInteger(yes, &v)) << yes;
  EXPECT_TRUE(SetInteger("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  for (const char* no : {"", "-", "-0", "00", "01", "+1", " 1", "1 ", "1.0", "1e3", "0x10",
                         "9223372036854775808", "-9223372036854775809", "a"})
    EXPECT_FALSE(SetInteger(no, &v)) << no;
}

TEST(PackedSetTest, AnIntsetTakesTheNarrowestWidth) {
  for (auto [ints, width] :
       std::vector<std::pair<std::vector<int64_t>, size_t>>{{{-3, 0, 32767}, 2},
                                                            {{-32769, 5}, 4},
                                                            {{INT32_MIN, INT32_MAX}, 4},
                                                            {{1, int64_t{INT32_MAX} + 1}, 8},
                                                            {{INT64_MIN, 0, INT64_MAX}, 8}}) {
    PackedSet set{.encoding = SetEncoding::kIntSet, .ints = ints, .strs = {}};
    std::vector<uint8_t> packed = Pack(set);
    EXPECT_EQ(packed.size(), 2 + width * ints.size());
    PackedSet back;
    ASSERT_TRUE(DecodeSet(packed, &back));
    EXPECT_EQ(back.encoding, SetEncoding::kIntSet);
    EXPECT_EQ(back.ints, ints);
  }
}

TEST(PackedSetTest, AListpackKeepsItsMembersInOrder) {
  PackedSet set{.encoding = SetEncoding::kListpack, .ints = {}, .strs = {"b", "", "a", "ccc"}};
  std::vector<uint8_t> packed = Pack(set);
  PackedSet back;
  ASSERT_TRUE(DecodeSet(packed, &back));
  EXPECT_EQ(back.encoding, SetEncoding::kListpack);
  EXPECT_EQ(back.strs, set.strs);
  EXPECT_EQ(back.size(), 4u);
}

TEST(PackedSetTest, MalformedValuesAreRefused) {
  PackedSet out;
  const std::vector<std::vector<uint8_t>> bad = {
      {},                    // nothing
      {9},                   // unknown encoding
      {1},                   // an intset without its width
      {1, 3, 0, 0, 0},       // width 3
      {1, 2, 1},             // a partial member
      {1, 2, 2, 0, 1, 0},    // not ascending
      {1, 2, 1, 0, 1, 0},    // a member twice
      {2, 1, 0, 0, 0, 5, 0}  // a listpack item longer than the value
  };
  for (const auto& packed : bad)
    EXPECT_FALSE(DecodeSet(packed, &out)) << packed.size();
}

}  // namespace
}  // namespace quiver
