#include "common/status.h"

namespace sidestream {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kSyntaxError:
      return "SyntaxError";
    case StatusCode::kBindError:
      return "BindError";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kNotSupported:
      return "NotSupported";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kRebalanced:
      return "Rebalanced";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

bool Status::user_error() const {
  switch (code_) {
    case StatusCode::kSyntaxError:
    case StatusCode::kBindError:
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kNotSupported:
      return true;
    default:
      return false;
  }
}

Status Status::WithLocation(SourceLocation location) const {
  Status copy = *this;
  if (!copy.location_.known()) copy.location_ = location;
  return copy;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string text;
  if (location_.known()) {
    text = "line " + std::to_string(location_.line) + ":" + std::to_string(location_.column) + ": ";
  }
  text += message_;
  if (!hint_.empty()) text += " (hint: " + hint_ + ")";
  return text;
}

}  // namespace sidestream
