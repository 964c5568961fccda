// KafkaEngine::PullQuery: pull queries over the stores of the stream threads.
//
// Thread safety: a store belongs to its task's stream thread ("Thread: the owning task's
// thread only"), and a RocksDB store's iterators and write batch are no safer to share. So a
// pull query never touches a store from another thread: each stream thread takes the request
// on a queue (StreamThread::VisitTasks) and reads its own tasks' stores between two polls,
// where no record is being applied, and the answers of all threads are gathered here. A
// per-store lock would cost every record a lock on the hot path, and would still let a pull
// query see a batch half applied; the queue costs the records nothing, and a pull query waits
// at most for the poll under way, which the queued visit wakes (StreamThread::Wake). A WHERE
// that pins the table's key (`KEY = x`, `KEY IN (...)`) reads just those keys' entries.

#include <algorithm>
#include <mutex>
#include <tuple>

#include "connectors/formats/row_format.h"
#include "expr/evaluator.h"
#include "host/kafka_engine.h"
#include "runtime/stream_task.h"
#include "runtime/topology.h"

namespace sidestream::host {

namespace {

using analyzer::LogicalOperator;
using analyzer::LogicalOperatorKind;

// The Scan at the bottom of a pull query's plan (Project over Filter over Scan).
const LogicalOperator* ScanOf(const LogicalOperator& plan) {
  const LogicalOperator* node = &plan;
  while (node->kind != LogicalOperatorKind::kScan) {
    if (node->children.size() != 1) return nullptr;
    node = node->children.front().get();
  }
  return node;
}

// Whether `plan` (a stage) ends in one Aggregate and no join: its store holds the results.
bool AggregatesAlone(const LogicalOperator& plan) {
  int aggregates = 0;
  bool join = false;
  std::vector<const LogicalOperator*> pending = {&plan};
  while (!pending.empty()) {
    const LogicalOperator* node = pending.back();
    pending.pop_back();
    if (node->kind == LogicalOperatorKind::kAggregate) ++aggregates;
    if (node->kind == LogicalOperatorKind::kJoin) join = true;
    for (const auto& child : node->children) pending.push_back(child.get());
  }
  return aggregates == 1 && !join;
}

// Whether `node` reads no column: its value is the same for every row.
bool Constant(const analyzer::BoundExpression& node) {
  if (node.kind == analyzer::BoundKind::kColumn || node.kind == analyzer::BoundKind::kAggregate ||
      node.kind == analyzer::BoundKind::kLambdaVariable) {
    return false;
  }
  for (const auto& child : node.children) {
    if (!Constant(*child)) return false;
  }
  return true;
}

// `constant`'s value as a value of the key column's type, or nullopt when it cannot be one
// exactly (a NULL matches no key; other type pairs are left to a scan).
std::optional<types::Value> KeyValue(const analyzer::BoundExpression& constant,
                                     const types::SqlType& key_type) {
  auto evaluator = expr::Evaluator::Compile(constant);
  if (!evaluator.ok()) return std::nullopt;
  types::Value value;
  if (!(*evaluator)->Evaluate(types::Row(), value).ok() || value.is_null()) return std::nullopt;
  if (value.kind() == key_type.id()) return value;
  // INT and BIGINT literals against the other integer type: the store keys by type too.
  if (key_type.is_integral() &&
      (value.kind() == types::TypeId::kInt || value.kind() == types::TypeId::kBigint)) {
    value.SetInteger(key_type.id(), value.integer());
    return value;
  }
  return std::nullopt;
}

// The keys a pull query's WHERE restricts a single-key table to: from a conjunct
// `KEY = constant` or `KEY IN (constants...)` (either side of `=`). Nullopt when the WHERE
// does not pin the key, so the whole table is read. The WHERE still runs over what the
// lookup returns, so the keys only need to include every key a matching row can have.
std::optional<std::vector<types::Row>> KeysOfWhere(const LogicalOperator& plan,
                                                   const LogicalOperator& scan) {
  const LogicalOperator* filter = nullptr;
  for (const LogicalOperator* node = &plan; node != &scan && node->children.size() == 1;
       node = node->children.front().get()) {
    if (node->kind == LogicalOperatorKind::kFilter && node->children.front().get() == &scan) {
      filter = node;
    }
  }
  if (filter == nullptr || !filter->predicate) return std::nullopt;
  int key_index = -1;
  for (size_t i = 0; i < scan.output.columns.size(); ++i) {
    if (scan.output.columns[i].role != catalog::ColumnRole::kKey) continue;
    if (key_index >= 0) return std::nullopt;  // a multi-column key: scan
    key_index = static_cast<int>(i);
  }
  if (key_index < 0) return std::nullopt;
  const types::SqlType& key_type = scan.output.columns[static_cast<size_t>(key_index)].type;
  auto is_key = [&](const analyzer::BoundExpression& node) {
    return node.kind == analyzer::BoundKind::kColumn && node.column_index == key_index;
  };
  std::vector<const analyzer::BoundExpression*> conjuncts = {filter->predicate.get()};
  while (!conjuncts.empty()) {
    const analyzer::BoundExpression& node = *conjuncts.back();
    conjuncts.pop_back();
    if (node.kind == analyzer::BoundKind::kBinary && node.name == "AND") {
      for (const auto& child : node.children) conjuncts.push_back(child.get());
      continue;
    }
    std::vector<const analyzer::BoundExpression*> constants;
    if (node.kind == analyzer::BoundKind::kBinary && node.name == "=" &&
        node.children.size() == 2) {
      if (is_key(*node.children[0]) && Constant(*node.children[1])) {
        constants.push_back(node.children[1].get());
      } else if (is_key(*node.children[1]) && Constant(*node.children[0])) {
        constants.push_back(node.children[0].get());
      } else {
        continue;
      }
    } else if (node.kind == analyzer::BoundKind::kInList && !node.negated &&
               !node.children.empty() && is_key(*node.children[0])) {
      for (size_t i = 1; i < node.children.size(); ++i) {
        if (!Constant(*node.children[i])) return std::nullopt;
        constants.push_back(node.children[i].get());
      }
    } else {
      continue;
    }
    std::vector<types::Row> keys;
    for (const analyzer::BoundExpression* constant : constants) {
      std::optional<types::Value> value = KeyValue(*constant, key_type);
      if (!value) {
        // A NULL matches no row; any other value we cannot convert exactly: scan.
        auto evaluator = expr::Evaluator::Compile(*constant);
        types::Value evaluated;
        if (evaluator.ok() && (*evaluator)->Evaluate(types::Row(), evaluated).ok() &&
            evaluated.is_null()) {
          continue;
        }
        return std::nullopt;
      }
      keys.push_back({std::move(*value)});
    }
    return keys;
  }
  return std::nullopt;
}

Status NotQueryable(const std::string& table) {
  return Status::InvalidArgument("The `" + table +
                                 "` table isn't queryable. To derive a queryable table, you can "
                                 "do 'CREATE TABLE QUERYABLE_" +
                                 table + " AS SELECT * FROM " + table +
                                 "'. See https://cnfl.io/queries for more info.");
}

// The answers of every stream thread; the last one to report calls `done`.
struct Gathered {
  std::mutex mutex;
  size_t waiting = 0;
  Status status;
  std::vector<types::Row> rows;
  std::optional<int64_t> limit;
  KafkaEngine::PullCallback done;

