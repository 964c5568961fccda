// Decode throughput of CDR JSON messages: all value columns, a 3-column projection, and
// the ceiling (simdjson ondemand touching the same fields, no Row). The same CDRs as
// PROTOBUF_NOSR: all columns, 3 read and the rest skipped, and the ceiling (libprotobuf's
// DynamicMessage parse alone, with the same descriptor, no Row). Prints records/s.
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
#include "connectors/formats/protobuf_format.h"
#include "connectors/formats/row_format.h"

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
