// Writes candidate seeds for every fuzz target into OUT/<target>/, from real inputs:
// - sql: the SQL of every golden file (tests/sql), of every QTT case (shared/qtt) and of
//   the example and benchmark queries;
// - json: CDR lines (shared/cdr), QTT input values and keys, and rows of every type
//   written by the JSON encoder;
// - delimited: QTT's DELIMITED inputs and rows of every scalar type written by the
//   DELIMITED encoder under each delimiter;
// - kafka: primitive values written by the KAFKA encoder, and QTT keys;
// - protobuf: rows of every type written by the PROTOBUF encoders (each NULL
//   representation, with and without Confluent's header) and CDR rows;
// - row_codec: EncodeRow of CDR rows, of rows of every type and of edge cases.
// make_corpus.sh keeps the seeds that add coverage (libFuzzer's -merge) as corpus/<target>.
//
// Usage: fuzz_seeds OUT SOURCE_DIR SHARED_DIR
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/formats/row_format.h"
#include "fuzz_columns.h"
#include "types/value.h"
#include "types/value_codec.h"

namespace {

namespace fs = std::filesystem;
using sidestream::formats::FormatColumn;
using sidestream::formats::FormatOptions;
using sidestream::types::Row;
using sidestream::types::SqlType;
using sidestream::types::TypeId;
using sidestream::types::Value;

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

// Writes seeds as OUT/<target>/<n>, skipping duplicates.
class SeedWriter {
 public:
  explicit SeedWriter(fs::path root) : root_(std::move(root)) {}

  void Add(const std::string& target, const std::string& bytes) {
    auto& seen = seen_[target];
    if (std::find(seen.begin(), seen.end(), bytes) != seen.end()) return;
    seen.push_back(bytes);
    const fs::path directory = root_ / target;
    fs::create_directories(directory);
    std::ofstream(directory / std::to_string(seen.size()), std::ios::binary) << bytes;
  }

  void Report() const {
    for (const auto& [target, seeds] : seen_) {
      std::printf("fuzz_seeds: %zu candidate seeds for %s\n", seeds.size(), target.c_str());
    }
  }

 private:
  fs::path root_;
  std::map<std::string, std::vector<std::string>> seen_;
};

// ------------------------------------------------------------------------ SQL

// The SQL blocks of a golden file: the lines after `statement ok`, `statement error` and
// `explain` up to a blank line or `----`.
std::vector<std::string> GoldenSql(const std::string& text) {
  std::vector<std::string> blocks;
  std::istringstream lines(text);
  std::string line, block;
  bool in_sql = false;
  auto finish = [&] {
    if (in_sql && !block.empty()) blocks.push_back(block);
    block.clear();
    in_sql = false;
  };
  while (std::getline(lines, line)) {
    if (line.rfind("statement ", 0) == 0 || line == "explain") {
      finish();
      in_sql = true;
    } else if (line.empty() || line == "----") {
      finish();
    } else if (in_sql) {
      block += line + "\n";
    }
  }
  finish();
  return blocks;
}

// Ends a statement with ';' so blocks join into a script.
std::string Terminated(std::string sql) {
  while (!sql.empty() && (sql.back() == '\n' || sql.back() == ' ')) sql.pop_back();
  if (!sql.empty() && sql.back() != ';') sql += ';';
  return sql + "\n";
}

void SqlSeeds(const fs::path& source_dir, const fs::path& shared_dir, SeedWriter& seeds) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(source_dir / "tests/sql")) {
    if (entry.path().extension() == ".test") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string script;
    for (const std::string& block : GoldenSql(ReadFile(path))) {
      seeds.Add("sql", block);
      script += Terminated(block);
    }
    seeds.Add("sql", script);
  }
  std::vector<fs::path> queries;
  for (const char* folder : {"queries", "queries/sources", "bench/nexmark"}) {
    if (!fs::exists(source_dir / folder)) continue;
    for (const auto& entry : fs::directory_iterator(source_dir / folder)) {
      if (entry.path().extension() == ".sql") queries.push_back(entry.path());
    }
  }
  std::sort(queries.begin(), queries.end());
  for (const auto& path : queries) seeds.Add("sql", ReadFile(path));

  std::vector<fs::path> qtt;
  for (const auto& entry : fs::directory_iterator(shared_dir / "qtt")) {
    if (entry.path().extension() == ".json") qtt.push_back(entry.path());
  }
  std::sort(qtt.begin(), qtt.end());
  for (const auto& path : qtt) {
    const auto document = nlohmann::json::parse(ReadFile(path), nullptr, false);
    if (document.is_discarded()) continue;
    for (const auto& test_case : document.value("tests", nlohmann::json::array())) {
      std::string format = "JSON";
      if (test_case.contains("format") && test_case["format"].is_array() &&
          !test_case["format"].empty() && test_case["format"][0].is_string()) {
        format = test_case["format"][0].get<std::string>();
      }
      std::string script;
      for (const auto& statement : test_case.value("statements", nlohmann::json::array())) {
        if (!statement.is_string()) continue;
        std::string sql = statement.get<std::string>();
        for (size_t at = sql.find("{FORMAT}"); at != std::string::npos;
             at = sql.find("{FORMAT}", at)) {
          sql.replace(at, 8, format);
        }
        script += Terminated(sql);
      }
      if (!script.empty()) seeds.Add("sql", script);
    }
  }
}

