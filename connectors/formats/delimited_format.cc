#include "connectors/formats/delimited_format.h"

#include <string>
#include <utility>

#include "connectors/formats/scalar_text.h"

namespace sidestream::formats {
namespace {

using types::TypeId;
using types::Value;

Status CheckDelimitedColumns(const std::vector<FormatColumn>& columns) {
  for (const auto& column : columns) {
    if (column.type.is_nested()) {
      return Status::InvalidArgument("column " + column.name + ": the 'DELIMITED' format does " +
                                     "not support type '" + column.type.ToString() + "'");
    }
  }
  return Status::OK();
}

class DelimitedRowDecoder final : public RowDecoder {
 public:
  DelimitedRowDecoder(char delimiter, std::vector<FormatColumn> columns)
      : delimiter_(delimiter), columns_(std::move(columns)), fields_(columns_.size()) {}

  Status Decode(std::string_view bytes, types::Row& row, size_t first_column) override {
    if (row.size() < first_column + columns_.size()) row.resize(first_column + columns_.size());
    RETURN_NOT_OK(CheckUtf8(bytes, "DELIMITED"));
    size_t count = 0;
    RETURN_NOT_OK(SplitRecord(bytes, count));
    if (count != columns_.size()) {
      return Status::InvalidArgument("DELIMITED: expected " + std::to_string(columns_.size()) +
                                     " columns but got " + std::to_string(count) + " in " +
                                     QuoteForError(bytes));
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      Value& out = row[first_column + i];
      if (fields_[i].empty()) {
        out.SetNull();
        continue;
      }
      Status status = ParseScalarText(fields_[i], columns_[i].type, out);
      if (!status.ok()) {
        return Status::InvalidArgument("column " + columns_[i].name + ": " + status.message());
      }
    }
    return Status::OK();
  }

 private:
  // Splits the first CSV record of `bytes` into fields_ (unquoted) and counts its fields.
  // Fields beyond the schema are counted but not kept.
  Status SplitRecord(std::string_view bytes, size_t& count) {
    size_t pos = 0;
    std::string overflow;
    while (true) {
      std::string& field = count < fields_.size() ? fields_[count] : overflow;
      field.clear();
      ++count;
      if (pos < bytes.size() && bytes[pos] == '"') {
        ++pos;
        while (true) {
          if (pos >= bytes.size()) {
            return Status::InvalidArgument("DELIMITED: a quoted field is not closed in " +
                                           QuoteForError(bytes));
          }
          if (bytes[pos] == '"') {
            if (pos + 1 < bytes.size() && bytes[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          field += bytes[pos++];
        }
        // Only spaces may sit between a closing quote and the delimiter.
        while (pos < bytes.size() && bytes[pos] != delimiter_ && bytes[pos] != '\n' &&
               bytes[pos] != '\r') {
          if (bytes[pos] != ' ' && bytes[pos] != '\t') {
            return Status::InvalidArgument(
                "DELIMITED: unexpected character after a quoted field in " + QuoteForError(bytes));
          }
          ++pos;
        }
      } else {
        const size_t start = pos;
        while (pos < bytes.size() && bytes[pos] != delimiter_ && bytes[pos] != '\n' &&
               bytes[pos] != '\r') {
          ++pos;
        }
        field.assign(bytes.data() + start, pos - start);
      }
      // ksqlDB reads the first record of the message; a line break ends it.
      if (pos >= bytes.size() || bytes[pos] != delimiter_) return Status::OK();
      ++pos;
    }
  }

  char delimiter_;
  std::vector<FormatColumn> columns_;
  std::vector<std::string> fields_;  // reused across messages
};

class DelimitedRowEncoder final : public RowEncoder {
 public:
  DelimitedRowEncoder(char delimiter, std::vector<FormatColumn> columns)
      : delimiter_(delimiter), columns_(std::move(columns)) {}

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    out.clear();
    if (row.size() < first_column + columns_.size()) {
      return Status::Internal("DELIMITED encoder: row has " + std::to_string(row.size()) +
                              " values, need " + std::to_string(first_column + columns_.size()));
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) out += delimiter_;
      const Value& value = row[first_column + i];
      if (value.is_null()) continue;
      text_.clear();
      AppendScalarText(value, text_);
      AppendField(text_, i == 0, out);
    }
    return Status::OK();
  }

 private:
  // Commons CSV's QuoteMode.MINIMAL, which ksqlDB uses.
  void AppendField(const std::string& text, bool first_in_record, std::string& out) const {
    bool quote = false;
    if (text.empty()) {
      quote = first_in_record;
    } else {
      const unsigned char first = static_cast<unsigned char>(text.front());
      const bool alphanumeric = (first >= '0' && first <= '9') || (first >= 'A' && first <= 'Z') ||
                                (first >= 'a' && first <= 'z');
      if ((first_in_record && !alphanumeric) || first <= '#') quote = true;
      for (size_t i = 0; !quote && i < text.size(); ++i) {
        const char c = text[i];
        quote = c == '\n' || c == '\r' || c == '"' || c == delimiter_;
      }
      if (!quote && static_cast<unsigned char>(text.back()) <= ' ') quote = true;
    }
    if (!quote) {
      out += text;
      return;
    }
    out += '"';
    for (char c : text) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }

  char delimiter_;
  std::vector<FormatColumn> columns_;
  std::string text_;
};

}  // namespace

Result<std::unique_ptr<RowDecoder>> MakeDelimitedDecoder(const FormatOptions& options,
                                                         std::vector<FormatColumn> columns) {
  RETURN_NOT_OK(CheckDelimitedColumns(columns));
  return std::unique_ptr<RowDecoder>(
      std::make_unique<DelimitedRowDecoder>(options.delimiter, std::move(columns)));
}

Result<std::unique_ptr<RowEncoder>> MakeDelimitedEncoder(const FormatOptions& options,
                                                         std::vector<FormatColumn> columns) {
  RETURN_NOT_OK(CheckDelimitedColumns(columns));
  return std::unique_ptr<RowEncoder>(
      std::make_unique<DelimitedRowEncoder>(options.delimiter, std::move(columns)));
}

}  // namespace sidestream::formats
