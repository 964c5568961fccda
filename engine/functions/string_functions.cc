// String functions beyond the core set of scalar_functions.cc: CHR, UUID, ELT, FIELD,
// SPLIT_TO_MAP, the MASK_* family, REGEXP_EXTRACT_ALL and FROM_DAYS.
#include <re2/re2.h>

#include <random>

#include "functions/function_builder.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::span<const Value>;

// Appends code point `code` as UTF-8; false when it is not a valid code point.
bool AppendUtf8(int64_t code, std::string& out) {
  if (code < 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
  return true;
}

// How MASK and its variants replace each class of character; nullopt keeps it.
struct MaskCharacters {
  std::optional<char> upper = 'X', lower = 'x', digit = 'n', other = '-';
};

// The mask characters given from argument `first` on (absent ones keep the defaults; a
// NULL one leaves its class unmasked).
MaskCharacters MaskArguments(Arguments arguments, size_t first) {
  MaskCharacters mask;
  std::optional<char>* slots[] = {&mask.upper, &mask.lower, &mask.digit, &mask.other};
  for (size_t i = 0; i < 4 && first + i < arguments.size(); ++i) {
    const Value& argument = arguments[first + i];
    if (argument.is_null()) {
      slots[i]->reset();
    } else if (!argument.string().empty()) {
      *slots[i] = argument.string()[0];
    }
  }
  return mask;
}

char Masked(char c, const MaskCharacters& mask) {
  unsigned char byte = static_cast<unsigned char>(c);
  const std::optional<char>& by = std::isupper(byte)   ? mask.upper
                                  : std::islower(byte) ? mask.lower
                                  : std::isdigit(byte) ? mask.digit
                                                       : mask.other;
  return by.value_or(c);
}

enum class MaskPart { kAll, kLeft, kRight, kKeepLeft, kKeepRight };

// MASK(s, ...) masks every character; MASK_LEFT(s, n, ...) the first n; MASK_KEEP_LEFT(s, n,
// ...) all but the first n.
ScalarFactory MaskSome(MaskPart part) {
  return [part](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    bool counted = part != MaskPart::kAll;
    return Lenient([part, counted](Arguments arguments, Value& out) {
      if (arguments[0].is_null() || (counted && arguments[1].is_null())) {
        out = Value::Null();
        return Status::OK();
      }
      int64_t count = counted ? arguments[1].integer() : 0;
      if (count < 0) {
        return Status::InvalidArgument(
            "function mask requires a non-negative number of "
            "characters, but got " +
            std::to_string(count));
      }
      MaskCharacters mask = MaskArguments(arguments, counted ? 2 : 1);
      const std::string& text = arguments[0].string();
      int64_t size = static_cast<int64_t>(text.size());
      std::string& masked = Scratch();
      for (int64_t i = 0; i < size; ++i) {
        bool in_left = i < count;
        bool in_right = i >= size - count;
        bool mask_it = part == MaskPart::kAll        ? true
                       : part == MaskPart::kLeft     ? in_left
                       : part == MaskPart::kRight    ? in_right
                       : part == MaskPart::kKeepLeft ? !in_left
                                                     : !in_right;
        masked +=
            mask_it ? Masked(text[static_cast<size_t>(i)], mask) : text[static_cast<size_t>(i)];
      }
      out.AssignString(masked);
      return Status::OK();
    });
  };
}

std::string MaskSignature(const char* name) {
  return std::string(name) + "(s STRING, n INT [, upper, lower, digit, other STRING]) -> STRING";
}

}  // namespace

