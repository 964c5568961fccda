// A task's checkpoint file: written atomically, read back as written, and a missing or
// damaged one is told apart (NotFound, Corruption) so the task restores in full.

#include "runtime/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sidestream::runtime {
namespace {

class CheckpointTest : public testing::Test {
 protected:
  CheckpointTest()
      : path_((std::filesystem::temp_directory_path() /
               ("checkpoint_test_" + std::to_string(::getpid()) + "_" +
                testing::UnitTest::GetInstance()->current_test_info()->name()))
                  .string()) {}
  ~CheckpointTest() override {
    std::filesystem::remove(path_);
    std::filesystem::remove(path_ + ".tmp");
  }
  void WriteText(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }
  std::string path_;
};

TEST_F(CheckpointTest, ReadsBackWhatWasWritten) {
  CheckpointOffsets offsets{{{"app_q-aggregate-0-changelog", 3}, 1234},
                            {{"app_q-stream-time-changelog", 3}, 7}};
  ASSERT_TRUE(WriteCheckpoint(path_, offsets).ok());
  auto read = ReadCheckpoint(path_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, offsets);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  ASSERT_TRUE(WriteCheckpoint(path_, {}).ok());  // replaced, not appended to
  EXPECT_TRUE(ReadCheckpoint(path_)->empty());
}

TEST_F(CheckpointTest, AMissingCheckpointIsNotFound) {
  EXPECT_EQ(ReadCheckpoint(path_).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(DeleteCheckpoint(path_).ok());  // deleting none is fine
}

TEST_F(CheckpointTest, ADamagedCheckpointIsCorruption) {
  for (const std::string& text :
       {std::string(""), std::string("1\n0\n"), std::string("0\n2\ntopic 0 5\n"),
        std::string("0\n1\ntopic x 5\n"), std::string("0\n1\ntopic 0 -5\n"),
        std::string("0\n1\ntopic05\n"), std::string("0\n1\ntopic 0 5\nmore 1 2\n"),
        std::string("\x01\xff garbage")}) {
    WriteText(text);
    auto read = ReadCheckpoint(path_);
    EXPECT_EQ(read.status().code(), StatusCode::kCorruption) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace sidestream::runtime
