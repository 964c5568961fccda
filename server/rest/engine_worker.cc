#include "server/rest/engine_worker.h"

#include <chrono>
#include <iostream>

namespace sidestream::rest {

Result<std::unique_ptr<EngineWorker>> EngineWorker::Start(host::KafkaEngineOptions options,
                                                          int64_t idle_timeout_ms) {
  std::unique_ptr<EngineWorker> worker(new EngineWorker());
  ASSIGN_OR_RAISE(worker->engine_, host::KafkaEngine::Start(std::move(options)));
  worker->engine_->set_idle_timeout_ms(idle_timeout_ms);
  worker->engine_->set_on_query_failure(
      [](const std::string& query_id, const host::QueryError& error, host::QueryState state) {
        std::cerr << "query " << query_id << " failed: " << error.ToString() << " ("
                  << host::QueryStateName(state) << ")" << std::endl;
      });
  worker->bootstrap_servers_ = worker->engine_->bootstrap_servers();
  worker->embedded_ = worker->engine_->embedded();
  worker->thread_ = std::thread([raw = worker.get()] { raw->Loop(); });
  return worker;
}

EngineWorker::~EngineWorker() { Stop(); }

void EngineWorker::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void EngineWorker::AddTicker(Ticker ticker) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    new_tickers_.push_back(std::move(ticker));
  }
  wake_.notify_one();
}

void EngineWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void EngineWorker::Loop() {
  std::vector<Ticker> tickers;
  for (;;) {
    std::deque<Task> tasks;
    bool stopping;
    const bool queries = !engine_->Queries().empty();
    // With the queries on their stream threads, RunOnce would only sleep: wait here instead,
    // where a posted task (a pull query) ends the wait at once.
    const bool wait_here = queries && engine_->RunOnceOnlyWaits();
    const int pass_ms = tickers.empty() ? 50 : 10;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      auto posted = [this] {
        return !tasks_.empty() || !new_tickers_.empty() || stopping_ || woken_;
      };
      // With no query and no push query there is nothing to poll: sleep until posted to.
      if (!queries && tickers.empty()) {
        wake_.wait_for(lock, std::chrono::milliseconds(200), posted);
      } else if (wait_here || !queries) {
        wake_.wait_for(lock, std::chrono::milliseconds(pass_ms), posted);
      }
      tasks.swap(tasks_);
      for (auto& ticker : new_tickers_) tickers.push_back(std::move(ticker));
      new_tickers_.clear();
      stopping = stopping_;
      woken_ = false;
    }
    for (auto& task : tasks) task(*engine_);
    if (stopping) break;
    if (!engine_->Queries().empty()) {
      auto processed = engine_->RunOnce(engine_->RunOnceOnlyWaits() ? 0 : pass_ms);
      if (!processed.ok()) std::cerr << "engine: " << processed.status().ToString() << std::endl;
    }
    std::erase_if(tickers, [this](Ticker& ticker) { return !ticker(*engine_, false); });
  }
  for (auto& ticker : tickers) ticker(*engine_, true);
  Status committed = engine_->CommitAll();
  if (!committed.ok()) std::cerr << "engine: " << committed.ToString() << std::endl;
  engine_.reset();
}

void EngineWorker::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

}  // namespace sidestream::rest
