// TO_BYTES, FROM_BYTES, ENCODE and the *_FROM_BYTES number readers.
#include <absl/strings/escaping.h>

#include <bit>
#include <cstring>

#include "functions/function_builder.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::span<const Value>;

// Debian's Abseil has its own string_view.
absl::string_view View(std::string_view text) { return {text.data(), text.size()}; }

enum class Encoding { kHex, kUtf8, kAscii, kBase64 };

Result<Encoding> ParseEncoding(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "hex") return Encoding::kHex;
  if (lower == "utf8") return Encoding::kUtf8;
  if (lower == "ascii") return Encoding::kAscii;
  if (lower == "base64") return Encoding::kBase64;
  return Status::InvalidArgument(
      "Supported input encodings are: hex, utf8, ascii and base64, "
      "but got '" +
      std::string(name) + "'");
}

// Java's US-ASCII charset: a byte or character past 127 becomes '?'.
std::string ToAscii(std::string_view text) {
  std::string ascii(text);
  for (char& c : ascii) {
    if (static_cast<unsigned char>(c) > 127) c = '?';
  }
  return ascii;
}

Result<std::string> Decode(std::string_view text, Encoding encoding) {
  switch (encoding) {
    case Encoding::kHex: {
      bool digits = std::all_of(text.begin(), text.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      });
      if (!digits || text.size() % 2 != 0) {
        return Status::InvalidArgument("'" + std::string(text) + "' is not a hex string");
      }
      return absl::HexStringToBytes(View(text));
    }
    case Encoding::kBase64: {
      std::string bytes;
      if (!absl::Base64Unescape(View(text), &bytes)) {
        return Status::InvalidArgument("'" + std::string(text) + "' is not base64");
      }
      return bytes;
    }
    case Encoding::kAscii:
      return ToAscii(text);
    case Encoding::kUtf8:
      break;
  }
  return std::string(text);
}

std::string Encode(std::string_view bytes, Encoding encoding) {
  switch (encoding) {
    case Encoding::kHex: {
      std::string hex = absl::BytesToHexString(View(bytes));
      for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return hex;
    }
    case Encoding::kBase64:
      return absl::Base64Escape(View(bytes));
    case Encoding::kAscii:
      return ToAscii(bytes);
    case Encoding::kUtf8:
      break;
  }
  return std::string(bytes);
}

// TO_BYTES (`to_bytes`) or FROM_BYTES; the encoding is looked up once when it is a literal.
ScalarFactory Convert(bool to_bytes) {
  return [to_bytes](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    // An unknown encoding is an error of each call, as a failing ksqlDB UDF is.
    std::optional<Result<Encoding>> fixed;
    if (const Value* name = site.constant(1); name != nullptr && !name->is_null()) {
      fixed = ParseEncoding(name->string());
    }
    return Strict([to_bytes, fixed](Arguments arguments, Value& out) {
      ASSIGN_OR_RAISE(Encoding encoding, fixed ? *fixed : ParseEncoding(arguments[1].string()));
      if (to_bytes) {
        ASSIGN_OR_RAISE(std::string bytes, Decode(arguments[0].string(), encoding));
        out = Value::Bytes(std::move(bytes));
      } else {
        out.AssignString(Encode(arguments[0].string(), encoding));
      }
      return Status::OK();
    });
  };
}

// INT_FROM_BYTES and friends: exactly sizeof(Number) bytes, big-endian unless the second
// argument says LITTLE_ENDIAN.
template <typename Number>
ScalarFactory NumberFromBytes(const char* name) {
  return [name](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([name](Arguments arguments, Value& out) {
      const std::string& bytes = arguments[0].string();
      if (bytes.size() != sizeof(Number)) {
        return Status::InvalidArgument(std::string(name) + ": number of bytes must be equal to " +
                                       std::to_string(sizeof(Number)) + ", but found " +
                                       std::to_string(bytes.size()));
      }
      bool little = false;
      if (arguments.size() > 1) {
        const std::string& order = arguments[1].string();
        if (order != "BIG_ENDIAN" && order != "LITTLE_ENDIAN") {
          return Status::InvalidArgument(
              "Byte order must be BIG_ENDIAN or LITTLE_ENDIAN, but is '" + order + "'");
        }
        little = order == "LITTLE_ENDIAN";
      }
      uint64_t word = 0;
      for (size_t i = 0; i < sizeof(Number); ++i) {
        size_t at = little ? sizeof(Number) - 1 - i : i;
        word = (word << 8) | static_cast<unsigned char>(bytes[at]);
      }
      if constexpr (std::is_same_v<Number, double>) {
        out = Value::Double(std::bit_cast<double>(word));
      } else if constexpr (std::is_same_v<Number, int32_t>) {
        out = Value::Int(static_cast<int32_t>(static_cast<uint32_t>(word)));
      } else {
        out = Value::Bigint(static_cast<int64_t>(word));
      }
      return Status::OK();
    });
  };
}

}  // namespace

void AddBytesFunctions(FunctionBuilder& add) {
  using A = Accepts;
  add.Scalar("TO_BYTES", {A::kString, A::kString}, 0, Returns(SqlType::Bytes()),
             "TO_BYTES(s STRING, encoding STRING) -> BYTES",
             "Decodes s as hex, utf8, ascii or base64.", false, Convert(true));
  add.Scalar("FROM_BYTES", {A::kBytes, A::kString}, 0, Returns(SqlType::String()),
             "FROM_BYTES(b BYTES, encoding STRING) -> STRING",
             "Encodes b as hex, utf8, ascii or base64 text.", false, Convert(false));
  add.Scalar("ENCODE", {A::kString, A::kString, A::kString}, 0, Returns(SqlType::String()),
             "ENCODE(s STRING, input_encoding STRING, output_encoding STRING) -> STRING",
             "Re-encodes s from one of hex, utf8, ascii or base64 to another.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 ASSIGN_OR_RAISE(Encoding from, ParseEncoding(arguments[1].string()));
                 ASSIGN_OR_RAISE(Encoding to, ParseEncoding(arguments[2].string()));
                 ASSIGN_OR_RAISE(std::string bytes, Decode(arguments[0].string(), from));
                 out.AssignString(Encode(bytes, to));
                 return Status::OK();
               });
             });
  const char* order = "[, 'BIG_ENDIAN'|'LITTLE_ENDIAN']";
  add.Scalar("INT_FROM_BYTES", {A::kBytes, A::kString}, 1, Returns(SqlType::Int()),
             std::string("INT_FROM_BYTES(b BYTES ") + order + ") -> INT",
             "The INT in 4 bytes, big-endian by default.", false,
             NumberFromBytes<int32_t>("INT_FROM_BYTES"));
  add.Scalar("BIGINT_FROM_BYTES", {A::kBytes, A::kString}, 1, Returns(SqlType::Bigint()),
             std::string("BIGINT_FROM_BYTES(b BYTES ") + order + ") -> BIGINT",
             "The BIGINT in 8 bytes, big-endian by default.", false,
             NumberFromBytes<int64_t>("BIGINT_FROM_BYTES"));
  add.Scalar("DOUBLE_FROM_BYTES", {A::kBytes, A::kString}, 1, Returns(SqlType::Double()),
             std::string("DOUBLE_FROM_BYTES(b BYTES ") + order + ") -> DOUBLE",
             "The IEEE 754 DOUBLE in 8 bytes, big-endian by default.", false,
             NumberFromBytes<double>("DOUBLE_FROM_BYTES"));
}

}  // namespace sidestream::functions
