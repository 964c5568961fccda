#include "server/rest/http_server.h"

#include <arpa/inet.h>
#include <h2o.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

namespace sidestream::rest {

// State of one request, kept on the server's thread from the request's arrival until h2o
// disposes of it.
struct HttpServer::Exchange {
  h2o_req_t* req = nullptr;  // null once h2o disposed of it, or the client went away
  std::shared_ptr<Responder> responder;
  bool started = false;    // a response (whole or streamed) has begun
  bool in_flight = false;  // h2o holds `sending` and will call proceed
  bool finishing = false;  // Finish was called: the next send is the final one
  bool final_sent = false;
  // Over HTTP/2 each Write goes out as a DATA frame of its own, as ksqlDB's server sends each
  // row: its clients (npm ksqldb-client, ksql-python-ng) parse one row per frame. h2o fills a
  // frame with everything one send hands it, so each chunk is a send of its own.
  bool frame_per_write = false;
  std::deque<std::string> pending;  // written, not yet handed to h2o (HTTP/1: one chunk)
  std::string sending;              // handed to h2o
};

struct HttpServer::Loop {
  HttpServer* server = nullptr;
  HttpServer::Handler handler;
  h2o_globalconf_t config;
  h2o_context_t context;
  h2o_accept_ctx_t accept;
  h2o_socket_t* listener = nullptr;
  h2o_multithread_queue_t* queue = nullptr;
  h2o_multithread_receiver_t wakeup;
  std::map<uint64_t, std::unique_ptr<Exchange>> exchanges;
  uint64_t next_id = 1;
};

namespace {

// How often streamed HTTP/1 responses check that their clients are still there.
constexpr std::chrono::milliseconds kPeerCheckInterval{1000};

struct HandlerSlot {
  h2o_handler_t super;
  HttpServer::Loop* loop;
};

// Lives in the request's memory pool; h2o calls OnDispose when it frees the request.
struct ExchangeSlot {
  h2o_generator_t generator;  // first: h2o passes the generator back to us
  HttpServer::Loop* loop;
  uint64_t id;
};

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return status < 400 ? "OK" : "Error";
  }
}

}  // namespace

std::string HttpRequest::Header(const std::string& lower_name) const {
  auto found = headers.find(lower_name);
  return found == headers.end() ? std::string() : found->second;
}

void Responder::MarkClosed() {
  std::function<void()> on_close;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    on_close = std::move(on_close_);
  }
  if (on_close) on_close();
}

