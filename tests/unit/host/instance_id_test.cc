// The default instance id under exactly_once_v2: kept in the state directory across restarts,
// and never shared by two live processes (which would fence each other's transactions).

#include "host/instance_id.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace sidestream::host {
namespace {

class InstanceIdTest : public testing::Test {
 protected:
  InstanceIdTest()
      : directory_((std::filesystem::temp_directory_path() /
                    ("instance_id_test_" + std::to_string(::getpid())))
                       .string()) {
    std::filesystem::remove_all(directory_);
  }
  ~InstanceIdTest() override { std::filesystem::remove_all(directory_); }

  const std::string directory_;
};

TEST_F(InstanceIdTest, ARestartKeepsItsIdAndALiveSecondProcessGetsItsOwn) {
  std::string first;
  {
    ClaimedInstanceId claimed(directory_);
    EXPECT_TRUE(claimed.kept());
    first = claimed.id();
    // Another claim while the first lives (a second process on the same state directory).
    ClaimedInstanceId second(directory_);
    EXPECT_FALSE(second.kept());
    EXPECT_NE(second.id(), first);
  }
  ClaimedInstanceId restarted(directory_);
  EXPECT_TRUE(restarted.kept());
  EXPECT_EQ(restarted.id(), first);
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(first.rfind(std::string(host) + "-", 0), 0u) << first;
}

TEST_F(InstanceIdTest, WithoutAUsableDirectoryEachRunTakesAFreshId) {
  const std::string file = directory_ + "-file";
  {
    std::FILE* made = std::fopen(file.c_str(), "w");
    ASSERT_NE(made, nullptr);
    std::fclose(made);
  }
  ClaimedInstanceId a(file + "/sub"), b(file + "/sub");  // a file where the directory should be
  EXPECT_FALSE(a.kept());
  EXPECT_NE(a.id(), b.id());
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace sidestream::host
