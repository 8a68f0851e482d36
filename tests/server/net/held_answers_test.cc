// HeldAnswers: answers leave in request order, each once the commits it
// follows are done.
#include "server/net/held_answers.h"

#include <gtest/gtest.h>

namespace quiver {
namespace {

TEST(HeldAnswersTest, AnswersLeaveInRequestOrderOnceTheirCommitsAreDone) {
  HeldAnswers held;
  std::string out;
  held.Hold("a", 1, true);
  held.Hold("b", 2, false);  // a read after a write: waits for the write
  held.Hold("c", 3, true);
  EXPECT_EQ(held.awaiting(), 2u);
  held.Release(&out);
  EXPECT_EQ(out, "");  // "a" awaits its commit, and "b", "c" come after it

  HeldAnswers::Answer* first = held.Committed();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->id, 1u);  // the oldest awaiting
  held.Release(&out);
  EXPECT_EQ(out, "ab");
  EXPECT_EQ(held.awaiting(), 1u);
  EXPECT_FALSE(held.empty());

  HeldAnswers::Answer* second = held.Committed();
  ASSERT_NE(second, nullptr);
  second->bytes = "error";  // a failed commit answers with an error instead
  held.Release(&out);
  EXPECT_EQ(out, "aberror");
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(held.Committed(), nullptr);
}

TEST(HeldAnswersTest, ClearDropsEverything) {
  HeldAnswers held;
  held.Hold("a", 0, true);
  held.Hold("b", 0, false);
  held.Clear();
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(held.awaiting(), 0u);
}

}  // namespace
}  // namespace quiver
