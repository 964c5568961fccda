// A foreign-key table-table join on 4 partitions (subscription and response topics, Kafka
// Streams' KIP-213) ends with the same table per key as on 1 partition (one operator), for
// INNER and LEFT joins: foreign keys that change, right updates and deletes, left deletes and
// NULL foreign keys, scripted and then in a long seeded random sequence.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "host/offline_engine.h"

namespace sidestream::host {
namespace {

using json = nlohmann::json;

struct Change {
  bool left = true;  // else the right table
  int key = 0;
  bool remove = false;
  std::optional<int> foreign_key;  // left rows: NULL when empty
  std::string text;
};

using FinalTable = std::map<std::string, std::string>;  // key -> value, deleted keys absent

// Runs `changes` through `CREATE TABLE OUT AS SELECT ... <join> ...` on `partitions`
// partitions; returns the output table as it ends, and the number of results.
FinalTable RunJoin(const std::string& join, int partitions, const std::vector<Change>& changes,
                   size_t& results) {
  auto engine = OfflineEngine::Create(partitions);
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return {};
  auto executed = (*engine)->Execute(
      "CREATE TABLE l (l_id INT PRIMARY KEY, name STRING, fk INT) "
      "WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON', PARTITIONS=" +
      std::to_string(partitions) +
      ");"
      "CREATE TABLE r (r_id INT PRIMARY KEY, f1 STRING) "
      "WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON', PARTITIONS=" +
      std::to_string(partitions) +
      ");"
      "CREATE TABLE out AS SELECT l_id, name, fk, f1 FROM l " +
      join + " r ON fk = r_id;");
  EXPECT_TRUE(executed.ok()) << executed.status().ToString();
  if (!executed.ok()) return {};
  int64_t time = 1000;
  for (const Change& change : changes) {
    TestRecord input;
    input.topic = change.left ? "l" : "r";
    input.key = change.key;
    input.timestamp = time += 10;
    if (change.remove) {
      input.value = nullptr;
    } else if (change.left) {
      input.value = {{"NAME", change.text},
                     {"FK", change.foreign_key ? json(*change.foreign_key) : json(nullptr)}};
    } else {
      input.value = {{"F1", change.text}};
    }
    const Status produced = (*engine)->Produce(input);
    EXPECT_TRUE(produced.ok()) << produced.ToString();
  }
  FinalTable table;
  const std::vector<TestRecord> out = (*engine)->Output("OUT");
  results = out.size();
  for (const TestRecord& record : out) {
    if (record.value.is_null()) {
      table.erase(record.key.dump());
    } else {
      table[record.key.dump()] = record.value.dump();
    }
  }
  return table;
}

std::vector<Change> Scripted() {
  return {
      {false, 10, false, {}, "ten"},
      {true, 1, false, 10, "a"},          // joins
      {true, 2, false, 20, "b"},          // no right row yet
      {false, 20, false, {}, "twenty"},   // joins 2
      {true, 1, false, 20, "a2"},         // foreign key changes: unsubscribes 10
      {false, 10, false, {}, "ten2"},     // no longer refers to 1
      {false, 20, false, {}, "twenty2"},  // both 1 and 2
      {true, 3, false, {}, "c"},          // NULL foreign key
      {true, 2, false, {}, "b2"},         // a foreign key goes NULL
      {true, 3, false, 10, "c2"},         // NULL to a key
      {false, 10, true, {}, ""},          // right delete
      {true, 1, true, {}, ""},            // left delete
      {true, 4, true, {}, ""},            // delete of nothing
      {true, 1, false, 10, "a3"},         // back, on a deleted right row
      {false, 10, false, {}, "ten3"},     // joins 1 and 3 again
      {true, 3, true, {}, ""},
      {true, 2, true, {}, ""},  // left delete of a NULL foreign key
  };
}

std::vector<Change> Random(unsigned seed, int count) {
  std::mt19937 random(seed);
  std::vector<Change> changes;
  for (int i = 0; i < count; ++i) {
    Change change;
    change.left = random() % 3 != 0;
    change.key = static_cast<int>(random() % (change.left ? 12 : 6));
    change.remove = random() % 6 == 0;
    if (change.left && random() % 5 != 0) change.foreign_key = static_cast<int>(random() % 6);
    change.text = "v" + std::to_string(i);
    changes.push_back(change);
  }
  return changes;
}

class ForeignKeyJoinPartitionsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ForeignKeyJoinPartitionsTest, ScriptedChangesEndAsOnOnePartition) {
  size_t one_results = 0, four_results = 0;
  const FinalTable one = RunJoin(GetParam(), 1, Scripted(), one_results);
  const FinalTable four = RunJoin(GetParam(), 4, Scripted(), four_results);
  EXPECT_GT(one_results, 5u);
  EXPECT_FALSE(one.empty());
  EXPECT_EQ(four, one);
}

TEST_P(ForeignKeyJoinPartitionsTest, RandomChangesEndAsOnOnePartition) {
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    const std::vector<Change> changes = Random(seed, 300);
    size_t one_results = 0, four_results = 0;
    const FinalTable one = RunJoin(GetParam(), 1, changes, one_results);
    const FinalTable four = RunJoin(GetParam(), 4, changes, four_results);
    EXPECT_GT(one_results, 50u);
    EXPECT_EQ(four, one);
  }
}

INSTANTIATE_TEST_SUITE_P(JoinTypes, ForeignKeyJoinPartitionsTest,
                         ::testing::Values("JOIN", "LEFT JOIN"));

}  // namespace
}  // namespace sidestream::host
