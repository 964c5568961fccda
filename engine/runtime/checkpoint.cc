#include "runtime/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace sidestream::runtime {

namespace {

// Kafka Streams' format: a version line, a count line, then "<topic> <partition> <offset>".
constexpr int kVersion = 0;

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::Corruption("checkpoint " + path + " is unreadable: " + why);
}

bool ParseInt(std::string_view text, int64_t& number) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  return error == std::errc() && end == text.data() + text.size();
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<CheckpointOffsets> ReadCheckpoint(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
      return Status::NotFound("no checkpoint at " + path);
    }
    return Errno("cannot read the checkpoint", path);
  }
  std::string line;
  int64_t version = -1, count = -1;
  if (!std::getline(file, line) || !ParseInt(line, version) || version != kVersion) {
    return Corrupt(path, "the first line is not version " + std::to_string(kVersion));
  }
  if (!std::getline(file, line) || !ParseInt(line, count) || count < 0) {
    return Corrupt(path, "the second line is not a count of offsets");
  }
  CheckpointOffsets offsets;
  for (int64_t index = 0; index < count; ++index) {
    if (!std::getline(file, line)) {
      return Corrupt(path, "it ends after " + std::to_string(index) + " of " +
                               std::to_string(count) + " offsets");
    }
    const size_t first = line.find(' ');
    const size_t second = first == std::string::npos ? first : line.find(' ', first + 1);
    int64_t partition = 0, offset = 0;
    if (second == std::string::npos || first == 0 ||
        !ParseInt(std::string_view(line).substr(first + 1, second - first - 1), partition) ||
        !ParseInt(std::string_view(line).substr(second + 1), offset) || partition < 0 ||
        partition > INT32_MAX || offset < 0) {
      return Corrupt(
          path, "line " + std::to_string(index + 3) + " is not '<topic> <partition> <offset>'");
    }
    offsets[{line.substr(0, first), static_cast<int32_t>(partition)}] = offset;
  }
  if (std::getline(file, line) && !line.empty()) return Corrupt(path, "it has extra lines");
  return offsets;
}

Status WriteCheckpoint(const std::string& path, const CheckpointOffsets& offsets) {
  std::ostringstream text;
  text << kVersion << "\n" << offsets.size() << "\n";
  for (const auto& [partition, offset] : offsets) {
    text << partition.topic << " " << partition.partition << " " << offset << "\n";
  }
  const std::string bytes = text.str();
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temporary);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t wrote = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) {
      Status failed = Errno("cannot write", temporary);
      ::close(fd);
      return failed;
    }
    written += static_cast<size_t>(wrote);
  }
  if (::fsync(fd) != 0) {
    Status failed = Errno("cannot sync", temporary);
    ::close(fd);
    return failed;
  }
  if (::close(fd) != 0) return Errno("cannot close", temporary);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return Errno("cannot rename to", path);
  return Status::OK();
}

Status DeleteCheckpoint(const std::string& path) {
  if (std::remove(path.c_str()) != 0 && errno != ENOENT) return Errno("cannot delete", path);
  return Status::OK();
}

}  // namespace sidestream::runtime