namespace {

// The exchange ends: tell its producer, once.
void CloseExchange(HttpServer::Exchange& exchange) {
  if (exchange.responder) exchange.responder->MarkClosed();
}

HttpServer::Exchange* FindExchange(HttpServer::Loop* loop, uint64_t id) {
  auto found = loop->exchanges.find(id);
  if (found == loop->exchanges.end() || found->second->req == nullptr) return nullptr;
  return found->second.get();
}

void Flush(HttpServer::Exchange& exchange) {
  if (exchange.in_flight || exchange.final_sent || exchange.req == nullptr) return;
  if (exchange.pending.empty() && !exchange.finishing) return;
  exchange.sending.clear();
  if (!exchange.pending.empty()) {
    exchange.sending = std::move(exchange.pending.front());
    exchange.pending.pop_front();
    if (exchange.responder)
      exchange.responder->MarkSent(static_cast<int64_t>(exchange.sending.size()));
  }
  const bool final = exchange.finishing && exchange.pending.empty();
  exchange.in_flight = true;
  exchange.final_sent = final;
  h2o_iovec_t buffer = h2o_iovec_init(exchange.sending.data(), exchange.sending.size());
  h2o_send(exchange.req, &buffer, 1, final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

void OnProceed(h2o_generator_t* generator, h2o_req_t*) {
  auto* slot = reinterpret_cast<ExchangeSlot*>(generator);
  HttpServer::Exchange* exchange = FindExchange(slot->loop, slot->id);
  if (exchange == nullptr) return;
  exchange->in_flight = false;
  Flush(*exchange);
}

void OnStop(h2o_generator_t* generator, h2o_req_t*) {
  auto* slot = reinterpret_cast<ExchangeSlot*>(generator);
  HttpServer::Exchange* exchange = FindExchange(slot->loop, slot->id);
  if (exchange == nullptr) return;
  exchange->req = nullptr;  // h2o calls nothing of ours for it any more
  CloseExchange(*exchange);
}

void OnDispose(void* object) {
  auto* slot = static_cast<ExchangeSlot*>(object);
  auto found = slot->loop->exchanges.find(slot->id);
  if (found == slot->loop->exchanges.end()) return;
  found->second->req = nullptr;
  CloseExchange(*found->second);
  slot->loop->exchanges.erase(found);
}

void SetHead(h2o_req_t* req, int status, const std::string& content_type) {
  req->res.status = status;
  req->res.reason = Reason(status);
  h2o_iovec_t type = h2o_strdup(&req->pool, content_type.data(), content_type.size());
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, nullptr, type.base,
                 type.len);
}

int OnRequest(h2o_handler_t* self, h2o_req_t* req) {
  HttpServer::Loop* loop = reinterpret_cast<HandlerSlot*>(self)->loop;
  uint64_t id = loop->next_id++;
  auto* slot =
      static_cast<ExchangeSlot*>(h2o_mem_alloc_shared(&req->pool, sizeof(ExchangeSlot), OnDispose));
  slot->generator = {OnProceed, OnStop};
  slot->loop = loop;
  slot->id = id;
  auto exchange = std::make_unique<HttpServer::Exchange>();
  exchange->req = req;
  exchange->frame_per_write = req->version >= 0x200;
  exchange->responder = std::make_shared<Responder>(loop->server, id);
  std::shared_ptr<Responder> responder = exchange->responder;
  loop->exchanges[id] = std::move(exchange);

  HttpRequest request;
  request.method.assign(req->method.base, req->method.len);
  request.version = req->version;
  if (req->query_at != SIZE_MAX) {
    request.path.assign(req->path.base, req->query_at);
    request.query.assign(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
  } else {
    request.path.assign(req->path.base, req->path.len);
  }
  for (size_t i = 0; i < req->headers.size; ++i) {
    const h2o_header_t& header = req->headers.entries[i];
    std::string name(header.name->base, header.name->len);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers[name].assign(header.value.base, header.value.len);
  }
  request.body.assign(req->entity.base ? req->entity.base : "", req->entity.len);
  loop->handler(std::move(request), std::move(responder));
  return 0;
}

void OnAccept(h2o_socket_t* listener, const char* error) {
  if (error != nullptr) return;
  auto* loop = static_cast<HttpServer::Loop*>(listener->data);
  h2o_socket_t* socket = h2o_evloop_socket_accept(listener);
  if (socket == nullptr) return;
  h2o_accept(&loop->accept, socket);
}

void OnWakeup(h2o_multithread_receiver_t*, h2o_linklist_t*) {}

// Whether the client of an HTTP/1.x exchange has closed its side of the connection. h2o
// reads nothing from an HTTP/1 connection while it sends a response, so a streamed response
// that writes nothing (an idle push query) would never learn that its client left; a peek at
// the socket does, without writing anything to the stream (ksqlDB's server writes empty
// lines for that on /query).
bool PeerClosed(h2o_req_t* req) {
  if (req->version >= 0x200 || req->conn->callbacks->get_socket == nullptr) return false;
  h2o_socket_t* socket = req->conn->callbacks->get_socket(req->conn);
  if (socket == nullptr) return false;
  char byte;
  const ssize_t peeked = recv(h2o_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// Ends the streamed HTTP/1 exchanges whose clients left: their producers stop (on_close), and
// the response's last chunk lets h2o find the connection closed and free it.
void EndAbandonedStreams(HttpServer::Loop& loop) {
  for (auto& [id, exchange] : loop.exchanges) {
    if (exchange->req == nullptr || !exchange->started || exchange->final_sent ||
        exchange->finishing || !PeerClosed(exchange->req)) {
      continue;
    }
    CloseExchange(*exchange);
    exchange->pending.clear();
    exchange->finishing = true;
    Flush(*exchange);
  }
}

}  // namespace

void Responder::Respond(int status, std::string content_type, std::string body) {
  ReportStatus(status);
  HttpServer::Loop* loop = server_->loop_.get();
  uint64_t id = id_;
  server_->Post(
      [loop, id, status, content_type = std::move(content_type), body = std::move(body)]() mutable {
        HttpServer::Exchange* exchange = FindExchange(loop, id);
        if (exchange == nullptr || exchange->started) return;
        exchange->started = true;
        h2o_req_t* req = exchange->req;
        SetHead(req, status, content_type);
        req->res.content_length = body.size();
        exchange->finishing = true;
        static h2o_generator_t whole = {nullptr, nullptr};
        h2o_start_response(req, &whole);
        // A whole response is sent at once: h2o calls no proceed for a final send.
        exchange->sending = std::move(body);
        // h2o 2.2 sends a HEAD response's body as DATA frames over HTTP/2, which clients reject
        // as a protocol error: the body stays out, its length in the header.
        if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
          exchange->sending.clear();
        }
        exchange->final_sent = true;
        exchange->in_flight = true;
        h2o_iovec_t buffer = h2o_iovec_init(exchange->sending.data(), exchange->sending.size());
        h2o_send(req, &buffer, 1, H2O_SEND_STATE_FINAL);
      });
}

void Responder::StartStream(int status, std::string content_type) {
  ReportStatus(status);
  HttpServer::Loop* loop = server_->loop_.get();
  uint64_t id = id_;
  server_->Post([loop, id, status, content_type = std::move(content_type)] {
    HttpServer::Exchange* exchange = FindExchange(loop, id);
    if (exchange == nullptr || exchange->started) return;
    exchange->started = true;
    h2o_req_t* req = exchange->req;
    SetHead(req, status, content_type);
    // A generator in the request's pool carries the id to proceed and stop.
    auto* slot = static_cast<ExchangeSlot*>(h2o_mem_alloc_pool(&req->pool, sizeof(ExchangeSlot)));
    slot->generator = {OnProceed, OnStop};
    slot->loop = loop;
    slot->id = id;
    h2o_start_response(req, &slot->generator);
    Flush(*exchange);
  });
}

void Responder::Write(std::string chunk) {
  HttpServer::Loop* loop = server_->loop_.get();
  uint64_t id = id_;
  const auto size = static_cast<int64_t>(chunk.size());
  unsent_->fetch_add(size, std::memory_order_relaxed);
  server_->Post([loop, id, chunk = std::move(chunk), unsent = unsent_, size]() mutable {
    HttpServer::Exchange* exchange = FindExchange(loop, id);
    if (exchange == nullptr || exchange->finishing || chunk.empty()) {
      unsent->fetch_sub(size, std::memory_order_relaxed);
      return;
    }
    if (exchange->frame_per_write || exchange->pending.empty()) {
      exchange->pending.push_back(std::move(chunk));
    } else {
      exchange->pending.back() += chunk;
    }
    if (exchange->started) Flush(*exchange);
  });
}

void Responder::Finish() {
  HttpServer::Loop* loop = server_->loop_.get();
  uint64_t id = id_;
  server_->Post([loop, id] {
    HttpServer::Exchange* exchange = FindExchange(loop, id);
    if (exchange == nullptr) return;
    exchange->finishing = true;
    if (exchange->started) Flush(*exchange);
  });
}

void Responder::set_on_close(std::function<void()> on_close) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!closed_) on_close_ = std::move(on_close);
}

void Responder::set_on_status(std::function<void(int status)> on_status) {
  std::lock_guard<std::mutex> lock(mutex_);
  on_status_ = std::move(on_status);
}

void Responder::ReportStatus(int status) {
  std::function<void(int)> on_status;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    on_status.swap(on_status_);
  }
  if (on_status) on_status(status);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, int port,
                                                      int64_t max_body_bytes, Handler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->handler_ = std::move(handler);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return Status::InvalidArgument("host '" + host + "' is not an IPv4 address");
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int reuse = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)) != 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, SOMAXCONN) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    return Status::IOError("cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  }
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  server->port_ = ntohs(address.sin_port);

  auto loop = std::make_unique<Loop>();
  loop->server = server.get();
  loop->handler = server->handler_;
  h2o_config_init(&loop->config);
  // Four times the setting: the handler sees bodies up to there and rejects what is over the
  // setting in ksqlDB's error shape; h2o answers 413 itself past that.
  loop->config.max_request_entity_size = static_cast<size_t>(max_body_bytes) * 4;
  h2o_hostconf_t* host_config =
      h2o_config_register_host(&loop->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t* path_config = h2o_config_register_path(host_config, "/", 0);
  auto* slot = reinterpret_cast<HandlerSlot*>(h2o_create_handler(path_config, sizeof(HandlerSlot)));
  slot->super.on_req = OnRequest;
  slot->loop = loop.get();
  h2o_context_init(&loop->context, h2o_evloop_create(), &loop->config);
  loop->accept.ctx = &loop->context;
  loop->accept.hosts = loop->config.hosts;
  loop->queue = h2o_multithread_create_queue(loop->context.loop);
  h2o_multithread_register_receiver(loop->queue, &loop->wakeup, OnWakeup);
  loop->listener = h2o_evloop_socket_create(loop->context.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
  loop->listener->data = loop.get();
  h2o_socket_read_start(loop->listener, OnAccept);
  server->loop_ = std::move(loop);
  server->thread_ = std::thread([raw = server.get()] { raw->RunLoop(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

namespace {
// The server whose loop runs on this thread, if any.
thread_local HttpServer* loop_owner = nullptr;
}  // namespace

void HttpServer::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    if (!accepting_tasks_) return;
    // On the loop's own thread (a handler answering at once, as /healthcheck does) with
    // nothing queued before it, the task runs now: no wake-up message through the loop's
    // pipe, no extra turn of the loop.
    if (loop_owner != this || draining_ || !tasks_.empty()) {
      tasks_.push_back(std::move(task));
      task = nullptr;
    }
  }
  if (task) return task();
  h2o_multithread_send_message(&loop_->wakeup, nullptr);
}

bool HttpServer::DrainTasks() {
  std::deque<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    tasks.swap(tasks_);
  }
  draining_ = true;  // tasks posted meanwhile go after the rest of this batch
  for (auto& task : tasks) task();
  draining_ = false;
  return !tasks.empty();
}

void HttpServer::RunLoop() {
  loop_owner = this;
  bool ran_tasks = false;
  auto next_peer_check = std::chrono::steady_clock::now();
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_peer_check) {
      EndAbandonedStreams(*loop_);
      next_peer_check = now + kPeerCheckInterval;
    }
    // A task that answered a request leaves h2o work for the loop's next turn (the write of
    // the response, the next request read from a kept-alive connection): that turn must not
    // wait. Without it a second request on one HTTP/1.1 connection, answered from another
    // thread, waited the full second.
    h2o_evloop_run(loop_->context.loop, ran_tasks ? 0 : 1000);
    ran_tasks = DrainTasks();
  }
  DrainTasks();
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    accepting_tasks_ = false;
  }
  stopping_ = true;
  h2o_multithread_send_message(&loop_->wakeup, nullptr);
  thread_.join();
  // The loop, its connections and their pools are left for the process's exit: h2o 2.2 has no
  // way to close the connections still open, and disposing of the context under them crashes.
  h2o_socket_close(loop_->listener);
  for (auto& [id, exchange] : loop_->exchanges) CloseExchange(*exchange);
  (void)loop_.release();
}

}  // namespace sidestream::rest
