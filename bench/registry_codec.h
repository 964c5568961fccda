#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/formats/row_format.h"

/// The registry formats for the workload benchmarks: JSON messages transcoded into AVRO or
/// PROTOBUF in Confluent's wire format (schemas registered in an in-memory registry), and
/// the decode-only ceiling over those bytes with the same library the format uses (avro-c,
/// libprotobuf's DynamicMessage), reading the fields the query reads.
namespace sidestream::bench {

/// The in-memory registry the benchmarks register their schemas in.
inline constexpr const char* kBenchRegistryUrl = "mock://workloads-bench";

/// One value format over one source's value columns. Thread: one at a time.
class RegistryCodec {
 public:
  ~RegistryCodec();
  /// `format` is AVRO or PROTOBUF; `columns` the source's value columns, `topic` its topic.
  static Result<std::unique_ptr<RegistryCodec>> Create(const std::string& format,
                                                       const std::string& topic,
                                                       std::vector<formats::FormatColumn> columns);
  /// A JSON value as the format's wire bytes (registering its schema at the first call).
  Result<std::string> FromJson(const std::string& json);
  /// The ceiling: decodes every message with the library alone and reads `fields` (top-level
  /// value fields); returns a checksum of what it read, so the work is not optimized away.
  Result<size_t> DecodeCeiling(const std::vector<std::string>& values,
                               const std::vector<std::string>& fields);

 private:
  RegistryCodec() = default;
  Status PrepareCeiling();

  std::string format_;
  std::vector<formats::FormatColumn> columns_;
  std::unique_ptr<formats::RowDecoder> json_decoder_;
  std::unique_ptr<formats::RowEncoder> encoder_;
  // PROTOBUF ceiling.
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
  const google::protobuf::Descriptor* message_type_ = nullptr;
  // AVRO ceiling (avro-c handles, opaque here).
  struct Avro;
  std::unique_ptr<Avro> avro_;
};

}  // namespace sidestream::bench
