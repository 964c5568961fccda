#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "host/kafka_engine.h"

namespace sidestream::rest {

/// The one thread that owns the engine: it calls RunOnce in a loop and, between calls, runs
/// the tasks HTTP handlers post to it (statements, push-query starts) and the tickers that
/// stream push-query rows. The engine is used only through its public methods, so this works
/// whichever thread layout the engine has inside.
/// Ownership: owns the engine. Thread: Post and AddTicker from any thread; Stop from the
/// thread that started it. At Stop, queued tasks run (so their responders answer), then
/// every ticker is called once with `stopping` true, then the engine commits and is freed.
class EngineWorker {
 public:
  using Task = std::function<void(host::KafkaEngine& engine)>;
  /// Returns false when it is done (it is then dropped).
  using Ticker = std::function<bool(host::KafkaEngine& engine, bool stopping)>;

  /// Starts the engine (the embedded broker when options.bootstrap_servers is empty) and the
  /// thread.
  static Result<std::unique_ptr<EngineWorker>> Start(host::KafkaEngineOptions options,
                                                     int64_t idle_timeout_ms);
  ~EngineWorker();

  void Post(Task task);
  void AddTicker(Ticker ticker);
  /// Ends the loop's wait now, so that its tickers run (a push query's tap has rows).
  void Wake();
  void Stop();

  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  bool embedded() const { return embedded_; }
  /// Thread-safe (the catalog has its own lock).
  catalog::Catalog& catalog() { return engine_->catalog(); }

 private:
  EngineWorker() = default;
  void Loop();

  std::unique_ptr<host::KafkaEngine> engine_;
  std::string bootstrap_servers_;
  bool embedded_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  std::vector<Ticker> new_tickers_;
  bool stopping_ = false;  // under mutex_
  bool woken_ = false;     // under mutex_
};

}  // namespace sidestream::rest
