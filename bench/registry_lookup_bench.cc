// registry_lookup_bench: what a schema lookup by id costs a registry format, against the
// registry at SIDESTREAM_SCHEMA_REGISTRY_URL (or --url; tests/servers/with_apicurio.sh starts
// Apicurio and sets it). R runs (median [min-max]) of:
//   uncached  GetById on a fresh HTTP client each time: one HTTP request per lookup;
//   cached    GetById on one client that has seen the id: the in-process cache;
//   first     a new PROTOBUF decoder decoding its first message (the cached lookup plus
//             compiling the .proto text with libprotoc into a DescriptorPool);
//   warm      the same decoder decoding further messages (no lookup at all).
// Prints one JSON object on stdout: lookups per second of each, and their ratios.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/measurement.h"
#include "connectors/formats/protobuf_format.h"
#include "connectors/formats/row_format.h"
#include "connectors/registry/schema_registry.h"

namespace {

using nlohmann::json;
using sidestream::Status;
using sidestream::bench::Measure;
using sidestream::bench::Measurement;
namespace formats = sidestream::formats;
namespace registry = sidestream::registry;

constexpr const char* kSchema =
    "syntax = \"proto3\"; message Cdr { string cdr_id = 1; string cell_id = 2; "
    "int64 start_ts = 3; int32 setup_ms = 4; double charge = 5; }";

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "registry_lookup_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("SIDESTREAM_SCHEMA_REGISTRY_URL");
  std::string url = env != nullptr ? env : "";
  int runs = 5;
  int64_t uncached_lookups = 200, cached_lookups = 1'000'000, decoders = 2'000, decodes = 1'000'000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--url") {
      url = next();
    } else if (arg == "--runs") {
      runs = std::max(1, std::atoi(next().c_str()));
    } else if (arg == "--quick") {
      uncached_lookups = 50, cached_lookups = 100'000, decoders = 200, decodes = 100'000;
    } else {
      std::fprintf(stderr, "usage: registry_lookup_bench [--url URL] [--runs R] [--quick]\n");
      return 2;
    }
  }
  if (url.empty()) {
    std::fprintf(stderr, "registry_lookup_bench: set SIDESTREAM_SCHEMA_REGISTRY_URL or --url\n");
    return 2;
  }
  auto shared = registry::SharedSchemaRegistry(url);
  if (!shared.ok()) return Fail("registry", shared.status());
  auto id = (*shared)->Register("lookup-bench-value", registry::SchemaType::kProtobuf, kSchema);
  if (!id.ok()) return Fail("register", id.status());
  auto message = formats::ProtobufMessageFromJson(
      kSchema, "", *id,
      R"({"cdr_id":"c-1","cell_id":"cell-7","start_ts":1700000000000,)"
      R"("setup_ms":120,"charge":0.25})");
  if (!message.ok()) return Fail("message", message.status());
  const std::vector<formats::FormatColumn> columns = {
      {"CELL_ID", sidestream::types::SqlType::String()},
      {"SETUP_MS", sidestream::types::SqlType::Int()},
      {"START_TS", sidestream::types::SqlType::Bigint()}};
  formats::FormatOptions options;
  options.format = "PROTOBUF";
  options.schema_registry_url = url;

  std::vector<Measurement> uncached, cached, first, warm;
  Status failed = Status::OK();
  auto check = [&](const Status& status) {
    if (!status.ok() && failed.ok()) failed = status;
  };
  for (int run = 0; run < runs; ++run) {
    uncached.push_back(Measure(uncached_lookups, [&] {
      for (int64_t i = 0; i < uncached_lookups; ++i) {
        check(registry::MakeHttpSchemaRegistry(url)->GetById(*id).status());
      }
    }));
    cached.push_back(Measure(cached_lookups, [&] {
      for (int64_t i = 0; i < cached_lookups; ++i) check((*shared)->GetById(*id).status());
    }));
    first.push_back(Measure(decoders, [&] {
      sidestream::types::Row row(columns.size());
      for (int64_t i = 0; i < decoders; ++i) {
        auto decoder = formats::MakeDecoder(options, columns);
        if (!decoder.ok()) return check(decoder.status());
        check((*decoder)->Decode(*message, row, 0));
      }
    }));
    auto decoder = formats::MakeDecoder(options, columns);
    if (!decoder.ok()) return Fail("decoder", decoder.status());
    sidestream::types::Row row(columns.size());
    check((*decoder)->Decode(*message, row, 0));
    warm.push_back(Measure(decodes, [&] {
      for (int64_t i = 0; i < decodes; ++i) check((*decoder)->Decode(*message, row, 0));
    }));
    if (!failed.ok()) return Fail("lookup", failed);
    std::fprintf(stderr, "run %d: uncached %.0f/s, cached %.0f/s, first %.0f/s, warm %.0f/s\n", run,
                 uncached.back().rate, cached.back().rate, first.back().rate, warm.back().rate);
  }
  auto median = [](const std::vector<Measurement>& measured) {
    return sidestream::bench::Summarize(measured)["records_per_s"]["median"].get<double>();
  };
  json report = {
      {"registry", url},
      {"runs", runs},
      {"uncached_lookup", sidestream::bench::Summarize(uncached)},
      {"cached_lookup", sidestream::bench::Summarize(cached)},
      {"new_decoder_first_message", sidestream::bench::Summarize(first)},
      {"warm_decode", sidestream::bench::Summarize(warm)},
      {"uncached_lookup_us", 1e6 / median(uncached)},
      {"cached_lookup_us", 1e6 / median(cached)},
      {"new_decoder_first_message_us", 1e6 / median(first)},
      {"warm_decode_us", 1e6 / median(warm)},
      {"cached_over_uncached", median(cached) / median(uncached)},
      {"warm_over_first", median(warm) / median(first)},
  };
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
