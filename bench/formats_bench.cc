// Decode throughput of CDR JSON messages: all value columns, a 3-column projection, and
// the ceiling (simdjson ondemand touching the same fields, no Row). The same CDRs as
// PROTOBUF_NOSR: all columns, 3 read and the rest skipped, and the ceiling (libprotobuf's
// DynamicMessage parse alone, with the same descriptor, no Row). The same records in AVRO's
// wire format, beside avro-c reading them alone (the ceiling), and the cost of a schema lookup
// by id. Prints records/s.
#include <avro.h>
#include <benchmark/benchmark.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "connectors/datagen/cdr_generator.h"
#include "connectors/formats/avro_format.h"
#include "connectors/formats/protobuf_format.h"
#include "connectors/formats/row_format.h"
#include "connectors/registry/schema_registry.h"

namespace {

using sidestream::formats::FormatColumn;
using sidestream::types::SqlType;

const std::vector<std::string>& Messages() {
  static const std::vector<std::string> messages = [] {
    std::vector<std::string> lines;
    std::ifstream file(std::string(SIDESTREAM_SHARED_DIR) + "/cdr/sample-60min.jsonl");
    std::string line;
    while (std::getline(file, line)) {
      if (!line.empty()) lines.push_back(line);
    }
    if (lines.empty()) {
      std::fprintf(stderr, "no CDR sample under %s\n", SIDESTREAM_SHARED_DIR);
      std::exit(1);
    }
    return lines;
  }();
  return messages;
}

void DecodeWith(benchmark::State& state, std::vector<FormatColumn> columns) {
  const auto& messages = Messages();
  sidestream::formats::FormatOptions options;
  auto decoder = sidestream::formats::MakeDecoder(options, std::move(columns));
  if (!decoder.ok()) {
    state.SkipWithError(decoder.status().ToString().c_str());
    return;
  }
  sidestream::types::Row row(1 + 18);
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& message : messages) {
      if (!(*decoder)->Decode(message, row, 1).ok()) state.SkipWithError("decode failed");
      bytes += message.size();
    }
    benchmark::DoNotOptimize(row.data());
  }
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_DecodeCdrAllColumns(benchmark::State& state) {
  DecodeWith(state, sidestream::datagen::CdrValueColumns());
}

void BM_DecodeCdrProjected3(benchmark::State& state) {
  DecodeWith(state, {{"CALLER", SqlType::String()},
                     {"START_TS", SqlType::Bigint()},
                     {"CHARGE", SqlType::Double()}});
}

