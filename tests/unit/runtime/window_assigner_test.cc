#include "runtime/window_assigner.h"

#include <gtest/gtest.h>

namespace sidestream::runtime {
namespace {

TEST(WindowAssignerTest, TumblingAlignsToTheEpoch) {
  std::vector<WindowBounds> windows;
  AssignTumbling(89'999, 30'000, windows);
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].start, 60'000);
  EXPECT_EQ(windows[0].end, 90'000);
  AssignTumbling(90'000, 30'000, windows);
  EXPECT_EQ(windows[0].start, 90'000);
  AssignTumbling(-1, 30'000, windows);
  EXPECT_EQ(windows[0].start, -30'000);
}

TEST(WindowAssignerTest, HoppingCoversEveryWindowHoldingTheTimestamp) {
  std::vector<WindowBounds> windows;
  AssignHopping(70'000, 30'000, 10'000, windows);  // size 30 s, advance 10 s
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0].start, 50'000);
  EXPECT_EQ(windows[1].start, 60'000);
  EXPECT_EQ(windows[2].start, 70'000);
  EXPECT_EQ(windows[2].end, 100'000);
  // Near the epoch, windows that would start before it are skipped.
  AssignHopping(5'000, 30'000, 10'000, windows);
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].start, 0);
}

TEST(WindowAssignerTest, GraceFollowsKafkaStreams) {
  // Window [0, 30000) with a 60 s grace closes when stream time reaches 90000.
  EXPECT_FALSE(WindowClosed({0, 30'000}, 60'000, 89'999));
  EXPECT_TRUE(WindowClosed({0, 30'000}, 60'000, 90'000));
}

}  // namespace
}  // namespace sidestream::runtime