  void Add(Status thread_status, std::vector<types::Row> thread_rows) {
    std::unique_lock lock(mutex);
    if (status.ok() && !thread_status.ok()) status = std::move(thread_status);
    for (auto& row : thread_rows) rows.push_back(std::move(row));
    if (--waiting > 0) return;
    lock.unlock();
    if (!status.ok()) return done(status);
    if (limit && static_cast<int64_t>(rows.size()) > *limit) {
      rows.resize(static_cast<size_t>(std::max<int64_t>(*limit, 0)));
    }
    done(std::move(rows));
  }
};

// Puts a task's stored rows of `source` in the order ksqlDB's table scan reads its state
// store: RocksDB's, the order of the serialized key's bytes, then the window's start. Our
// stores are hash maps, and without this a LIMIT would keep other rows than ksqlDB's. Formats
// that need a schema registry to encode keep the stores' order.
Status SortAsKsqlScans(const catalog::SourceDescription& source, runtime::RecordBatch& table) {
  const std::string& format = source.key_format;
  if (table.size() < 2 || format == "AVRO" || format == "PROTOBUF" || format == "JSON_SR") {
    return Status::OK();
  }
  std::vector<size_t> key_indexes;
  for (size_t i = 0; i < source.columns.size(); ++i) {
    if (source.columns[i].role == catalog::ColumnRole::kKey) key_indexes.push_back(i);
  }
  if (key_indexes.empty()) return Status::OK();
  ASSIGN_OR_RAISE(auto encoder,
                  formats::MakeEncoder(runtime::FormatOptionsOf(source, true),
                                       runtime::FormatColumns(source, catalog::ColumnRole::kKey)));
  struct SortKey {
    std::string bytes;
    int64_t window_start = 0;
    size_t index = 0;
  };
  std::vector<SortKey> order(table.size());
  types::Row key;
  for (size_t i = 0; i < table.size(); ++i) {
    const runtime::Record& record = table[i];
    key.clear();
    for (size_t index : key_indexes) {
      if (index < record.row.size()) key.push_back(record.row[index]);
    }
    if (key.size() == key_indexes.size()) RETURN_NOT_OK(encoder->Encode(key, 0, order[i].bytes));
    order[i].window_start = record.window ? record.window->start : 0;
    order[i].index = i;
  }
  std::stable_sort(order.begin(), order.end(), [](const SortKey& a, const SortKey& b) {
    return std::tie(a.bytes, a.window_start) < std::tie(b.bytes, b.window_start);
  });
  runtime::RecordBatch sorted;
  for (const SortKey& entry : order) {
    runtime::Record& row = sorted.Append();
    runtime::CopyAttributes(table[entry.index], row);
    row.row = std::move(table[entry.index].row);
  }
  std::swap(table, sorted);
  return Status::OK();
}

// On a stream thread: the rows of `tasks`' tables that the pull query's WHERE keeps, projected.
Status Answer(const analyzer::AnalyzedStatement& analyzed,
              const std::optional<std::vector<types::Row>>& keys,
              const std::vector<runtime::StreamTask*>& tasks, std::vector<types::Row>& rows) {
  const LogicalOperator* scan = ScanOf(*analyzed.plan);
  // The SELECT's own WHERE and projection, run as a topology over the table's rows.
  ASSIGN_OR_RAISE(auto select, runtime::Topology::Build(
                                   *analyzed.plan,
                                   [&](const runtime::Record& record, const runtime::Record*) {
                                     if (!record.tombstone && !record.retract) {
                                       rows.push_back(record.row);
                                     }
                                     return Status::OK();
                                   },
                                   {}));
  runtime::RecordBatch table;
  for (runtime::StreamTask* task : tasks) {
    table.Clear();
    RETURN_NOT_OK(task->EmitStored(keys ? &*keys : nullptr,
                                   [&](const runtime::Record& record, const runtime::Record*) {
                                     if (record.tombstone || record.retract)
                                       return Status::OK();  // HAVING dropped it
                                     runtime::Record& row = table.Append();
                                     runtime::CopyAttributes(record, row);
                                     row.row = record.row;
                                     return Status::OK();
                                   }));
    if (!keys && scan != nullptr) RETURN_NOT_OK(SortAsKsqlScans(scan->source, table));
    if (!table.empty()) RETURN_NOT_OK(select->Process(0, table));
  }
  return Status::OK();
}

}  // namespace

void KafkaEngine::PullQuery(std::shared_ptr<const analyzer::AnalyzedStatement> analyzed,
                            std::optional<int64_t> limit,
                            std::optional<std::vector<types::Row>> keys, PullCallback done) {
  const LogicalOperator* scan = analyzed->plan ? ScanOf(*analyzed->plan) : nullptr;
  if (scan == nullptr) return done(Status::NotSupported("Pull queries read a single table"));
  const std::string& table = scan->source.name;
  // The query that writes the table, and whether its last stage keeps the results.
  const runtime::QuerySpec* writer = nullptr;
  for (const auto& query : catalog_->ListQueries()) {
    if (query.sink_name != table) continue;
    for (const auto& spec : queries_) {
      if (spec->control->id() == query.id) writer = spec.get();
    }
  }
  // A source table: the hidden query that materializes it (MaterializeSourceTable).
  auto materialized = materialized_.find(table);
  if (writer == nullptr && materialized != materialized_.end()) {
    for (const auto& spec : queries_) {
      if (spec->control->id() == materialized->second) writer = spec.get();
    }
  }
  if (writer == nullptr || writer->stages.empty() ||
      (!AggregatesAlone(*writer->stages.back().plan) &&
       writer->stages.back().plan->result_store.empty())) {
    return done(NotQueryable(table));
  }
  // A key lookup reads one entry per key from the stores instead of the whole table.
  if (!keys) keys = KeysOfWhere(*analyzed->plan, *scan);
  if (threads_.empty()) return done(Status::Unavailable("The query's stream threads are not up"));
  auto gathered = std::make_shared<Gathered>();
  gathered->waiting = threads_.size();
  gathered->limit = limit;
  gathered->done = std::move(done);
  auto shared_keys =
      std::make_shared<const std::optional<std::vector<types::Row>>>(std::move(keys));
  const std::string query_id = writer->control->id();
  for (auto& thread : threads_) {
    thread->VisitTasks(query_id,
                       [analyzed, gathered, shared_keys](std::vector<runtime::StreamTask*> tasks) {
                         std::vector<types::Row> rows;
                         Status answered = Answer(*analyzed, *shared_keys, tasks, rows);
                         gathered->Add(std::move(answered), std::move(rows));
                       });
  }
}

}  // namespace sidestream::host
