// MATCHED_PHRASE (Hyperscan, one database for the whole list) beside REGEXP_LIKE (RE2, one
// alternation with \b) on the SMS texts of the CDR sample: both through the scalar function
// implementations that queries use. Prints MB/s of text scanned, per SMS (short texts: the
// call dominates) and over the texts joined into 4 KB documents (the scan dominates).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "functions/scalar_functions.h"

namespace {

using sidestream::functions::MakeScalarFunction;
using sidestream::types::SqlType;
using sidestream::types::Value;

constexpr char kPhrases[] =
    "bomb, gun, shooting, kill you, explosive, kidnap, hostage, ransom, help me, attack";
constexpr char kRegex[] =
    "(?i)\\b(bomb|gun|shooting|kill\\s+you|explosive|kidnap|hostage|ransom|help\\s+me|attack)\\b";

const std::vector<Value>& Texts();

// The SMS texts joined, ". " between them, into documents of about 4 KB.
const std::vector<Value>& Documents() {
  static const std::vector<Value> documents = [] {
    std::vector<Value> joined;
    std::string document;
    for (const Value& text : Texts()) {
      document += text.string();
      document += ". ";
      if (document.size() >= 4096) {
        joined.push_back(Value::String(document));
        document.clear();
      }
    }
    return joined;
  }();
  return documents;
}

const std::vector<Value>& Texts() {
  static const std::vector<Value> texts = [] {
    std::vector<Value> loaded;
    std::ifstream file(std::string(SIDESTREAM_SHARED_DIR) + "/cdr/sample-v2-120min.jsonl");
    for (std::string line; std::getline(file, line);) {
      auto record = nlohmann::json::parse(line, nullptr, false);
      if (record.is_object() && record["sms_text"].is_string()) {
        loaded.push_back(Value::String(record["sms_text"].get<std::string>()));
      }
    }
    if (loaded.empty()) {
      std::fprintf(stderr, "no SMS texts under %s\n", SIDESTREAM_SHARED_DIR);
      std::exit(1);
    }
    return loaded;
  }();
  return texts;
}

void Scan(benchmark::State& state, const std::vector<Value>& texts, const char* function,
          const char* pattern, SqlType result) {
  Value literal = Value::String(pattern);
  auto made = MakeScalarFunction(function, {SqlType::String(), SqlType::String()},
                                 {nullptr, &literal}, result);
  if (!made.ok()) {
    state.SkipWithError(made.status().ToString().c_str());
    return;
  }
  int64_t bytes = 0;
  int64_t matches = 0;
  Value arguments[2] = {Value(), literal};
  Value out;
  for (auto _ : state) {
    for (const Value& text : texts) {
      arguments[0] = text;
      if (!(*made)->Call(arguments, out).ok()) state.SkipWithError("call failed");
      matches +=
          !out.is_null() && (out.kind() != sidestream::types::TypeId::kBoolean || out.boolean());
      bytes += static_cast<int64_t>(text.string().size());
    }
  }
  state.SetBytesProcessed(bytes);
  state.counters["matches"] = static_cast<double>(matches);
}

void BM_MatchedPhraseHyperscan(benchmark::State& state) {
  Scan(state, Texts(), "MATCHED_PHRASE", kPhrases, SqlType::String());
}
void BM_RegexpLikeRe2(benchmark::State& state) {
  Scan(state, Texts(), "REGEXP_LIKE", kRegex, SqlType::Boolean());
}
void BM_MatchedPhraseHyperscan4KB(benchmark::State& state) {
  Scan(state, Documents(), "MATCHED_PHRASE", kPhrases, SqlType::String());
}
void BM_RegexpLikeRe24KB(benchmark::State& state) {
  Scan(state, Documents(), "REGEXP_LIKE", kRegex, SqlType::Boolean());
}

BENCHMARK(BM_MatchedPhraseHyperscan);
BENCHMARK(BM_RegexpLikeRe2);
BENCHMARK(BM_MatchedPhraseHyperscan4KB);
BENCHMARK(BM_RegexpLikeRe24KB);

}  // namespace

BENCHMARK_MAIN();