// The ceiling: simdjson ondemand over the same padded bytes, reading every field into
// locals of the right type, with no Row and no name matching beyond simdjson's own.
void BM_CeilingOndemandAllFields(benchmark::State& state) {
  const auto& messages = Messages();
  simdjson::ondemand::parser parser;
  std::vector<char> buffer;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& message : messages) {
      if (buffer.size() < message.size() + simdjson::SIMDJSON_PADDING) {
        buffer.resize(message.size() + simdjson::SIMDJSON_PADDING);
      }
      std::memcpy(buffer.data(), message.data(), message.size());
      simdjson::ondemand::document document;
      if (parser.iterate(buffer.data(), message.size(), buffer.size()).get(document)) {
        state.SkipWithError("parse failed");
      }
      simdjson::ondemand::object object;
      if (document.get_object().get(object)) state.SkipWithError("not an object");
      size_t touched = 0;
      for (auto field_result : object) {
        simdjson::ondemand::field field;
        if (std::move(field_result).get(field)) state.SkipWithError("bad field");
        std::string_view key;
        if (field.unescaped_key().get(key)) state.SkipWithError("bad key");
        simdjson::ondemand::value value = field.value();
        simdjson::ondemand::json_type type = simdjson::ondemand::json_type::null;
        if (value.type().get(type)) state.SkipWithError("bad value");
        switch (type) {
          case simdjson::ondemand::json_type::string: {
            std::string_view text;
            if (value.get_string().get(text)) state.SkipWithError("bad string");
            touched += text.size();
            break;
          }
          case simdjson::ondemand::json_type::number: {
            simdjson::ondemand::number_type number_type =
                simdjson::ondemand::number_type::signed_integer;
            if (value.get_number_type().get(number_type)) state.SkipWithError("bad number");
            if (number_type == simdjson::ondemand::number_type::floating_point_number) {
              double real = 0;
              if (value.get_double().get(real)) state.SkipWithError("bad double");
              touched += real > 0;
            } else {
              int64_t integer = 0;
              if (value.get_int64().get(integer)) state.SkipWithError("bad integer");
              touched += static_cast<size_t>(integer & 1);
            }
            break;
          }
          case simdjson::ondemand::json_type::boolean: {
            bool flag = false;
            if (value.get_bool().get(flag)) state.SkipWithError("bad boolean");
            touched += flag;
            break;
          }
          default:
            break;
        }
      }
      benchmark::DoNotOptimize(touched);
      bytes += message.size();
    }
  }
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// AVRO in Confluent's wire format: the same CDR records, transcoded once through a Row into
// ksqlDB's derived schema (registered in an in-memory registry).
const std::vector<std::string>& AvroMessages() {
  static const std::vector<std::string> messages = [] {
    std::vector<std::string> out;
    auto columns = sidestream::datagen::CdrValueColumns();
    sidestream::formats::FormatOptions json_options, avro_options;
    avro_options.format = "AVRO";
    avro_options.schema_registry_url = "mock://bench";
    avro_options.topic = "cdr";
    auto decoder = sidestream::formats::MakeDecoder(json_options, columns);
    auto encoder = sidestream::formats::MakeEncoder(avro_options, columns);
    if (!decoder.ok() || !encoder.ok()) std::exit(1);
    sidestream::types::Row row(columns.size());
    for (const std::string& message : Messages()) {
      std::string bytes;
      if (!(*decoder)->Decode(message, row, 0).ok() || !(*encoder)->Encode(row, 0, bytes).ok()) {
        std::fprintf(stderr, "cannot transcode a CDR record to AVRO\n");
        std::exit(1);
      }
      out.push_back(std::move(bytes));
    }
    return out;
  }();
  return messages;
}

void AvroDecodeWith(benchmark::State& state, std::vector<FormatColumn> columns) {
  const auto& messages = AvroMessages();
  sidestream::formats::FormatOptions options;
  options.format = "AVRO";
  options.schema_registry_url = "mock://bench";
  options.topic = "cdr";
  auto decoder = sidestream::formats::MakeDecoder(options, std::move(columns));
  if (!decoder.ok()) {
    state.SkipWithError(decoder.status().ToString().c_str());
    return;
  }
  sidestream::types::Row row(1 + 18);
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& message : messages) {
      if (!(*decoder)->Decode(message, row, 1).ok()) state.SkipWithError("decode failed");
      bytes += message.size();
    }
    benchmark::DoNotOptimize(row.data());
  }
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_DecodeCdrAvroAllColumns(benchmark::State& state) {
  AvroDecodeWith(state, sidestream::datagen::CdrValueColumns());
}

void BM_DecodeCdrAvroProjected3(benchmark::State& state) {
  AvroDecodeWith(state, {{"CALLER", SqlType::String()},
                         {"START_TS", SqlType::Bigint()},
                         {"CHARGE", SqlType::Double()}});
}

// The AVRO ceiling: avro-c alone reading each body into a reused generic value of the
// writer schema (what the decoder does before filling the Row), header skipped.
void BM_CeilingAvroCRead(benchmark::State& state) {
  const auto& messages = AvroMessages();
  auto schema_text = sidestream::formats::AvroSchemaOf(
      [] {
        sidestream::formats::FormatOptions options;
        options.format = "AVRO";
        return options;
      }(),
      sidestream::datagen::CdrValueColumns());
  avro_schema_t schema = nullptr;
  if (!schema_text.ok() ||
      avro_schema_from_json_length(schema_text->data(), schema_text->size(), &schema) != 0) {
    state.SkipWithError("schema");
    return;
  }
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  avro_reader_t reader = avro_reader_memory(nullptr, 0);
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& message : messages) {
      avro_reader_memory_set_source(reader, message.data() + 5,
                                    static_cast<int64_t>(message.size() - 5));
      if (avro_value_read(reader, &value) != 0) state.SkipWithError("read failed");
      bytes += message.size();
    }
    benchmark::DoNotOptimize(&value);
  }
  avro_reader_free(reader);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// A schema lookup by id that the client has cached (an HTTP client's first lookup is the
