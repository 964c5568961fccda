// RecordCollector writes each result with the headers of the input that caused it (as Kafka
// Streams forwards the current record's), without the repartition topic's own headers that
// input carried, then adds this stage's own for the next stage.
#include "runtime/record_collector.h"

#include <gtest/gtest.h>

#include <utility>

namespace sidestream::runtime {
namespace {

using Headers = std::vector<std::pair<std::string, std::optional<std::string>>>;

class CapturingSink final : public Sink {
 public:
  explicit CapturingSink(std::vector<Headers>& written) : written_(written) {}
  Status Produce(std::string_view, int32_t, std::string_view, std::string_view, int64_t,
                 std::span<const RecordHeader> headers) override {
    Headers& copy = written_.emplace_back();
    for (const RecordHeader& header : headers) {
      copy.emplace_back(std::string(header.name),
                        header.has_value ? std::optional<std::string>(header.value) : std::nullopt);
    }
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }
  void ClearErrors() override {}

 private:
  std::vector<Headers>& written_;
};

TEST(RecordCollectorTest, AResultCarriesItsInputsHeadersButNotTheRepartitionTopics) {
  std::vector<Headers> written;
  RecordCollector collector(std::make_unique<CapturingSink>(written), 1'000'000);
  // The input as a stage reading a repartition topic gets it: the user's headers, then the
  // ones the stage before added.
  const std::vector<RecordHeader> input_headers = {{"trace", "t1"},
                                                   {"empty", "", /*has_value=*/false},
                                                   {kRetractHeader, "true"},
                                                   {kOldValueHeader, "{}"}};
  InputMessage input;
  input.key = "k";
  input.value = "{}";
  input.headers = input_headers;
  const std::string key = "k", value = "{\"N\":1}";
  TaskResult result;
  result.key = &key;
  result.value = &value;
  result.source = &input;

  TaskCallbacks sink = collector.StageCallbacks("OUT", /*carry_sources=*/false);
  ASSERT_TRUE(sink.on_result(result).ok());
  // A re-keying stage adds its own after them.
  result.retract = true;
  TaskCallbacks repartition = collector.StageCallbacks("app_Q-repartition", false);
  ASSERT_TRUE(repartition.on_result(result).ok());
  // A result no one input caused (a window that closed) carries none.
  result.retract = false;
  result.source = nullptr;
  ASSERT_TRUE(sink.on_result(result).ok());

  ASSERT_EQ(written.size(), 3u);
  const Headers user = {{"trace", "t1"}, {"empty", std::nullopt}};
  EXPECT_EQ(written[0], user);
  Headers with_retract = user;
  with_retract.emplace_back(std::string(kRetractHeader), "true");
  EXPECT_EQ(written[1], with_retract);
  EXPECT_TRUE(written[2].empty());
}

}  // namespace
}  // namespace sidestream::runtime