// ------------------------------------------------------------------------ values

// Values of a type, from edge cases and a seeded generator: the same seeds every run.
class ValueMaker {
 public:
  Value Make(const SqlType& type) {
    if (Pick(8) == 0) return Value::Null();
    switch (type.id()) {
      case TypeId::kBoolean:
        return Value::Boolean(Pick(2) == 1);
      case TypeId::kInt: {
        static const int32_t kEdges[] = {
            0, 1, -1, 42, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()};
        return Value::Int(Pick(3) == 0 ? kEdges[Pick(6)] : static_cast<int32_t>(random_()));
      }
      case TypeId::kBigint: {
        static const int64_t kEdges[] = {0, -1, 1768435200097LL,
                                         std::numeric_limits<int64_t>::max(),
                                         std::numeric_limits<int64_t>::min()};
        return Value::Bigint(Pick(3) == 0 ? kEdges[Pick(5)] : static_cast<int64_t>(random_()));
      }
      case TypeId::kDouble: {
        static const double kEdges[] = {0.0,
                                        -0.0,
                                        1.0,
                                        0.1,
                                        1e7,
                                        1.2267,
                                        4.9e-324,
                                        1.7976931348623157e308,
                                        std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN()};
        return Value::Double(Pick(2) == 0
                                 ? kEdges[Pick(10)]
                                 : std::uniform_real_distribution<double>(-1e6, 1e6)(random_));
      }
      case TypeId::kDecimal: {
        __int128 unscaled = static_cast<int64_t>(random_()) % 10'000'000;
        if (type.precision() > 20 && Pick(2) == 0)
          unscaled *= static_cast<__int128>(1'000'000'000'000'000'000LL);
        return Value::DecimalValue(unscaled, type.scale());
      }
      case TypeId::kString: {
        static const char* const kEdges[] = {"",
                                             "a",
                                             "VOICE",
                                             "+491700001707",
                                             "with, comma",
                                             "quote \" and \\ backslash",
                                             "line\nbreak\ttab",
                                             " padded ",
                                             "#hash",
                                             "\xc3\xa4\xe2\x82\xac\xf0\x9f\x93\x9e",
                                             "{\"nested\":1}",
                                             "\x01\x1f control"};
        return Value::String(kEdges[Pick(12)]);
      }
      case TypeId::kBytes: {
        std::string bytes;
        for (size_t i = Pick(12); i > 0; --i) bytes += static_cast<char>(Pick(256));
        return Value::Bytes(bytes);
      }
      case TypeId::kTimestamp:
        return Value::Timestamp(Pick(2) == 0 ? 1768435200097LL
                                             : static_cast<int64_t>(Pick(1u << 30)) * 1000);
      case TypeId::kDate:
        return Value::Date(static_cast<int32_t>(Pick(40000)) - 5000);
      case TypeId::kTime:
        return Value::Time(static_cast<int32_t>(Pick(86'400'000)));
      case TypeId::kArray: {
        std::vector<Value> elements;
        for (size_t i = Pick(4); i > 0; --i) elements.push_back(Make(type.element()));
        return Value::Array(std::move(elements));
      }
      case TypeId::kMap: {
        std::vector<Value> entries;
        for (size_t i = Pick(4); i > 0; --i) {
          Value key = Make(type.key());
          if (key.is_null()) continue;  // JSON maps have no null keys
          entries.push_back(std::move(key));
          entries.push_back(Make(type.value()));
        }
        return Value::Map(std::move(entries));
      }
      case TypeId::kStruct: {
        std::vector<Value> fields;
        for (const auto& field : type.fields()) fields.push_back(Make(field.type));
        return Value::Struct(std::move(fields));
      }
      case TypeId::kNull:
        break;
    }
    return Value::Null();
  }