// only one that reaches the registry; this one is primed through an in-memory fetch).
void BM_CachedSchemaLookup(benchmark::State& state) {
  auto registry = sidestream::registry::SharedSchemaRegistry("mock://bench");
  if (!registry.ok()) return;
  const int32_t id = (*registry)->GetLatest("cdr-value")->id;
  for (auto _ : state) {
    auto schema = (*registry)->GetById(id);
    benchmark::DoNotOptimize(schema);
  }
  state.counters["lookups/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_DecodeCdrAvroAllColumns)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeCdrAvroProjected3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CeilingAvroCRead)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CachedSchemaLookup);

// The CDR sample re-encoded as PROTOBUF_NOSR with the CDR value columns (JSON -> Row ->
// protobuf), as a producer using ksqlDB's schema would write it.
const std::vector<std::string>& ProtobufMessages() {
  static const std::vector<std::string> messages = [] {
    sidestream::formats::FormatOptions json;
    sidestream::formats::FormatOptions protobuf;
    protobuf.format = "PROTOBUF_NOSR";
    auto columns = sidestream::datagen::CdrValueColumns();
    auto decoder = sidestream::formats::MakeDecoder(json, columns);
    auto encoder = sidestream::formats::MakeEncoder(protobuf, columns);
    if (!decoder.ok() || !encoder.ok()) std::exit(1);
    std::vector<std::string> out;
    sidestream::types::Row row(columns.size());
    for (const std::string& message : Messages()) {
      std::string bytes;
      if (!(*decoder)->Decode(message, row, 0).ok() || !(*encoder)->Encode(row, 0, bytes).ok()) {
        std::fprintf(stderr, "cannot re-encode a CDR as PROTOBUF\n");
        std::exit(1);
      }
      out.push_back(std::move(bytes));
    }
    return out;
  }();
  return messages;
}

void DecodeProtobufWith(benchmark::State& state, std::vector<FormatColumn> columns) {
  const auto& messages = ProtobufMessages();
  sidestream::formats::FormatOptions options;
  options.format = "PROTOBUF_NOSR";
  auto decoder = sidestream::formats::MakeDecoder(options, std::move(columns));
  if (!decoder.ok()) {
    state.SkipWithError(decoder.status().ToString().c_str());
    return;
  }
  sidestream::types::Row row(1 + 18);
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& message : messages) {
      if (!(*decoder)->Decode(message, row, 1).ok()) state.SkipWithError("decode failed");
      bytes += message.size();
    }
    benchmark::DoNotOptimize(row.data());
  }
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_DecodeCdrProtobufAllColumns(benchmark::State& state) {
  DecodeProtobufWith(state, sidestream::datagen::CdrValueColumns());
}

void BM_DecodeCdrProtobufProjected3(benchmark::State& state) {
  auto columns = sidestream::datagen::CdrValueColumns();
  for (auto& column : columns) {
    column.skip =
        !(column.name == "CALLER" || column.name == "START_TS" || column.name == "CHARGE");
  }
  DecodeProtobufWith(state, std::move(columns));
}

// The ceiling: DynamicMessage::ParseFromString over the same descriptor and bytes, into one
// reused message, reading nothing out.
void BM_CeilingProtobufParseOnly(benchmark::State& state) {
  const auto& messages = ProtobufMessages();
  auto file = sidestream::formats::ProtobufSchemaFile(
      sidestream::datagen::CdrValueColumns(), sidestream::formats::ProtobufNullable::kDefault);
  google::protobuf::DescriptorPool pool;
  const google::protobuf::FileDescriptor* built = file.ok() ? pool.BuildFile(*file) : nullptr;
  if (built == nullptr) {
    state.SkipWithError("cannot build the CDR descriptor");
    return;
  }
  google::protobuf::DynamicMessageFactory factory(&pool);
  std::unique_ptr<google::protobuf::Message> message(
      factory.GetPrototype(built->message_type(0))->New());
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& encoded : messages) {
      if (!message->ParseFromString(encoded)) state.SkipWithError("parse failed");
      bytes += encoded.size();
    }
    benchmark::DoNotOptimize(message.get());
  }
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(BM_DecodeCdrProtobufAllColumns)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeCdrProtobufProjected3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CeilingProtobufParseOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeCdrAllColumns)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeCdrProjected3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CeilingOndemandAllFields)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
