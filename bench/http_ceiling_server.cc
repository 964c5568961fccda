// The ceiling of serve_bench.py's GET /healthcheck rate: libh2o's event loop on one thread, as
// `sidestream serve` runs it (server/rest/http_server.cc), answering every request at once, on
// that thread, with the bytes serve's /healthcheck answers. No routing, no JSON, no task queue.
//   http_ceiling_server PORT   (0: a free port; prints "listening on http://127.0.0.1:PORT")
#include <arpa/inet.h>
#include <h2o.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

const char kBody[] =
    "{\"isHealthy\":true,\"details\":{\"metastore\":{\"isHealthy\":true},\"kafka\":{"
    "\"isHealthy\":true},\"commandRunner\":{\"isHealthy\":true}},\"serverState\":\"READY\"}";

h2o_globalconf_t config;
h2o_context_t context;
h2o_accept_ctx_t accept_context;

int OnRequest(h2o_handler_t*, h2o_req_t* req) {
  req->res.status = 200;
  req->res.reason = "OK";
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, nullptr,
                 H2O_STRLIT("application/json"));
  h2o_send_inline(req, kBody, sizeof(kBody) - 1);
  return 0;
}

void OnAccept(h2o_socket_t* listener, const char* error) {
  if (error != nullptr) return;
  h2o_socket_t* socket = h2o_evloop_socket_accept(listener);
  if (socket != nullptr) h2o_accept(&accept_context, socket);
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int reuse = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)) != 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, SOMAXCONN) != 0) {
    std::perror("listen");
    return 1;
  }
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  h2o_config_init(&config);
  h2o_hostconf_t* host =
      h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t* path = h2o_config_register_path(host, "/", 0);
  h2o_handler_t* handler = h2o_create_handler(path, sizeof(h2o_handler_t));
  handler->on_req = OnRequest;
  h2o_context_init(&context, h2o_evloop_create(), &config);
  accept_context.ctx = &context;
  accept_context.hosts = config.hosts;
  h2o_socket_t* listener = h2o_evloop_socket_create(context.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
  h2o_socket_read_start(listener, OnAccept);
  std::printf("listening on http://127.0.0.1:%d\n", ntohs(address.sin_port));
  std::fflush(stdout);
  while (h2o_evloop_run(context.loop, INT32_MAX) == 0) {
  }
  return 0;
}