  Row MakeRow(const std::vector<FormatColumn>& columns) {
    Row row;
    for (const auto& column : columns) row.push_back(Make(column.type));
    return row;
  }

 private:
  size_t Pick(size_t n) { return static_cast<size_t>(random_() % n); }

  std::mt19937_64 random_{20240115};
};

// Encodes rows of `columns` with `options` into the target's seeds.
void EncodedSeeds(const std::string& target, const FormatOptions& options,
                  const std::vector<FormatColumn>& columns, int count, ValueMaker& values,
                  SeedWriter& seeds) {
  auto encoder = sidestream::formats::MakeEncoder(options, columns);
  if (!encoder.ok()) {
    std::fprintf(stderr, "fuzz_seeds: %s\n", encoder.status().ToString().c_str());
    std::exit(1);
  }
  for (int i = 0; i < count; ++i) {
    const Row row = values.MakeRow(columns);
    std::string bytes;
    if ((*encoder)->Encode(row, 0, bytes).ok()) seeds.Add(target, bytes);
  }
}

// ------------------------------------------------------------------------ formats

void CdrSeeds(const fs::path& shared_dir, SeedWriter& seeds) {
  auto decoder =
      sidestream::formats::MakeDecoder(FormatOptions{}, sidestream::fuzz::CdrValueColumns());
  for (const char* name : {"sample-60min.jsonl", "sample-v2-120min.jsonl"}) {
    std::ifstream file(shared_dir / "cdr" / name);
    std::string line;
    for (int n = 0; std::getline(file, line); ++n) {
      if (n % 400 != 0) continue;  // a spread of record types, not 56k lines
      seeds.Add("json", line);
      Row row;
      if (decoder.ok() && (*decoder)->Decode(line, row, 0).ok()) {
        std::string encoded;
        sidestream::types::EncodeRow(row, encoded);
        seeds.Add("row_codec", encoded);
      }
    }
  }
}

// Input values and keys of QTT cases: JSON text for JSON cases, the text itself for
// DELIMITED ones (their values are strings), KAFKA bytes for integer keys.
void QttInputSeeds(const fs::path& shared_dir, SeedWriter& seeds) {
  std::vector<fs::path> qtt;
  for (const auto& entry : fs::directory_iterator(shared_dir / "qtt")) {
    if (entry.path().extension() == ".json") qtt.push_back(entry.path());
  }
  std::sort(qtt.begin(), qtt.end());
  for (const auto& path : qtt) {
    const auto document = nlohmann::json::parse(ReadFile(path), nullptr, false);
    if (document.is_discarded()) continue;
    for (const auto& test_case : document.value("tests", nlohmann::json::array())) {
      const std::string statements = test_case.value("statements", nlohmann::json::array()).dump();
      const bool delimited = statements.find("DELIMITED") != std::string::npos;
      for (const auto& input : test_case.value("inputs", nlohmann::json::array())) {
        for (const char* part : {"value", "key"}) {
          if (!input.contains(part)) continue;
          const auto& json = input[part];
          if (delimited && json.is_string()) {
            seeds.Add("delimited", json.get<std::string>());
          } else {
            seeds.Add("json", json.dump());
          }
          if (json.is_number_integer()) {
            const int64_t number = json.get<int64_t>();
            std::string bytes;
            for (int shift = 56; shift >= 0; shift -= 8)
              bytes += static_cast<char>(number >> shift);
            seeds.Add("kafka", bytes);
            seeds.Add("kafka", bytes.substr(4));
          } else if (json.is_string()) {
            seeds.Add("kafka", json.get<std::string>());
          }
        }
      }
    }
  }
}

