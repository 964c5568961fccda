// MATCHED_PHRASE: multi-phrase matching with Hyperscan. The phrase list is compiled once per
// call site (it must be a literal) into one Hyperscan database; a scan finds every phrase in
// one pass over the text, whatever the number of phrases.
#include <hs/hs.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "functions/telecom_functions.h"

namespace sidestream::functions {

using types::SqlType;
using types::Value;

namespace {

// A compiled phrase list. Owns its database; shared by the copies of one call site's body.
class PhraseDatabase {
 public:
  /// Parses and compiles a list of comma-separated phrases. InvalidArgument naming the
  /// problem for an empty list, an empty phrase or a phrase without a letter or digit.
  static Result<std::shared_ptr<const PhraseDatabase>> Compile(const std::string& list) {
    auto database = std::shared_ptr<PhraseDatabase>(new PhraseDatabase());
    std::vector<std::string> expressions;
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string phrase = Normalize(list.substr(start, comma - start));
      if (phrase.empty()) {
        return Status::InvalidArgument(
            "MATCHED_PHRASE: the phrase list '" + list + "' has an empty phrase at position " +
            std::to_string(database->phrases_.size() + 1) +
            " (hint: phrases are separated by commas, e.g. 'help me, hostage')");
      }
      bool has_word_character = false;
      for (char c : phrase) has_word_character |= IsWordCharacter(c);
      if (!has_word_character) {
        return Status::InvalidArgument("MATCHED_PHRASE: the phrase '" + phrase +
                                       "' has no letter or digit, so it has no whole word");
      }
      expressions.push_back(WholeWordPattern(phrase));
      database->phrases_.push_back(std::move(phrase));
      start = comma + 1;
    }
    std::vector<const char*> patterns;
    std::vector<unsigned> flags(expressions.size(), HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
    std::vector<unsigned> ids;
    for (size_t i = 0; i < expressions.size(); ++i) {
      patterns.push_back(expressions[i].c_str());
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr,
                         &database->database_, &error) != HS_SUCCESS) {
      std::string message = error != nullptr && error->message != nullptr ? error->message : "?";
      hs_free_compile_error(error);
      return Status::InvalidArgument("MATCHED_PHRASE: cannot compile the phrase list '" + list +
                                     "': " + message);
    }
    return std::shared_ptr<const PhraseDatabase>(std::move(database));
  }

  ~PhraseDatabase() { hs_free_database(database_); }

  /// The phrase (as written in the list, trimmed and lower-cased) that ends first in `text`,
  /// or null when none occurs. InvalidArgument when Hyperscan fails (out of memory).
  Result<const std::string*> FirstMatch(std::string_view text) const {
    hs_scratch_t* scratch = nullptr;
    RETURN_NOT_OK(Scratch(scratch));
    int found = -1;
    hs_error_t scanned = hs_scan(
        database_, text.data(), static_cast<unsigned>(text.size()), 0, scratch,
        [](unsigned id, unsigned long long, unsigned long long, unsigned, void* context) {
          *static_cast<int*>(context) = static_cast<int>(id);
          return 1;  // matches arrive in end order: the first one answers, so stop
        },
        &found);
    if (scanned != HS_SUCCESS && scanned != HS_SCAN_TERMINATED) {
      return Status::InvalidArgument("MATCHED_PHRASE: Hyperscan scan failed with code " +
                                     std::to_string(scanned));
    }
    return found < 0 ? nullptr : &phrases_[static_cast<size_t>(found)];
  }

 private:
  PhraseDatabase() : id_(next_id_.fetch_add(1)) {}

  static bool IsWordCharacter(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  }

  // Trimmed, lower-case, with inner runs of white space as one space.
  static std::string Normalize(std::string_view phrase) {
    std::string normalized;
    for (char c : phrase) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!normalized.empty() && normalized.back() != ' ') normalized += ' ';
      } else {
        normalized += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    if (!normalized.empty() && normalized.back() == ' ') normalized.pop_back();
    return normalized;
  }

  // The phrase literally (every other byte escaped), a space matching any white space, and
  // word boundaries where the phrase starts or ends with a word character.
  static std::string WholeWordPattern(const std::string& phrase) {
    std::string pattern;
    if (IsWordCharacter(phrase.front())) pattern += "\\b";
    for (char c : phrase) {
      if (c == ' ') {
        pattern += "\\s+";
      } else if (IsWordCharacter(c)) {
        pattern += c;
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        auto byte = static_cast<unsigned char>(c);
        pattern += "\\x";
        pattern += kHex[byte >> 4];
        pattern += kHex[byte & 15];
      }
    }
    if (IsWordCharacter(phrase.back())) pattern += "\\b";
    return pattern;
  }

  // This thread's scratch space, grown to fit this database the first time it scans here.
  Status Scratch(hs_scratch_t*& scratch) const {
    struct ThreadScratch {
      hs_scratch_t* scratch = nullptr;
      std::vector<uint64_t> fitted;  // ids of the databases it fits
      ~ThreadScratch() { hs_free_scratch(scratch); }
    };
    thread_local ThreadScratch local;
    if (std::find(local.fitted.begin(), local.fitted.end(), id_) == local.fitted.end()) {
      if (hs_alloc_scratch(database_, &local.scratch) != HS_SUCCESS) {
        return Status::InvalidArgument("MATCHED_PHRASE: cannot allocate Hyperscan scratch space");
      }
      local.fitted.push_back(id_);
    }
    scratch = local.scratch;
    return Status::OK();
  }

  static inline std::atomic<uint64_t> next_id_{0};
  uint64_t id_;
  hs_database_t* database_ = nullptr;
  std::vector<std::string> phrases_;
};

TelecomFunction MatchedPhrase() {
  TelecomFunction function;
  function.definition.name = "MATCHED_PHRASE";
  function.definition.min_arguments = 2;
  function.definition.max_arguments = 2;
  function.definition.literal_arguments = {1};
  function.definition.signature = "MATCHED_PHRASE(text STRING, 'phrase, phrase, ...') -> STRING";
  function.definition.description =
      "The first phrase of the list found in text as whole words, in any case (Hyperscan); "
      "NULL when none.";
  function.definition.resolve = TelecomTyping(
      "MATCHED_PHRASE", {TelecomArgument::kString, TelecomArgument::kString}, SqlType::String());
  function.make_scalar =
      [](const std::vector<SqlType>&,
         const std::vector<const Value*>& constants) -> Result<std::unique_ptr<ScalarFunction>> {
    const Value* list = constants.size() > 1 ? constants[1] : nullptr;
    if (list == nullptr || list->is_null()) {
      return Status::InvalidArgument("MATCHED_PHRASE: the phrase list must be a non-NULL literal");
    }
    ASSIGN_OR_RAISE(auto database, PhraseDatabase::Compile(list->string()));
    return std::make_unique<ScalarFunction>(
        [database](std::span<const Value> arguments, Value& out) -> Status {
          ASSIGN_OR_RAISE(const std::string* phrase, database->FirstMatch(arguments[0].string()));
          if (phrase == nullptr) {
            out = Value::Null();
          } else {
            out.AssignString(*phrase);
          }
          return Status::OK();
        },
        /*null_on_null=*/true);
  };
  return function;
}

}  // namespace

std::vector<TelecomFunction> PhraseMatchingFunctions() { return {MatchedPhrase()}; }

}  // namespace sidestream::functions