void AddStringFunctions(FunctionBuilder& add) {
  using A = Accepts;
  const SqlType kString = SqlType::String();
  add.Scalar("CHR", {A::kAny}, 0, Returns(kString), "CHR(code INT | '\\uXXXX' STRING) -> STRING",
             "The character with a Unicode code point, given as a number or as \\uXXXX.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 int64_t code = -1;
                 if (arguments[0].kind() == TypeId::kString) {
                   const std::string& text = arguments[0].string();
                   if (text.size() == 6 && text[0] == '\\' && (text[1] == 'u' || text[1] == 'U')) {
                     char* end = nullptr;
                     code = std::strtol(text.c_str() + 2, &end, 16);
                     if (end != text.c_str() + 6) code = -1;
                   }
                 } else if (arguments[0].kind() == TypeId::kInt ||
                            arguments[0].kind() == TypeId::kBigint) {
                   code = arguments[0].integer();
                 }
                 std::string& text = Scratch();
                 if (!AppendUtf8(code, text)) {
                   out = Value::Null();
                   return Status::OK();
                 }
                 out.AssignString(text);
                 return Status::OK();
               });
             });
  add.Scalar("UUID", {}, 0, Returns(kString), "UUID() -> STRING", "A random (version 4) UUID.",
             false, [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments, Value& out) {
                 thread_local std::mt19937_64 generator{std::random_device{}()};
                 uint64_t high = generator();
                 uint64_t low = generator();
                 high = (high & ~0xF000ull) | 0x4000ull;      // version 4
                 low = (low & ~(3ull << 62)) | (2ull << 62);  // IETF variant
                 char text[37];
                 std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx",
                               static_cast<unsigned>(high >> 32),
                               static_cast<unsigned>((high >> 16) & 0xFFFF),
                               static_cast<unsigned>(high & 0xFFFF),
                               static_cast<unsigned>(low >> 48),
                               static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFull));
                 out.AssignString(text);
                 return Status::OK();
               });
             });
  add.Scalar("ELT", {A::kIntegral, A::kString}, 0, Returns(kString),
             "ELT(n INT, s1 STRING, s2 STRING, ...) -> STRING",
             "The nth string, counted from 1; NULL when there is none.", true,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Lenient([](Arguments arguments, Value& out) {
                 out = Value::Null();
                 if (arguments[0].is_null()) return Status::OK();
                 int64_t n = arguments[0].integer();
                 if (n >= 1 && n < static_cast<int64_t>(arguments.size())) {
                   out = arguments[static_cast<size_t>(n)];
                 }
                 return Status::OK();
               });
             });
  add.Scalar(
      "FIELD", {A::kString, A::kString}, 0, Returns(SqlType::Int()),
      "FIELD(s STRING, s1 STRING, s2 STRING, ...) -> INT",
      "The position (from 1) of the first si equal to s; 0 when none is (or s is NULL).", true,
      [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
        return Lenient([](Arguments arguments, Value& out) {
          int32_t position = 0;
          if (!arguments[0].is_null()) {
            for (size_t i = 1; i < arguments.size() && position == 0; ++i) {
              if (!arguments[i].is_null() && arguments[i].string() == arguments[0].string()) {
                position = static_cast<int32_t>(i);
              }
            }
          }
          out = Value::Int(position);
          return Status::OK();
        });
      });
  add.Scalar(
      "SPLIT_TO_MAP", {A::kString, A::kString, A::kString}, 0,
      Returns(SqlType::Map(kString, kString)),
      "SPLIT_TO_MAP(s STRING, entry_delimiter STRING, kv_delimiter STRING) -> MAP<STRING, STRING>",
      "Splits s into entries, and each entry into a key and a value; entries without the "
      "key-value delimiter are dropped.",
      false, [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
        return Strict([](Arguments arguments, Value& out) {
          std::string_view text = arguments[0].string();
          std::string_view entry_delimiter = arguments[1].string();
          std::string_view kv_delimiter = arguments[2].string();
          out = Value::Null();
          if (entry_delimiter.empty() || kv_delimiter.empty() || entry_delimiter == kv_delimiter) {
            return Status::OK();
          }
          std::vector<Value> entries;
          while (!text.empty()) {
            size_t end = text.find(entry_delimiter);
            std::string_view entry = text.substr(0, end);
            text = end == std::string_view::npos ? std::string_view()
                                                 : text.substr(end + entry_delimiter.size());
            size_t split = entry.find(kv_delimiter);
            if (split == std::string_view::npos) continue;
            Value key = Value::String(std::string(entry.substr(0, split)));
            std::string_view rest = entry.substr(split + kv_delimiter.size());
            Value value = Value::String(std::string(rest.substr(0, rest.find(kv_delimiter))));
            auto same = std::find(entries.begin(), entries.end(), key);
            // A later entry wins, in the place of the first.
            while (same != entries.end() && (same - entries.begin()) % 2 != 0) {
              same = std::find(same + 1, entries.end(), key);
            }
            if (same != entries.end()) {
              *(same + 1) = std::move(value);
            } else {
              entries.push_back(std::move(key));
              entries.push_back(std::move(value));
            }
          }
          out = Value::Map(std::move(entries));
          return Status::OK();
        });
      });
  const std::vector<Accepts> kMaskParameters = {A::kString, A::kIntegral, A::kString,
                                                A::kString, A::kString,   A::kString};
  add.Scalar("MASK", {A::kString, A::kString, A::kString, A::kString, A::kString}, 4,
             SameAsArgument(0), "MASK(s STRING [, upper, lower, digit, other STRING]) -> STRING",
             "Masks every letter and digit of s (X, x, n, - unless other characters are given; "
             "NULL leaves a class as it is).",
             false, MaskSome(MaskPart::kAll));
  add.Scalar("MASK_LEFT", kMaskParameters, 4, SameAsArgument(0), MaskSignature("MASK_LEFT"),
             "Masks the first n characters of s.", false, MaskSome(MaskPart::kLeft));
  add.Scalar("MASK_RIGHT", kMaskParameters, 4, SameAsArgument(0), MaskSignature("MASK_RIGHT"),
             "Masks the last n characters of s.", false, MaskSome(MaskPart::kRight));
  add.Scalar("MASK_KEEP_LEFT", kMaskParameters, 4, SameAsArgument(0),
             MaskSignature("MASK_KEEP_LEFT"), "Masks all but the first n characters of s.", false,
             MaskSome(MaskPart::kKeepLeft));
  add.Scalar("MASK_KEEP_RIGHT", kMaskParameters, 4, SameAsArgument(0),
             MaskSignature("MASK_KEEP_RIGHT"), "Masks all but the last n characters of s.", false,
             MaskSome(MaskPart::kKeepRight));
  add.Scalar(
      "REGEXP_EXTRACT_ALL", {A::kString, A::kString, A::kIntegral}, 1,
      Returns(SqlType::Array(kString)), "REGEXP_EXTRACT_ALL(pattern, s [, group]) -> ARRAY<STRING>",
      "Every match of an RE2 pattern in s (or of one group of it).", false,
      [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
        bool with_group = site.types.size() == 3;
        return Strict([with_group](Arguments arguments, Value& out) {
          RE2::Options options;
          options.set_log_errors(false);
          RE2 regex(arguments[0].string(), options);
          if (!regex.ok()) {
            return Status::InvalidArgument("Invalid regular expression '" + arguments[0].string() +
                                           "': " + regex.error());
          }
          int64_t group = with_group ? arguments[2].integer() : 0;
          if (group < 0 || group > regex.NumberOfCapturingGroups()) {
            out = Value::Null();
            return Status::OK();
          }
          const std::string& text = arguments[1].string();
          std::vector<re2::StringPiece> groups(static_cast<size_t>(group) + 1);
          std::vector<Value> matches;
          size_t at = 0;
          while (at <= text.size() && regex.Match(text, at, text.size(), RE2::UNANCHORED,
                                                  groups.data(), static_cast<int>(groups.size()))) {
            const re2::StringPiece& whole = groups[0];
            const re2::StringPiece& wanted = groups.back();
            matches.push_back(wanted.data() == nullptr
                                  ? Value::Null()
                                  : Value::String(std::string(wanted.data(), wanted.size())));
            size_t end = static_cast<size_t>(whole.data() - text.data()) + whole.size();
            at = whole.empty() ? end + 1 : end;
          }
          out = Value::Array(std::move(matches));
          return Status::OK();
        });
      });
  add.Scalar("FROM_DAYS", {A::kIntegral}, 0, Returns(SqlType::Date()),
             "FROM_DAYS(days INT) -> DATE", "The DATE a number of days after 1970-01-01.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 out = Value::Date(static_cast<int32_t>(arguments[0].integer()));
                 return Status::OK();
               });
             });
}

}  // namespace sidestream::functions
