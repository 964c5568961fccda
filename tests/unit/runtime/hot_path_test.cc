// The pipeline's hot path: a warm pipeline allocates nothing per record, and processing
// messages in batches gives exactly what processing them one by one gives.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "connectors/datagen/cdr_generator.h"
#include "runtime/stream_task.h"
#include "session/statements.h"

// Counts every allocation in this test binary. Every non-aligned form is replaced so
// that new and delete stay paired (AddressSanitizer checks the pairing).
namespace {
std::atomic<int64_t> g_allocations{0};

void* Allocate(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* memory = std::malloc(size == 0 ? 1 : size);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}
}  // namespace

void* operator new(size_t size) { return Allocate(size); }
void* operator new[](size_t size) { return Allocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, size_t) noexcept { std::free(memory); }
void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }

namespace sidestream::runtime {
namespace {

std::string CdrSource() {
  std::ifstream file(std::string(SIDESTREAM_SOURCE_DIR) + "/queries/sources/cdr.sql");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

struct Messages {
  std::vector<datagen::GeneratedCdr> records;
  std::vector<InputMessage> inputs;  // views of `records`
};

// `per_second` records per second of event time.
Messages Generate(int count, double per_second) {
  datagen::CdrGeneratorOptions options;
  options.records_per_second = per_second;
  options.very_late_fraction = 0.02;  // some records miss their windows
  datagen::CdrGenerator generator(options);
  Messages messages;
  messages.records.resize(count);
  for (auto& record : messages.records) generator.Next(record);
  for (size_t i = 0; i < messages.records.size(); ++i) {
    InputMessage input;
    input.key = messages.records[i].key;
    input.value = messages.records[i].value;
    input.timestamp = messages.records[i].event_time;
    input.offset = static_cast<int64_t>(i);
    messages.inputs.push_back(input);
  }
  return messages;
}

/// A pipeline of one query over the CDR stream that counts (and optionally keeps) what it
/// writes.
struct Harness {
  std::unique_ptr<catalog::Catalog> catalog;
  session::NewQuery query;
  std::unique_ptr<StreamTask> pipeline;
  int64_t results = 0;
  bool keep = false;
  // When keeping: per topic ("" for results), "key|value|timestamp" in order. Order
  // across topics is not kept by Kafka either.
  std::map<std::string, std::vector<std::string>> outputs;

  void Create(const std::string& sql) {
    auto opened = catalog::Catalog::Open(":memory:");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    catalog = std::move(*opened);
    auto compiled = session::CompileLastQuery(CdrSource() + "\n" + sql, *catalog);
    ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
    query = std::move(*compiled);
    TaskCallbacks callbacks;
    callbacks.on_result = [this](const TaskResult& result) {
      ++results;
      if (keep) {
        outputs[""].push_back((result.key ? *result.key : "<null>") + "|" +
                              (result.value ? *result.value : "<null>") + "|" +
                              std::to_string(result.timestamp));
      }
      return Status::OK();
    };
    callbacks.on_side_output = [this](const std::string& topic, const std::string* key,
                                      const std::string& value, int64_t timestamp) {
      if (keep) {
        outputs[topic].push_back((key ? *key : "<null>") + "|" + value + "|" +
                                 std::to_string(timestamp));
      }
      return Status::OK();
    };
    auto created = StreamTask::Create(query.id, *query.plan, query.properties, callbacks);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    pipeline = std::move(*created);
  }
};

const char* kFilterProject =
    "CREATE STREAM long_calls AS SELECT caller_key, cell_id, duration_s FROM cdr "
    "WHERE record_type = 'VOICE' AND duration_s > 60;";
const char* kTumblingChanges =
    "CREATE TABLE per_cell AS SELECT cell_id, COUNT(*) AS calls, AVG(setup_ms) AS setup "
    "FROM cdr WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY cell_id EMIT CHANGES;";
const char* kHoppingDistinct =
    "CREATE TABLE callees AS SELECT caller_key, COUNT_DISTINCT(callee) AS distinct_callees "
    "FROM cdr WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 1 MINUTE) GROUP BY caller_key "
    "EMIT CHANGES;";

// Replaying the same messages touches only groups that exist already, so every
// allocation seen during the replay would be one per record.
void ExpectNoAllocationsOnReplay(const char* sql) {
  Messages messages = Generate(3000, 1000);
  Harness harness;
  harness.Create(sql);
  std::span<const InputMessage> inputs(messages.inputs);
  for (size_t i = 0; i < inputs.size(); i += 500) {
    ASSERT_TRUE(harness.pipeline->ProcessBatch(inputs.subspan(i, 500)).ok());
  }
  const int64_t results_before = harness.results;
  const int64_t before = g_allocations.load();
  for (size_t i = 0; i < inputs.size(); i += 500) {
    ASSERT_TRUE(harness.pipeline->ProcessBatch(inputs.subspan(i, 500)).ok());
  }
  const int64_t allocations = g_allocations.load() - before;
  EXPECT_GT(harness.results, results_before) << "the replay produced nothing: not a hot path";
  EXPECT_EQ(allocations, 0) << "allocations while replaying " << inputs.size() << " records";
}

TEST(HotPath, FilterProjectAllocatesNothingPerRecord) {
  ExpectNoAllocationsOnReplay(kFilterProject);
}

TEST(HotPath, TumblingAggregateAllocatesNothingPerRecord) {
  ExpectNoAllocationsOnReplay(kTumblingChanges);
}

TEST(HotPath, HoppingCountDistinctAllocatesNothingPerRecord) {
  ExpectNoAllocationsOnReplay(kHoppingDistinct);
}

TEST(HotPath, TheCounterSeesAllocations) {
  const int64_t before = g_allocations.load();
  auto* text = new std::string(100, 'x');
  delete text;
  EXPECT_GE(g_allocations.load() - before, 1);
}

// Batches of any size give the same records in the same order as one-by-one processing,
// late-record side outputs and EMIT FINAL's window closing included.
TEST(HotPath, BatchesGiveTheSameResultsAsSingleRecords) {
  const char* queries[] = {
      kFilterProject, kTumblingChanges, kHoppingDistinct,
      "CREATE TABLE final_cells WITH (LATE_TOPIC='late') AS SELECT cell_id, COUNT(*) AS calls "
      "FROM cdr WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 10 SECONDS) GROUP BY cell_id "
      "EMIT FINAL;",
      "CREATE TABLE sessions AS SELECT caller_key, COUNT(*) AS calls FROM cdr "
      "WINDOW SESSION (30 SECONDS) GROUP BY caller_key EMIT CHANGES;"};
  Messages messages = Generate(4000, 10);  // 400 s: windows close, records come late
  std::span<const InputMessage> inputs(messages.inputs);
  for (const char* sql : queries) {
    Harness single;
    single.keep = true;
    single.Create(sql);
    for (const InputMessage& input : inputs) ASSERT_TRUE(single.pipeline->Process(input).ok());
    ASSERT_FALSE(single.outputs.empty()) << sql;
    for (size_t batch_size : {7u, 1000u, 4000u}) {
      Harness batched;
      batched.keep = true;
      batched.Create(sql);
      for (size_t i = 0; i < inputs.size(); i += batch_size) {
        auto batch = inputs.subspan(i, std::min(batch_size, inputs.size() - i));
        ASSERT_TRUE(batched.pipeline->ProcessBatch(batch).ok());
      }
      EXPECT_TRUE(batched.outputs == single.outputs) << sql << " in batches of " << batch_size;
      EXPECT_EQ(batched.pipeline->counters().late_records,
                single.pipeline->counters().late_records);
    }
    if (std::string(sql).find("LATE_TOPIC") != std::string::npos) {
      EXPECT_GT(single.pipeline->counters().late_records, 0) << "no late records to compare";
    }
  }
}

}  // namespace
}  // namespace sidestream::runtime
