#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sidestream {

/// Where a problem sits in SQL text. Lines and columns count from 1; 0 means unknown.
struct SourceLocation {
  int line = 0;
  int column = 0;

  bool known() const { return line > 0; }
};

/// What went wrong, in classes that decide how callers react.
enum class StatusCode {
  kOk,
  kSyntaxError,      // SQL that does not parse; the user's fault (HTTP 400).
  kBindError,        // SQL that parses but names or types do not fit (HTTP 400).
  kInvalidArgument,  // a bad option, property or request body (HTTP 400).
  kNotFound,         // a named object is missing (HTTP 404).
  kAlreadyExists,    // a named object exists already (HTTP 409).
  kNotSupported,     // valid dialect that is not built yet (HTTP 501).
  kUnavailable,      // retriable: a broker or server is down.
  kRebalanced,       // the consumer group moved partitions mid-commit: redo from the last commit.
  kCorruption,       // stored data is unreadable.
  kIOError,          // a file or socket failed.
  kInternal,         // a bug in Sidestream.
};

/// Name of a status code, e.g. "SyntaxError".
const char* StatusCodeName(StatusCode code);

/// The outcome of a call that can fail. Cheap to copy when ok.
/// A Status carries a message, an optional SQL location and an optional hint
/// ("did you mean COUNT?"), so that user-facing errors render in one place.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, SourceLocation location = {}, std::string hint = {})
      : code_(code), message_(std::move(message)), location_(location), hint_(std::move(hint)) {}

  static Status OK() { return Status(); }
  static Status SyntaxError(std::string message, SourceLocation location = {},
                            std::string hint = {}) {
    return Status(StatusCode::kSyntaxError, std::move(message), location, std::move(hint));
  }
  static Status BindError(std::string message, SourceLocation location = {},
                          std::string hint = {}) {
    return Status(StatusCode::kBindError, std::move(message), location, std::move(hint));
  }
  static Status InvalidArgument(std::string message, SourceLocation location = {},
                                std::string hint = {}) {
    return Status(StatusCode::kInvalidArgument, std::move(message), location, std::move(hint));
  }
  static Status NotFound(std::string message, SourceLocation location = {}, std::string hint = {}) {
    return Status(StatusCode::kNotFound, std::move(message), location, std::move(hint));
  }
  static Status AlreadyExists(std::string message, SourceLocation location = {},
                              std::string hint = {}) {
    return Status(StatusCode::kAlreadyExists, std::move(message), location, std::move(hint));
  }
  static Status NotSupported(std::string message, SourceLocation location = {},
                             std::string hint = {}) {
    return Status(StatusCode::kNotSupported, std::move(message), location, std::move(hint));
  }
  static Status Unavailable(std::string message) {
    return Status(StatusCode::kUnavailable, std::move(message));
  }
  static Status Rebalanced(std::string message) {
    return Status(StatusCode::kRebalanced, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(StatusCode::kCorruption, std::move(message));
  }
  static Status IOError(std::string message) {
    return Status(StatusCode::kIOError, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(StatusCode::kInternal, std::move(message));
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const SourceLocation& location() const { return location_; }
  const std::string& hint() const { return hint_; }
  /// True for errors worth retrying unchanged (a broker that is down).
  bool retriable() const { return code_ == StatusCode::kUnavailable; }
  /// True when the user's input is at fault (maps to HTTP 4xx).
  bool user_error() const;

  /// Returns a copy located at `location` unless a location is already set.
  Status WithLocation(SourceLocation location) const;

  /// "line 3:14: Unknown column 'CELL' (hint: did you mean CELL_ID?)"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  SourceLocation location_;
  std::string hint_;
};

/// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design.
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: implicit by design.

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace sidestream

#define SIDESTREAM_CONCAT_INNER(a, b) a##b
#define SIDESTREAM_CONCAT(a, b) SIDESTREAM_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function when it is not ok.
#define RETURN_NOT_OK(expr)                 \
  do {                                      \
    ::sidestream::Status _status_ = (expr); \
    if (!_status_.ok()) return _status_;    \
  } while (false)

#define ASSIGN_OR_RAISE_IMPL(result_name, lhs, rexpr) \
  auto result_name = (rexpr);                         \
  if (!result_name.ok()) return result_name.status(); \
  lhs = std::move(result_name).value()

/// `ASSIGN_OR_RAISE(auto x, MakeX());` binds x or returns the error.
#define ASSIGN_OR_RAISE(lhs, rexpr) \
  ASSIGN_OR_RAISE_IMPL(SIDESTREAM_CONCAT(_result_, __LINE__), lhs, rexpr)
