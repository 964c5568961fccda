#pragma once

#include <string>

namespace sidestream::host {

/// This process's instance id when none is given: part of its transactional ids under
/// exactly_once_v2, which must differ between live processes of one service (or they fence
/// each other) and should stay the same across restarts of one (so a restart fences its own
/// zombie). As Kafka Streams keeps its process id in its state directory, it is the host's name
/// and an id kept in `<directory>/instance.id`, locked while this object lives. A second process
/// that finds the file locked (two instances sharing one state directory) takes an id of its
/// own, not kept. Without a usable directory: the host's name and a fresh id.
class ClaimedInstanceId {
 public:
  explicit ClaimedInstanceId(const std::string& directory);
  ~ClaimedInstanceId();
  ClaimedInstanceId(const ClaimedInstanceId&) = delete;
  ClaimedInstanceId& operator=(const ClaimedInstanceId&) = delete;

  const std::string& id() const { return id_; }
  /// Whether the id is kept in the directory (false: a fresh one, for this run only).
  bool kept() const { return lock_fd_ >= 0; }

 private:
  std::string id_;
  int lock_fd_ = -1;
};

}  // namespace sidestream::host
