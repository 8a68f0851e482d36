// PackedBytes against std::string under random splices, across the inline
// and heap forms (ASan checks every allocation it makes).
#include "storage/streaming/packed_state.h"

#include <random>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace quiver {
namespace {

std::string RandomBytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
  return s;
}

TEST(PackedBytesTest, SplicesMatchAStringInlineAndOnTheHeap) {
  std::mt19937 rng(7);
  PackedBytes bytes;
  std::string model;
  bool inline_seen = false, heap_seen = false;
  for (int step = 0; step < 20'000; ++step) {
    const size_t pos = std::uniform_int_distribution<size_t>(0, model.size())(rng);
    const size_t n = std::uniform_int_distribution<size_t>(0, model.size() - pos)(rng);
    const size_t grow = std::uniform_int_distribution<size_t>(0, model.size() < 40 ? 12 : 4)(rng);
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0: {
        const std::string with = RandomBytes(rng, grow);
        bytes.replace(pos, n, with);
        model.replace(pos, n, with);
        break;
      }
      case 1:
        bytes.insert(pos, grow);
        model.insert(pos, grow, '\0');
        break;
      case 2:
        bytes.erase(pos, n);
        model.erase(pos, n);
        break;
      default: {
        const std::string with = RandomBytes(rng, grow);
        bytes.append(with);
        model.append(with);
      }
    }
    ASSERT_EQ(bytes.view(), model) << "step " << step;
    // Exactly the room the bytes need: inline up to 15, else on the heap.
    ASSERT_EQ(bytes.on_heap(), model.size() > PackedBytes::kInline) << "step " << step;
    inline_seen |= !bytes.on_heap() && !model.empty();
    heap_seen |= bytes.on_heap();
  }
  EXPECT_TRUE(inline_seen);
  EXPECT_TRUE(heap_seen);
}

TEST(PackedBytesTest, CopiesAndMovesOwnTheirBytes) {
  for (const std::string& text : {std::string("short"), std::string(100, 'x')}) {
    PackedBytes a;
    a.assign(text);
    PackedBytes b = a;  // a copy
    b.replace(0, 1, "y");
    EXPECT_EQ(a.view(), text);
    PackedBytes c = std::move(b);
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(c.view(), "y" + text.substr(1));
    a = std::move(c);  // the old heap bytes of a are freed
    EXPECT_EQ(a.view(), "y" + text.substr(1));
    const PackedBytes& same = a;
    a = same;  // self-assignment keeps the bytes
    EXPECT_EQ(a.view(), "y" + text.substr(1));
  }
}

}  // namespace
}  // namespace quiver
