// Sink benchmarks: upserts per second into Redis through RedisWriter (the sink connector's
// store path: offsets check, folding, hash rows and the offsets in one MULTI/EXEC per
// transaction, pipelined) beside raw pipelined HSET of the same rows with hiredis; and
// documents per second into CouchDB's API (pouchdb-server) through CouchDbWriter (revisions
// read with _all_docs, one _bulk_docs per batch, the _local offsets document) beside raw
// _bulk_docs of new documents. Both servers are real and started here; each run writes every
// key once more (updates after the first run). Also the whole connector path, streaming:
// records produced to the embedded broker (in process) and read to the last through
// SinkConnector into Redis, beside a consumer alone reading the same way. Prints one JSON document:
// median [min-max] per path and the ratios.
//   sinks_bench [--redis-records N] [--couchdb-docs N] [--runs R] --pouchdb-dir DIR
//               --install-script PATH
#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/measurement.h"
#include "connectors/couchdb/couchdb_writer.h"
#include "connectors/kafka/embedded_broker.h"
#include "connectors/redis/redis_writer.h"
#include "connectors/sink/sink_connector.h"
#include "tests/servers/store_servers.h"

namespace sidestream::bench {
namespace {

constexpr size_t kBatch = 10000;            // records per Write, as the connector polls
constexpr size_t kRedisTransaction = 5000;  // the writer's default, and the raw pipeline's
constexpr size_t kCouchDbBatch = 2000;      // documents per _bulk_docs, both paths

struct Rows {
  std::vector<std::string> keys;
  std::vector<std::string> values;
};

Rows MakeRows(size_t count) {
  Rows rows;
  for (size_t i = 0; i < count; ++i) {
    rows.keys.push_back("C" + std::to_string(i));
    rows.values.push_back("{\"CALLS\":" + std::to_string(i % 977) + ",\"DROPPED\":" +
                          std::to_string(i % 13) + ",\"DROP_RATE\":0." + std::to_string(i % 97) +
                          ",\"AVG_SETUP_MS\":" + std::to_string(800 + i % 400) + "}");
  }
  return rows;
}

std::vector<sink::SinkRecord> Records(const Rows& rows, int64_t first_offset) {
  std::vector<sink::SinkRecord> records;
  for (size_t i = 0; i < rows.keys.size(); ++i) {
    records.push_back({"CELL_HEALTH", static_cast<int32_t>(i % 4),
                       first_offset + static_cast<int64_t>(i / 4), rows.keys[i], rows.values[i]});
  }
  return records;
}

void Fail(const std::string& what) {
  std::cerr << "sinks_bench: " << what << "\n";
  std::exit(1);
}

// Raw pipelined HSET of the same rows: the fields parsed once, up front (no JSON on the
// timed path), kRedisTransaction commands per round trip.
double RawHset(int port, const Rows& rows) {
  struct Row {
    std::vector<std::string> arguments;
  };
  std::vector<Row> prepared;
  for (size_t i = 0; i < rows.keys.size(); ++i) {
    auto value = nlohmann::json::parse(rows.values[i]);
    Row row{{"HSET", "raw:" + rows.keys[i]}};
    for (auto& [field, content] : value.items()) {
      row.arguments.push_back(field);
      row.arguments.push_back(content.dump());
    }
    prepared.push_back(std::move(row));
  }
  redisContext* context = redisConnect("127.0.0.1", port);
  if (context == nullptr || context->err) Fail("cannot connect to redis");
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  Measurement measured = Measure(static_cast<int64_t>(prepared.size()), [&] {
    for (size_t first = 0; first < prepared.size(); first += kRedisTransaction) {
      const size_t end = std::min(prepared.size(), first + kRedisTransaction);
      for (size_t i = first; i < end; ++i) {
        argv.clear();
        lengths.clear();
        for (const auto& argument : prepared[i].arguments) {
          argv.push_back(argument.data());
          lengths.push_back(argument.size());
        }
        redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data());
      }
      for (size_t i = first; i < end; ++i) {
        void* reply = nullptr;
        if (redisGetReply(context, &reply) != REDIS_OK) Fail("raw HSET failed");
        freeReplyObject(reply);
      }
    }
  });
  redisFree(context);
  return measured.rate;
}

double SinkWrites(sink::SinkWriter& writer, const std::vector<sink::SinkRecord>& records) {
  Measurement measured = Measure(static_cast<int64_t>(records.size()), [&] {
    for (size_t first = 0; first < records.size(); first += kBatch) {
      const size_t count = std::min(kBatch, records.size() - first);
      auto written = writer.Write(std::span(records).subspan(first, count));
      if (!written.ok()) Fail(written.status().ToString());
      if (written->upserts != static_cast<int64_t>(count)) Fail("the sink wrote fewer rows");
    }
  });
  return measured.rate;
}

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Raw _bulk_docs of new documents (no revisions to fetch), kCouchDbBatch per request.
double RawBulkDocs(int port, const std::string& database, const Rows& rows) {
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/" + database;
  std::string response;
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_URL, base.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_perform(curl);
  const std::string bulk = base + "/_bulk_docs";
  curl_easy_setopt(curl, CURLOPT_URL, bulk.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  std::vector<std::string> bodies;
  for (size_t first = 0; first < rows.keys.size(); first += kCouchDbBatch) {
    std::string body = "{\"docs\":[";
    for (size_t i = first; i < std::min(rows.keys.size(), first + kCouchDbBatch); ++i) {
      if (i > first) body += ',';
      body += "{\"_id\":\"" + rows.keys[i] + "\"," + rows.values[i].substr(1);
    }
    bodies.push_back(body + "]}");
  }
  Measurement measured = Measure(static_cast<int64_t>(rows.keys.size()), [&] {
    for (const std::string& body : bodies) {
      response.clear();
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      long status = 0;
      if (curl_easy_perform(curl) != CURLE_OK) Fail("raw _bulk_docs failed");
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      if (status != 201) Fail("raw _bulk_docs: HTTP " + std::to_string(status) + " " + response);
    }
  });
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return measured.rate;
}

// The whole path, streaming: a fresh group joins `topic` and reads one warm-up record; then
// the clock starts, `rows` are produced and read to the last: through a SinkConnector into
// Redis (`port` > 0), or by a consumer alone (`port` == 0), measured the same way.
double StreamThrough(const std::string& bootstrap, const std::string& topic,
                     kafka::BatchProducer& producer, const Rows& rows, int port,
                     const std::string& name) {
  const size_t count = rows.keys.size();
  std::unique_ptr<sink::SinkConnector> connector;
  std::unique_ptr<kafka::BatchConsumer> consumer;
  kafka::MessageBatch batch;
  if (port > 0) {
    redis::RedisWriterOptions writer;
    writer.url = "redis://127.0.0.1:" + std::to_string(port);
    writer.connector = name;
    writer.key_template = "kafka:{KEY}";
    sink::SinkConnectorOptions options;
    options.name = name;
    options.topics = {topic};
    options.client.bootstrap_servers = bootstrap;
    auto created = sink::SinkConnector::Create(
        options, std::move(redis::RedisWriter::Create(writer).value()), "redis");
    if (!created.ok()) Fail(created.status().ToString());
    connector = std::move(*created);
  } else {
    kafka::ConsumerOptions options;
    options.client.bootstrap_servers = bootstrap;
    options.group_id = name;
    options.topics = {topic};
    auto created = kafka::BatchConsumer::Create(options);
    if (!created.ok()) Fail(created.status().ToString());
    consumer = std::move(*created);
  }
  auto poll = [&]() -> size_t {
    if (connector) return static_cast<size_t>(connector->Poll(std::chrono::milliseconds(100)));
    if (!consumer->Poll(kBatch, std::chrono::milliseconds(100), &batch).ok()) Fail("poll");
    return batch.size();
  };
  auto read_until = [&](size_t wanted, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    size_t seen = 0;
    while (seen < wanted && std::chrono::steady_clock::now() < deadline) seen += poll();
    if (seen < wanted) Fail("read only " + std::to_string(seen) + " records of " + topic);
  };
  if (!producer.Produce(topic, -1, name, R"({"WARM_UP":1})").ok()) Fail("produce");
  read_until(1, std::chrono::seconds(60));
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < count; ++i) {
    if (!producer.Produce(topic, -1, rows.keys[i], rows.values[i]).ok()) Fail("produce");
  }
  read_until(count, std::chrono::seconds(120));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (connector && connector->status().upserts != static_cast<int64_t>(count + 1)) {
    Fail("the connector wrote " + std::to_string(connector->status().upserts) +
         " rows: " + connector->status().last_error);
  }
  return static_cast<double>(count) / seconds;
}

nlohmann::json Pair(const std::vector<double>& sink, const std::vector<double>& raw,
                    const char* unit, double goal) {
  nlohmann::json result = {
      {"sink", Stats(sink)}, {"raw", Stats(raw)}, {"unit", unit}, {"goal", goal}};
  const double sink_median = result["sink"]["median"].get<double>();
  result["ratio_to_raw"] = sink_median / result["raw"]["median"].get<double>();
  result["meets_goal"] = sink_median >= goal;
  return result;
}

}  // namespace
}  // namespace sidestream::bench

