// PackedList against a std::deque<std::string> doing the same operations.
#include "storage/keyspace/packed_list.h"

#include <deque>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace quiver {
namespace {

std::vector<std::string> Items(const PackedList& list, size_t from, size_t to, bool reverse) {
  std::vector<std::string> out;
  size_t expected = reverse ? to : from;
  list.ForEach(from, to, reverse, [&](size_t i, std::string_view item) {
    EXPECT_EQ(i, reverse ? --expected : expected++);
    out.emplace_back(item);
    return true;
  });
  return out;
}

void ExpectSame(const PackedList& list, const std::deque<std::string>& model) {
  ASSERT_EQ(list.size(), model.size());
  const std::vector<std::string> forward = Items(list, 0, list.size(), false);
  ASSERT_EQ(std::vector<std::string>(model.begin(), model.end()), forward);
  std::vector<std::string> backward = Items(list, 0, list.size(), true);
  std::reverse(backward.begin(), backward.end());
  ASSERT_EQ(forward, backward);
  for (size_t i = 0; i < model.size(); i += 1 + model.size() / 17)
    ASSERT_EQ(list.at(i), model[i]) << i;
  if (!model.empty()) {
    EXPECT_EQ(list.front(), model.front());
    EXPECT_EQ(list.back(), model.back());
  }
}

std::string RandomItem(std::mt19937& rng) {
  // Mostly small, some past a varint byte (128) and some past a chunk.
  const int kind = static_cast<int>(rng() % 20);
  const size_t size = kind == 0 ? 5000 + rng() % 3000 : kind < 4 ? 100 + rng() % 200 : rng() % 12;
  std::string s(size, 'a');
  for (char& c : s)
    c = static_cast<char>('a' + rng() % 26);
  return s;
}

TEST(PackedListTest, MatchesADequeUnderRandomOperations) {
  std::mt19937 rng(7);
  PackedList list;
  std::deque<std::string> model;
  for (int step = 0; step < 20'000; ++step) {
    const int op = static_cast<int>(rng() % 100);
    const std::string item = RandomItem(rng);
    if (op < 30) {
      list.PushFront(item);
      model.push_front(item);
    } else if (op < 60) {
      list.PushBack(item);
      model.push_back(item);
    } else if (op < 70 && !model.empty()) {
      list.PopFront();
      model.pop_front();
    } else if (op < 80 && !model.empty()) {
      list.PopBack();
      model.pop_back();
    } else if (op < 88 && !model.empty()) {
      const size_t i = rng() % model.size();
      list.Set(i, item);
      model[i] = item;
    } else if (op < 96) {
      const size_t i = rng() % (model.size() + 1);
      list.Insert(i, item);
      model.insert(model.begin() + static_cast<std::ptrdiff_t>(i), item);
    } else if (!model.empty()) {
      // Remove an item that is there (several copies of it, perhaps).
      const std::string victim = model[rng() % model.size()];
      const size_t limit = rng() % 3;
      const bool from_tail = rng() % 2 == 0;
      size_t removed = 0;
      std::deque<std::string> kept;
      auto visit = [&](const std::string& s) {
        if (s == victim && (limit == 0 || removed < limit)) {
          ++removed;
        } else if (from_tail) {
          kept.push_front(s);
        } else {
          kept.push_back(s);
        }
      };
      if (from_tail) {
        std::for_each(model.rbegin(), model.rend(), visit);
      } else {
        std::for_each(model.begin(), model.end(), visit);
      }
      model.swap(kept);
      ASSERT_EQ(list.Remove(victim, limit, from_tail), removed);
    }
    if (step % 997 == 0) ExpectSame(list, model);
  }
  ExpectSame(list, model);
}

TEST(PackedListTest, ForEachVisitsARangeInEitherDirectionAndStops) {
  PackedList list;
  for (int i = 0; i < 5000; ++i)
    list.PushBack(std::to_string(i));
  EXPECT_EQ(Items(list, 1200, 1205, false),
            (std::vector<std::string>{"1200", "1201", "1202", "1203", "1204"}));
  EXPECT_EQ(Items(list, 4997, 5000, true), (std::vector<std::string>{"4999", "4998", "4997"}));
  EXPECT_TRUE(Items(list, 10, 10, false).empty());
  size_t seen = 0;
  list.ForEach(0, list.size(), true, [&](size_t, std::string_view) { return ++seen < 3; });
  EXPECT_EQ(seen, 3u);
}

TEST(PackedListTest, SmallItemsTakeAFewBytesEachAndPopsGiveMemoryBack) {
  PackedList list;
  for (int i = 0; i < 100'000; ++i)
    list.PushFront("abc");
  // 5 bytes an item plus chunk headers, against 32+ for a std::string.
  EXPECT_LT(list.bytes(), 100'000u * 6);
  EXPECT_GT(list.bytes(), 100'000u * 5);
  while (!list.empty())
    list.PopBack();
  EXPECT_EQ(list.bytes(), 0u);
}

}  // namespace
}  // namespace quiver
