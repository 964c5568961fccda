// libFuzzer target: the PROTOBUF and PROTOBUF_NOSR decoders (libprotobuf's DynamicMessage
// over descriptors built from the columns) on arbitrary bytes: the CDR columns (all of them,
// and projected), a column of every SQL type PROTOBUF holds including nested ARRAY, MAP and
// STRUCT, with each NULL representation (proto3 defaults, optional, wrappers), PROTOBUF with
// Confluent's header, PROTOBUF on an in-memory schema registry (the writer's schema looked up
// by the header's id: id 1 is the columns' own schema, id 2 a producer's with other field
// types; any other id is unknown), and keys of each scalar type. Every decoder runs the checks of
// format_fuzzing.h: decode, decode again into the same row, encode, decode the encoding back
// to the same values.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "connectors/formats/protobuf_format.h"
#include "connectors/registry/schema_registry.h"
#include "format_fuzzing.h"
#include "fuzz_columns.h"

namespace {

using sidestream::formats::FormatColumn;
using sidestream::formats::FormatOptions;
using sidestream::formats::ProtobufNullable;
using sidestream::fuzz::FormatCase;
using sidestream::fuzz::MakeCase;

FormatOptions Options(const char* format, ProtobufNullable nullable, bool is_key = false) {
  FormatOptions options;
  options.format = format;
  options.protobuf_nullable = nullable;
  options.is_key = is_key;
  return options;
}

std::vector<FormatCase> MakeCases() {
  namespace fuzz = sidestream::fuzz;
  constexpr auto kDefault = ProtobufNullable::kDefault;
  std::vector<FormatCase> cases;
  cases.push_back(MakeCase("PROTOBUF_NOSR value, CDR columns", Options("PROTOBUF_NOSR", kDefault),
                           fuzz::CdrValueColumns()));
  cases.push_back(MakeCase("PROTOBUF_NOSR value, CDR columns projected",
                           Options("PROTOBUF_NOSR", kDefault), fuzz::ProjectedCdrValueColumns()));
  cases.push_back(MakeCase("PROTOBUF value (Confluent header or bare), every type",
                           Options("PROTOBUF", kDefault), fuzz::ProtobufColumns()));
  cases.push_back(MakeCase("PROTOBUF_NOSR value, every type, optional",
                           Options("PROTOBUF_NOSR", ProtobufNullable::kOptional),
                           fuzz::ProtobufColumns()));
  cases.push_back(MakeCase("PROTOBUF_NOSR value, every type, wrappers",
                           Options("PROTOBUF_NOSR", ProtobufNullable::kWrapper),
                           fuzz::ProtobufColumns()));
  cases.push_back(
      MakeCase("PROTOBUF_NOSR value, no columns", Options("PROTOBUF_NOSR", kDefault), {}));
  // The registry's ids 1 and 2, registered before any decoding.
  auto registry = sidestream::registry::SharedSchemaRegistry("mock://protobuf-fuzzer");
  auto own = sidestream::formats::ProtobufSchemaText(fuzz::ProtobufColumns(), kDefault);
  if (registry.ok() && own.ok()) {
    (void)(*registry)->Register("fuzz-value", sidestream::registry::SchemaType::kProtobuf, *own);
    (void)(*registry)->Register(
        "producer-value", sidestream::registry::SchemaType::kProtobuf,
        "syntax = \"proto3\"; message P { enum E { A = 0; B = 1; } uint32 u = 1; E e = 2; "
        "map<string, sint64> m = 3; message N { float f = 1; } repeated N n = 4; "
        "fixed64 x = 5; }");
  }
  FormatOptions on_registry = Options("PROTOBUF", kDefault);
  on_registry.schema_registry_url = "mock://protobuf-fuzzer";
  on_registry.topic = "fuzz";
  cases.push_back(MakeCase("PROTOBUF value on a schema registry, every type", on_registry,
                           fuzz::ProtobufColumns()));
  for (const FormatColumn& column : fuzz::ScalarColumns()) {
    cases.push_back(MakeCase("PROTOBUF key " + column.type.ToString(),
                             Options("PROTOBUF", kDefault, true), {column}));
  }
  return cases;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<FormatCase> cases = MakeCases();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (FormatCase& format_case : cases) sidestream::fuzz::CheckDecode(format_case, bytes);
  return 0;
}
