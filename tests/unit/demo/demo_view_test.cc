#include "server/demo_view.h"

#include <gtest/gtest.h>

#include <string>

namespace sidestream::server {
namespace {

int Occurrences(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

TEST(DemoViewTest, ABurstOfOneAlertKindKeepsTheLatestOfAnother) {
  DemoView view;
  const int64_t minute = 1796578020000;
  view.Add("IMPOSSIBLE_TRAVEL", "+491700000001",
           R"({"FROM_CELL":"C1","TO_CELL":"C9","DISTANCE_KM":800.0,"MINUTES":3.0})", minute);
  // More SIM-box bursts than the section has rows, all after the trip.
  for (int caller = 10; caller < 10 + 2 * static_cast<int>(DemoView::kRowsPerSection); ++caller) {
    view.Add("CALL_BURSTS",
             "+4917000000" + std::to_string(caller) + "@" + std::to_string(minute) + "/" +
                 std::to_string(minute + 300000),
             R"({"CALLS":61,"DISTINCT_CALLEES":61})", minute + caller * 1000);
  }
  const std::string screen = view.Render("status");
  EXPECT_EQ(Occurrences(screen, "impossible travel  +491700000001  C1 -> C9, 800 km in 3.0 min"), 1)
      << screen;
  EXPECT_EQ(Occurrences(screen, "SIM-box call burst"),
            static_cast<int>(DemoView::kRowsPerSection) - 1)
      << screen;
  // The bursts shown are the latest ones.
  EXPECT_NE(screen.find("+491700000021"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("+491700000010"), std::string::npos) << screen;
}

TEST(DemoViewTest, TheSameFindingFromAnotherRecordIsShownOnce) {
  DemoView view;
  const std::string trip = R"({"FROM_CELL":"C1","TO_CELL":"C9","DISTANCE_KM":800.0,"MINUTES":3.0})";
  view.Add("IMPOSSIBLE_TRAVEL", "+491700000001", trip, 1000);
  view.Add("IMPOSSIBLE_TRAVEL", "+491700000001", trip, 2000);
  EXPECT_EQ(Occurrences(view.Render("status"), "impossible travel"), 1);
}

}  // namespace
}  // namespace sidestream::server
