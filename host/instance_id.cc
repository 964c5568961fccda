#include "host/instance_id.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

namespace sidestream::host {

namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "sidestream";
  return name;
}

std::string FreshId() {
  std::random_device random;
  char id[16];
  std::snprintf(id, sizeof(id), "%08x", static_cast<unsigned>(random()));
  return id;
}

}  // namespace

ClaimedInstanceId::ClaimedInstanceId(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  const std::string path = directory + "/instance.id";
  int fd = error ? -1 : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);  // another live process keeps this one
    fd = -1;
  }
  std::string kept;
  if (fd >= 0) {
    char buffer[64] = {};
    const ssize_t read = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
    if (read > 0) kept.assign(buffer, static_cast<size_t>(read));
    while (!kept.empty() && (kept.back() == '\n' || kept.back() == ' ')) kept.pop_back();
    const bool valid =
        !kept.empty() && kept.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!valid) {
      kept = FreshId();
      const std::string line = kept + "\n";
      if (::ftruncate(fd, 0) != 0 ||
          ::pwrite(fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
        ::close(fd);
        fd = -1;
      }
    }
  }
  lock_fd_ = fd;
  id_ = HostName() + "-" + (fd >= 0 ? kept : FreshId());
}

ClaimedInstanceId::~ClaimedInstanceId() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

}  // namespace sidestream::host