void FormatSeeds(ValueMaker& values, SeedWriter& seeds) {
  namespace fuzz = sidestream::fuzz;
  FormatOptions json;
  EncodedSeeds("json", json, fuzz::AllTypeColumns(), 60, values, seeds);
  EncodedSeeds("json", json, fuzz::CdrValueColumns(), 10, values, seeds);
  FormatOptions key;
  key.is_key = true;
  for (const FormatColumn& column : fuzz::AllTypeColumns()) {
    EncodedSeeds("json", key, {column}, 4, values, seeds);
  }
  for (char delimiter : {',', '\t', ' ', '|'}) {
    FormatOptions delimited;
    delimited.format = "DELIMITED";
    delimited.delimiter = delimiter;
    EncodedSeeds("delimited", delimited, fuzz::ScalarColumns(), 25, values, seeds);
  }
  FormatOptions delimited_key;
  delimited_key.format = "DELIMITED";
  for (const FormatColumn& column : fuzz::ScalarColumns()) {
    EncodedSeeds("delimited", delimited_key, {column}, 4, values, seeds);
  }
  for (const char* text :
       {"a,\"b \"\"quoted\"\" c\",", "\"unterminated", "1,2\n3,4", "\"a\"  ,b", "\"a\"x,b",
        ",,,,,,,,,,",
        "true,1,2,3.5,1.25,0.1,s,YWJj,2024-01-15T10:00:00.123Z,2024-01-15,10:00:00"}) {
    seeds.Add("delimited", text);
  }
  FormatOptions kafka;
  kafka.format = "KAFKA";
  kafka.is_key = true;
  for (const SqlType& type : {SqlType::Int(), SqlType::Bigint(), SqlType::Double(),
                              SqlType::String(), SqlType::Bytes()}) {
    EncodedSeeds("kafka", kafka, {{"K", type}}, 6, values, seeds);
  }
  for (auto nullable : {sidestream::formats::ProtobufNullable::kDefault,
                        sidestream::formats::ProtobufNullable::kOptional,
                        sidestream::formats::ProtobufNullable::kWrapper}) {
    FormatOptions protobuf;
    protobuf.format = "PROTOBUF_NOSR";
    protobuf.protobuf_nullable = nullable;
    EncodedSeeds("protobuf", protobuf, fuzz::ProtobufColumns(), 30, values, seeds);
  }
  FormatOptions framed;
  framed.format = "PROTOBUF";
  framed.schema_id = 1;
  EncodedSeeds("protobuf", framed, fuzz::ProtobufColumns(), 10, values, seeds);
  FormatOptions cdr;
  cdr.format = "PROTOBUF_NOSR";
  EncodedSeeds("protobuf", cdr, fuzz::CdrValueColumns(), 10, values, seeds);
}

void RowCodecSeeds(ValueMaker& values, SeedWriter& seeds) {
  const auto add = [&](const Row& row) {
    std::string bytes;
    sidestream::types::EncodeRow(row, bytes);
    seeds.Add("row_codec", bytes);
  };
  add({});
  add({Value::Null()});
  add({Value::Boolean(true), Value::Int(-1), Value::Bigint(std::numeric_limits<int64_t>::min()),
       Value::Double(-0.0), Value::DecimalValue(-12345, 2), Value::String("s"),
       Value::Bytes(std::string("\0\xff", 2)), Value::Timestamp(1768435200097LL),
       Value::Date(19737), Value::Time(36000000)});
  add({Value::Array(
      {Value::Map({Value::String("k"), Value::Struct({Value::Int(1), Value::Null()})})})});
  for (int i = 0; i < 40; ++i) add(values.MakeRow(sidestream::fuzz::AllTypeColumns()));
  // A COUNT_DISTINCT-like state: a list of distinct values and their counts.
  add({Value::Array({Value::String("a"), Value::Bigint(2), Value::String("b"), Value::Bigint(1)})});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT SOURCE_DIR SHARED_DIR\n");
    return 2;
  }
  SeedWriter seeds{fs::path(argv[1])};
  const fs::path source_dir(argv[2]);
  const fs::path shared_dir(argv[3]);
  ValueMaker values;
  SqlSeeds(source_dir, shared_dir, seeds);
  CdrSeeds(shared_dir, seeds);
  QttInputSeeds(shared_dir, seeds);
  FormatSeeds(values, seeds);
  RowCodecSeeds(values, seeds);
  seeds.Report();
  return 0;
}
