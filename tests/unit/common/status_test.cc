#include "common/status.h"

#include <gtest/gtest.h>

#include "common/did_you_mean.h"

namespace sidestream {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(value));
  return value / 2;
}

Result<int> Quarter(int value) {
  ASSIGN_OR_RAISE(int half, Half(value));
  ASSIGN_OR_RAISE(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int value) {
  RETURN_NOT_OK(Half(value).status());
  return Status::OK();
}

TEST(StatusTest, ToStringHasLocationMessageAndHint) {
  Status status = Status::BindError("Unknown column 'CELL'", {3, 14}, "did you mean CELL_ID?");
  EXPECT_EQ(status.ToString(), "line 3:14: Unknown column 'CELL' (hint: did you mean CELL_ID?)");
  EXPECT_TRUE(status.user_error());
  EXPECT_FALSE(status.retriable());
  EXPECT_EQ(Status::Unavailable("broker down").ToString(), "broker down");
  EXPECT_TRUE(Status::Unavailable("broker down").retriable());
  EXPECT_FALSE(Status::Internal("bug").user_error());
}

TEST(StatusTest, WithLocationKeepsAnExistingLocation) {
  Status located = Status::BindError("x", {1, 2}).WithLocation({5, 6});
  EXPECT_EQ(located.location().line, 1);
  Status unlocated = Status::BindError("x").WithLocation({5, 6});
  EXPECT_EQ(unlocated.location().line, 5);
  EXPECT_EQ(unlocated.location().column, 6);
}

TEST(StatusTest, MacrosReturnEarly) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd: 3");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).code(), StatusCode::kInvalidArgument);
}

TEST(DidYouMeanTest, SuggestsCloseNamesOnly) {
  EXPECT_EQ(NearestName("CONT", {"COUNT", "SUM"}), "COUNT");
  EXPECT_EQ(NearestName("form", {"SELECT", "FROM"}), "FROM");  // a swap counts 1
  EXPECT_EQ(NearestName("CALEE", {"CALLER", "CALLEE"}), "CALLEE");
  EXPECT_EQ(NearestName("WHOLLY_DIFFERENT", {"COUNT", "SUM"}), "");
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

}  // namespace
}  // namespace sidestream
