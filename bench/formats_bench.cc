// Decode throughput of CDR JSON messages: all value columns, a 3-column projection, and
// the ceiling (simdjson ondemand touching the same fields, no Row). Prints records/s.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "connectors/datagen/cdr_generator.h"
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

BENCHMARK(BM_DecodeCdrAllColumns)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeCdrProjected3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CeilingOndemandAllFields)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
