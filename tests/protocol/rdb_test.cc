// The DUMP/RESTORE codec: payloads captured from redis-server 7.0.15 decode
// to their values; what quiver writes decodes back to the same value; the
// footer, every truncation and malformed containers are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "protocol/rdb/packed.h"
#include "protocol/rdb/rdb.h"

namespace quiver::rdb {
namespace {

constexpr size_t kBudget = 1 << 20;

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

Value MustRead(std::string_view payload) {
  Result<Value> v = Read(payload, kBudget);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : Value{};
}

using Items = std::vector<std::string>;

TEST(Crc64Test, MatchesRedisCheckValue) {
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
}

TEST(RdbReadTest, DecodesRedisPayloadsOfEveryEncoding) {
  Value s = MustRead(Hex("000568656c6c6f0a006372df766534200a"));
  EXPECT_EQ(s.type, Type::kString);
  EXPECT_EQ(s.text, "hello");
  EXPECT_EQ(MustRead(Hex("00c1c7cf0a0067eda236b4db26d0")).text, "-12345");  // int16
  std::string repeated;
  for (int i = 0; i < 10; ++i)
    repeated += "abcabcabc";
  EXPECT_EQ(MustRead(Hex("00c30b405a0361626361e04b020162630a00238036f9e2d0c780")).text,
            repeated);  // LZF
  // A quicklist of one LZF-compressed listpack node.
  Value l =
      MustRead(Hex("120102c3184058105800000004008161020101ded402e04678e03c000148ff0a0044cc546a"
                   "b27d5d40"));
  EXPECT_EQ(l.type, Type::kList);
  EXPECT_EQ(l.items, (Items{"a", "1", "-300", std::string(70, 'x')}));
  Value is = MustRead(Hex("0b14040000000300000090eefeff01000000020000000a005d9df7da2f43d06b"));
  EXPECT_EQ(is.type, Type::kSet);
  EXPECT_EQ(is.items, (Items{"-70000", "1", "2"}));
  Value ls = MustRead(Hex("0202016201610a0075d99d835ef85f65"));
  EXPECT_EQ(ls.items, (Items{"b", "a"}));
  Value h = MustRead(Hex("1012120000000400816602817602816e020701ff0a00b82adea8407ffaa8"));
  EXPECT_EQ(h.type, Type::kHash);
  EXPECT_EQ(h.items, (Items{"f", "v", "n", "7"}));
  Value z =
      MustRead(Hex("111d1d0000000600816202dffe0281610283312e350481630283696e6604ff0a007356ad"
                   "6cc2484ad0"));
  EXPECT_EQ(z.type, Type::kZSet);
  EXPECT_EQ(z.items, (Items{"b", "a", "c"}));
  EXPECT_EQ(z.scores, (std::vector<double>{-2, 1.5, HUGE_VAL}));
}

TEST(RdbReadTest, DecodesZiplistsAsRedis6WritesThem) {
  // A ziplist of "ab", 5 (immediate), -2 (int8) and 70000 (int24).
  std::string zl(10, '\0');  // the header, filled in below
  zl += Hex("00026162");     // prevlen 0, 6-bit string "ab"
  zl += Hex("04f6");         // prevlen 4, immediate 5
  zl += Hex("02fefe");       // prevlen 2, int8 -2
  zl += Hex("03f0701101");   // prevlen 3, int24 70000
  zl += '\xff';
  const uint32_t total = static_cast<uint32_t>(zl.size());
  const uint16_t count = 4;
  std::memcpy(zl.data(), &total, 4);
  std::memcpy(zl.data() + 8, &count, 2);
  Items got;
  ASSERT_TRUE(ForEachZiplistEntry(zl, [&](std::string_view e) {
                got.emplace_back(e);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(got, (Items{"ab", "5", "-2", "70000"}));
  zl.pop_back();  // no end marker: refused
  EXPECT_FALSE(ForEachZiplistEntry(zl, [](std::string_view) { return Status::Ok(); }).ok());
}

Value RoundTrip(Type type, const Items& items, const std::vector<double>& scores = {}) {
  Writer w(type);
  for (size_t i = 0; i < items.size(); ++i) {
    if (type == Type::kZSet) {
      w.Add(items[i], scores[i]);
    } else {
      w.Add(items[i]);
    }
  }
  return MustRead(std::move(w).Finish());
}

TEST(RdbWriteTest, WhatIsWrittenReadsBack) {
  for (const std::string& s : Items{"", "0", "-1", "127", "128", "-32769", "2147483647",
                                    "2147483648", "007", "+1", std::string(20000, 'q')}) {
    Value v = MustRead(Writer::String(s));
    EXPECT_EQ(v.text, s);
  }
  EXPECT_EQ(Writer::String("hello"), Hex("000568656c6c6f0a006372df766534200a"))
      << "the same bytes as Redis";
  const Items items = {"a", "12", std::string(300, 'z'), "", "-5"};
  EXPECT_EQ(RoundTrip(Type::kList, items).items, items);
  EXPECT_EQ(RoundTrip(Type::kSet, items).items, items);
  EXPECT_EQ(RoundTrip(Type::kHash, {"f", "v", "g", ""}).items, (Items{"f", "v", "g", ""}));
  Value z = RoundTrip(Type::kZSet, {"m", "n", "o"}, {0.1, -HUGE_VAL, 1e300});
  EXPECT_EQ(z.items, (Items{"m", "n", "o"}));
  EXPECT_EQ(z.scores, (std::vector<double>{0.1, -HUGE_VAL, 1e300}));
}

TEST(RdbReadTest, RefusesABadFooterEveryTruncationAndBadValues) {
  const std::string good = Hex("1012120000000400816602817602816e020701ff0a00b82adea8407ffaa8");
  std::string flipped = good;
  flipped[3] ^= 1;
  EXPECT_EQ(Read(flipped, kBudget).status().message(),
            "DUMP payload version or checksum are wrong");
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(Read(good.substr(0, n), kBudget).ok()) << n;
  Writer dup(Type::kSet);
  dup.Add("x");
  dup.Add("x");
  EXPECT_EQ(Read(std::move(dup).Finish(), kBudget).status().message(),
            "Bad data format: a duplicate member or field");
  Writer nan(Type::kZSet);
  nan.Add("m", std::nan(""));
  EXPECT_FALSE(Read(std::move(nan).Finish(), kBudget).ok());
  EXPECT_FALSE(Read(Writer(Type::kList).Finish(), kBudget).ok()) << "an empty list";
}

TEST(RdbReadTest, AValueOverTheBudgetIsRefusedBeforeItIsBuilt) {
  const std::string big = Writer::String(std::string(5000, 'b'));
  EXPECT_TRUE(Read(big, 6000).ok());
  EXPECT_EQ(Read(big, 4000).status().message(),
            "the restored value would take more than 4000 bytes");
  // A count of items far beyond the payload is refused before any allocation.
  std::string lie = Hex("01810000000100000000") + "\x0a";  // a list claiming 2^32 items
  lie += '\0';
  const uint64_t crc = Crc64(0, lie);
  lie.append(reinterpret_cast<const char*>(&crc), 8);
  EXPECT_EQ(Read(lie, kBudget).status().message(), "Bad data format: a count beyond the payload");
}

TEST(RdbFunctionsTest, ReadsRedisPayloadAndWritesOneRedisReads) {
  // FUNCTION DUMP of redis-server 7.0.15 holding one library.
  const std::string redis = Hex(
      "f5404a23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f66756e6374696f6e2827"
      "66272c2066756e6374696f6e286b2c2061292072657475726e203120656e64290a00a9ff32e0c1048f47");
  Result<std::vector<std::string>> codes = ReadFunctions(redis);
  ASSERT_TRUE(codes.ok()) << codes.status().message();
  ASSERT_EQ(codes->size(), 1u);
  EXPECT_EQ((*codes)[0],
            "#!lua name=mylib\nredis.register_function('f', function(k, a) return 1 end)");
  EXPECT_EQ(DumpFunctions({(*codes)[0]}), redis) << "short enough that Redis does not compress it";
  Result<std::vector<std::string>> two = ReadFunctions(DumpFunctions({"a", std::string(300, 'b')}));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, (std::vector<std::string>{"a", std::string(300, 'b')}));
  EXPECT_TRUE(ReadFunctions(DumpFunctions({}))->empty());
  EXPECT_EQ(ReadFunctions(Writer::String("x")).status().message(), "given type is not a function");
}

}  // namespace
}  // namespace quiver::rdb
