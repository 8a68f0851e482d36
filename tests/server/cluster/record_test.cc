// Key slots (Redis Cluster's, checked against values redis-server's
// CLUSTER KEYSLOT returns) and the changelog's record encoding.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/cluster/record.h"
#include "server/cluster/slots.h"

namespace quiver::cluster {
namespace {

TEST(SlotsTest, MatchRedisClusterKeyslot) {
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // CRC16-CCITT (XModem)'s check value
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("hello"), 866);
  EXPECT_EQ(KeySlot("somekey"), 11058);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(SlotsTest, HashTagsHashOnlyTheTag) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("{user1000}.followers"), KeySlot("{user1000}.following"));
  EXPECT_EQ(HashedPart("foo{}{bar}"), "foo{}{bar}");  // an empty first tag: the whole key
  EXPECT_EQ(HashedPart("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(HashedPart("foo{bar}{zap}"), "bar");
  EXPECT_EQ(HashedPart("{no end"), "{no end");
}

TEST(SlotsTest, PartitionsAreContiguousSlotRanges) {
  EXPECT_EQ(PartitionOfSlot(0, 16), 0);
  EXPECT_EQ(PartitionOfSlot(1023, 16), 0);
  EXPECT_EQ(PartitionOfSlot(1024, 16), 1);
  EXPECT_EQ(PartitionOfSlot(kSlots - 1, 16), 15);
  EXPECT_EQ(PartitionOfSlot(kSlots - 1, 1), 0);
  EXPECT_EQ(PartitionOfSlot(kSlots - 1, kSlots), kSlots - 1);
  int last = 0;
  for (int slot = 0; slot < kSlots; ++slot) {
    const int p = PartitionOfSlot(slot, 7);
    EXPECT_TRUE(p == last || p == last + 1) << slot;
    last = p;
  }
  EXPECT_EQ(last, 6);
}

TEST(RecordTest, RoundTrips) {
  std::string record;
  EncodeHeader({.kind = RecordKind::kCommands,
                .origin = 0x0123456789abcdef,
                .seq = 42,
                .time_ms = 1'700'000'000'123,
                .write_id = "client-7:19"},
               &record);
  const std::vector<std::vector<std::string_view>> commands = {
      {"SET", "k", std::string_view("\0v", 2)}, {"INCR", "n"}};
  EncodeCommands(3, true, 5, commands, &record);
  RecordHeader header;
  std::string_view body;
  ASSERT_TRUE(DecodeRecord(record, &header, &body).ok());
  EXPECT_EQ(header.kind, RecordKind::kCommands);
  EXPECT_EQ(header.origin, 0x0123456789abcdefu);
  EXPECT_EQ(header.seq, 42u);
  EXPECT_EQ(header.time_ms, 1'700'000'000'123);
  EXPECT_EQ(header.write_id, "client-7:19");
  Commands decoded;
  ASSERT_TRUE(DecodeCommands(body, &decoded).ok());
  EXPECT_EQ(decoded.proto, 3);
  EXPECT_TRUE(decoded.transaction);
  EXPECT_EQ(decoded.db, 5);
  EXPECT_EQ(decoded.commands, commands);
}

TEST(RecordTest, RefusesEveryTruncationAndTrailingBytes) {
  std::string record;
  EncodeHeader({.kind = RecordKind::kCommands, .seq = 1, .write_id = ""}, &record);
  const std::vector<std::vector<std::string_view>> commands = {{"HSET", "h", "f", "v"}};
  EncodeCommands(2, false, 0, commands, &record);
  RecordHeader header;
  std::string_view body;
  ASSERT_TRUE(DecodeRecord(record, &header, &body).ok());
  const std::string full(body);
  Commands decoded;
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(DecodeCommands(std::string_view(full).substr(0, n), &decoded).ok()) << n;
  }
  EXPECT_FALSE(DecodeCommands(full + "x", &decoded).ok());
  for (size_t n = 0; n < 27; ++n) {
    EXPECT_FALSE(DecodeRecord(std::string_view(record).substr(0, n), &header, &body).ok()) << n;
  }
  std::string unknown = record;
  unknown[1] = 9;  // kind
  EXPECT_FALSE(DecodeRecord(unknown, &header, &body).ok());
  unknown = record;
  unknown[0] = 2;  // format
  EXPECT_FALSE(DecodeRecord(unknown, &header, &body).ok());
}

TEST(RecordTest, ACountBeyondTheBytesIsRefusedBeforeAnyAllocation) {
  std::string body;
  body.push_back(2);  // RESP2
  body.push_back(0);  // flags
  body.push_back(0);  // db 0
  for (int i = 0; i < 9; ++i)
    body.push_back(static_cast<char>(0xff));
  body.push_back(0x01);  // count: 2^63 or so
  Commands decoded;
  const Status s = DecodeCommands(body, &decoded);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("corrupt changelog record"), std::string::npos);
}

}  // namespace
}  // namespace quiver::cluster
