#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_buffer_manager.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "state/rocksdb_store.h"

namespace sidestream::state {

Result<std::unique_ptr<RocksDbStoreProvider>> RocksDbStoreProvider::Create(Options options) {
  if (options.state_dir.empty()) {
    return Status::InvalidArgument("state.dir is empty: RocksDB state stores need a directory");
  }
  const std::filesystem::path application =
      std::filesystem::path(options.state_dir) / options.application_id;
  std::error_code error;
  std::filesystem::create_directories(application, error);
  if (error) {
    return Status::IOError("cannot create the state directory " + application.string() + ": " +
                           error.message());
  }
  const std::string lock_path = (application / ".lock").string();
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError("cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int failed = errno;
    ::close(fd);
    return Status::IOError("the state directory " + application.string() +
                           " is in use by another process (" + std::strerror(failed) +
                           "): give each instance its own state.dir");
  }
  return std::unique_ptr<RocksDbStoreProvider>(new RocksDbStoreProvider(std::move(options), fd));
}

RocksDbStoreProvider::RocksDbStoreProvider(Options options, int lock_fd)
    : options_(std::move(options)), lock_fd_(lock_fd) {
  const auto memory = static_cast<size_t>(std::max<int64_t>(options_.memory_bytes, 8 << 20));
  shared_.block_cache = rocksdb::NewLRUCache(memory);
  // Memtables take at most half of the bound, charged to the same cache.
  shared_.write_buffers =
      std::make_shared<rocksdb::WriteBufferManager>(memory / 2, shared_.block_cache);
  shared_.write_cache_bytes = options_.write_cache_bytes;
}

RocksDbStoreProvider::~RocksDbStoreProvider() { ::close(lock_fd_); }

std::string RocksDbStoreProvider::TaskDirectory(const std::string& application_id,
                                                const std::string& stage_id,
                                                int32_t partition) const {
  return (std::filesystem::path(options_.state_dir) / application_id /
          (stage_id + "_" + std::to_string(partition)))
      .string();
}

Result<std::unique_ptr<runtime::ChangelogBackedStore>> RocksDbStoreProvider::Open(
    const std::string& task_directory, const std::string& name,
    runtime::ChangelogBackedStore::Sink sink) {
  std::error_code error;
  std::filesystem::create_directories(task_directory, error);
  if (error) {
    return Status::IOError("cannot create the task directory " + task_directory + ": " +
                           error.message());
  }
  ASSIGN_OR_RAISE(auto store, RocksDbKeyValueStore::Open(
                                  (std::filesystem::path(task_directory) / name).string(), shared_,
                                  std::move(sink)));
  return std::unique_ptr<runtime::ChangelogBackedStore>(std::move(store));
}

}  // namespace sidestream::state
