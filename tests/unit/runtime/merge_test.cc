// A join task's inputs are processed in timestamp order across sources, each source's own
// order kept (MergeSourcesByTimestamp).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/partition_group.h"

namespace sidestream::runtime {
namespace {

InputMessage Message(size_t source, int64_t timestamp, int64_t offset) {
  InputMessage message;
  message.source = source;
  message.timestamp = timestamp;
  message.offset = offset;
  return message;
}

std::string Order(const std::vector<InputMessage>& messages) {
  std::string order;
  for (const auto& message : messages) {
    order += std::to_string(message.source) + ":" + std::to_string(message.offset) + " ";
  }
  return order;
}

TEST(MergeSourcesByTimestampTest, OldestHeadFirstAndEachSourceInItsOrder) {
  // Stream records (source 0) arrived before the table rows (source 1) that precede them.
  const std::vector<InputMessage> arrived = {
      Message(0, 20, 0), Message(0, 30, 1), Message(0, 5, 2),  // out of order within source 0
      Message(1, 10, 0), Message(1, 25, 1), Message(1, 30, 2)};
  std::vector<InputMessage> merged;
  MergeSourcesByTimestamp(arrived, merged);
  // Source 0's late record (t=5) stays behind t=30 of its own source; a tie goes to the
  // message that arrived first.
  EXPECT_EQ(Order(merged), "1:0 0:0 1:1 0:1 0:2 1:2 ");
}

TEST(MergeSourcesByTimestampTest, OneSourceKeepsItsOrder) {
  const std::vector<InputMessage> arrived = {Message(0, 3, 0), Message(0, 1, 1), Message(0, 2, 2)};
  std::vector<InputMessage> merged;
  MergeSourcesByTimestamp(arrived, merged);
  EXPECT_EQ(Order(merged), "0:0 0:1 0:2 ");
}

}  // namespace
}  // namespace sidestream::runtime