int main(int argc, char** argv) {
  using namespace sidestream;
  size_t redis_records = 200000, couchdb_docs = 20000;
  int runs = 5;
  std::string pouchdb_dir, install_script;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--redis-records")
      redis_records = std::stoul(argv[i + 1]);
    else if (flag == "--couchdb-docs")
      couchdb_docs = std::stoul(argv[i + 1]);
    else if (flag == "--runs")
      runs = std::stoi(argv[i + 1]);
    else if (flag == "--pouchdb-dir")
      pouchdb_dir = argv[i + 1];
    else if (flag == "--install-script")
      install_script = argv[i + 1];
    else
      bench::Fail("unknown flag " + flag);
  }
  nlohmann::json report = {{"runs", runs}};

  auto redis_server = testing::StartRedis();
  if (!redis_server.ok()) {
    report["redis"] = {{"skipped", redis_server.status().ToString()}};
  } else {
    const int port = (*redis_server)->port();
    const bench::Rows rows = bench::MakeRows(redis_records);
    redis::RedisWriterOptions options;
    options.url = "redis://127.0.0.1:" + std::to_string(port);
    options.connector = "bench";
    options.key_template = "cell:{KEY}";
    options.max_transaction_records = bench::kRedisTransaction;
    auto writer = redis::RedisWriter::Create(options);
    if (!writer.ok()) bench::Fail(writer.status().ToString());
    std::vector<double> sink, raw;
    for (int run = 0; run < runs; ++run) {
      const auto records = bench::Records(rows, static_cast<int64_t>(run) * 1000000);
      sink.push_back(bench::SinkWrites(**writer, records));
      raw.push_back(bench::RawHset(port, rows));
    }
    report["redis"] = bench::Pair(sink, raw, "upserts/s", 200000);
    report["redis"]["records"] = redis_records;

    // The whole path: the table's topic on the embedded broker, through the connector.
    auto broker = kafka::EmbeddedBroker::Start();
    if (!broker.ok()) bench::Fail(broker.status().ToString());
    kafka::ProducerOptions producer_options;
    producer_options.client.bootstrap_servers = (*broker)->bootstrap_servers();
    auto producer = kafka::BatchProducer::Create(producer_options);
    if (!producer.ok()) bench::Fail(producer.status().ToString());
    std::vector<double> connector, consume;
    for (int run = 0; run < runs; ++run) {
      // A topic per pass: a fresh group reads its topic from the start.
      for (const bool through_connector : {true, false}) {
        const std::string name =
            (through_connector ? "connector_" : "consume_") + std::to_string(run);
        if (!(*broker)->CreateTopic(name, 4).ok()) bench::Fail("create topic " + name);
        const double rate = bench::StreamThrough((*broker)->bootstrap_servers(), name, **producer,
                                                 rows, through_connector ? port : 0, name);
        (through_connector ? connector : consume).push_back(rate);
      }
    }
    report["redis_connector"] = bench::Pair(connector, consume, "records/s", 200000);
    report["redis_connector"]["records"] = redis_records;
    report["redis_connector"]["what"] =
        "produced to the embedded broker and read to the last record: through SinkConnector "
        "into Redis, beside a consumer alone";
  }

  auto pouchdb = testing::StartPouchDb(pouchdb_dir, install_script);
  if (!pouchdb.ok()) {
    report["couchdb"] = {{"skipped", pouchdb.status().ToString()}};
  } else {
    const int port = (*pouchdb)->port();
    const bench::Rows rows = bench::MakeRows(couchdb_docs);
    std::vector<double> sink, raw;
    for (int run = 0; run < runs; ++run) {
      // A fresh database per run for both paths: the sink writes new documents too.
      couchdb::CouchDbWriterOptions options;
      options.url = "http://127.0.0.1:" + std::to_string(port);
      options.database = "sink_" + std::to_string(run);
      options.connector = "bench";
      options.max_batch_documents = bench::kCouchDbBatch;
      auto writer = couchdb::CouchDbWriter::Create(options);
      if (!writer.ok()) bench::Fail(writer.status().ToString());
      sink.push_back(bench::SinkWrites(**writer, bench::Records(rows, 0)));
      raw.push_back(bench::RawBulkDocs(port, "raw_" + std::to_string(run), rows));
    }
    report["couchdb"] = bench::Pair(sink, raw, "docs/s", 20000);
    report["couchdb"]["documents"] = couchdb_docs;
  }
  std::cout << report.dump(2) << std::endl;
  return 0;
}
