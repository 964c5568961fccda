#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

/// The REST API's HTTP layer: HTTP/1.1 and HTTP/2 (prior knowledge and Upgrade: h2c) on one
/// port, served by libh2o's event loop.
namespace sidestream::rest {

/// One request, with its body read in full.
struct HttpRequest {
  std::string method;
  std::string path;   // without the query string
  std::string query;  // after '?', empty when none
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  int version = 0x101;                         // 0x100, 0x101 or 0x200

  /// The header's value, empty when absent.
  std::string Header(const std::string& lower_name) const;
};

class HttpServer;

/// How a handler answers one request: at once (Respond) or as a stream (StartStream, Write,
/// Finish). Every method may be called from any thread; the work is handed to the server's
/// thread. Calls after the client went away, or after the response ended, do nothing.
/// Ownership: shared by the handler and whoever produces the response; it must not outlive
/// the HttpServer's Stop.
class Responder {
 public:
  Responder(HttpServer* server, uint64_t id) : server_(server), id_(id) {}

  void Respond(int status, std::string content_type, std::string body);
  void StartStream(int status, std::string content_type);
  /// Over HTTP/2 each chunk goes out as a DATA frame of its own (ksqlDB's clients read one row
  /// per frame); over HTTP/1.1 chunks written meanwhile are sent together.
  void Write(std::string chunk);
  void Finish();

  /// Called once, on the server's thread, when the exchange ends: the response was sent in
  /// full or the client went away (closed its connection or reset the stream). Set it before
  /// StartStream.
  void set_on_close(std::function<void()> on_close);
  /// Called once, on the answering thread, with the status of the first Respond or
  /// StartStream (for metrics). Set it before answering.
  void set_on_status(std::function<void(int status)> on_status);
  /// True once the exchange has ended.
  bool closed() const { return closed_; }
  /// Bytes written and not yet handed to the connection: what a slow client leaves queued
  /// here. A streaming producer bounds it (push queries: push.query.max.queued.bytes).
  int64_t unsent_bytes() const { return unsent_->load(std::memory_order_relaxed); }

  /// Internal, on the server's thread: the exchange ended; runs on_close once.
  void MarkClosed();
  /// Internal, on the server's thread: `bytes` written were handed to the connection.
  void MarkSent(int64_t bytes) { unsent_->fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  HttpServer* server_;
  uint64_t id_;
  std::atomic<bool> closed_{false};
  // Shared with the writes posted to the server's thread, which may outlive this.
  std::shared_ptr<std::atomic<int64_t>> unsent_ = std::make_shared<std::atomic<int64_t>>(0);
  std::mutex mutex_;
  std::function<void()> on_close_;
  std::function<void(int)> on_status_;  // under mutex_
  void ReportStatus(int status);
};

/// Serves HTTP with one event-loop thread. `handler` runs on that thread for every request
/// and must not block: long work goes to another thread, which answers through the
/// Responder.
/// Thread: Start and Stop from one thread; Post from any.
class HttpServer {
 public:
  using Handler = std::function<void(HttpRequest request, std::shared_ptr<Responder> responder)>;

  /// Listens on host:port (port 0: a free one, see port()). `max_body_bytes` bounds what
  /// the library buffers: it answers 413 itself past four times that, and the handler sees
  /// everything below (to reject with its own body). IOError when it cannot listen.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& host, int port,
                                                   int64_t max_body_bytes, Handler handler);
  ~HttpServer();

  int port() const { return port_; }
  /// Runs `task` on the server's thread; dropped once the server stops.
  void Post(std::function<void()> task);
  /// Stops accepting, ends the loop and joins its thread. Open exchanges are dropped.
  void Stop();

  /// Internal: the state of one exchange, and of the loop, on the server's thread.
  struct Exchange;
  struct Loop;

 private:
  friend class Responder;
  HttpServer() = default;
  void RunLoop();
  /// Runs the posted tasks; returns whether there were any.
  bool DrainTasks();

  std::unique_ptr<Loop> loop_;
  Handler handler_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex tasks_mutex_;
  std::deque<std::function<void()>> tasks_;
  bool accepting_tasks_ = true;  // under tasks_mutex_
  bool draining_ = false;        // the loop's thread only: DrainTasks runs a batch
};

}  // namespace sidestream::rest
