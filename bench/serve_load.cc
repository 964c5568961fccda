// An open-loop HTTP/1.1 load generator for serve_bench.py: requests are due at a fixed rate
// (request i at start + i / rate) and each one's latency runs from when it was due to when its
// response ended, so a stalled server is charged for the requests queued behind it (no
// coordinated omission, unlike a closed-loop client such as wrk or h2load). Keep-alive
// connections, one request in flight on each (no pipelining), one thread on epoll.
//   serve_load PORT METHOD PATH RATE SECONDS CONNECTIONS [BODY_TEMPLATE [KEYS]]
// BODY_TEMPLATE's first "%d" is replaced by i % KEYS. Prints one JSON object: requests sent
// and answered, non-200 answers, the rate achieved, and latency percentiles in ms.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  int fd = -1;
  bool busy = false;
  Clock::time_point due;
  std::string out;
  size_t written = 0;
  std::string in;
};

// Whether `in` holds one whole response; sets `status`.
bool Complete(const std::string& in, int& status) {
  const size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  status = std::atoi(in.c_str() + 9);
  std::string head = in.substr(0, head_end);
  std::transform(head.begin(), head.end(), head.begin(), ::tolower);
  const size_t body = head_end + 4;
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    return in.size() >= body + 5 && in.compare(in.size() - 5, 5, "0\r\n\r\n") == 0;
  }
  const size_t length_at = head.find("content-length:");
  const size_t length =
      length_at == std::string::npos ? 0 : std::atol(head.c_str() + length_at + 15);
  return in.size() >= body + length;
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s PORT METHOD PATH RATE SECONDS CONNECTIONS [BODY [KEYS]]\n",
                 argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string method = argv[2], path = argv[3];
  const double rate = std::atof(argv[4]);
  const double seconds = std::atof(argv[5]);
  const int connections = std::atoi(argv[6]);
  const std::string body_template = argc > 7 ? argv[7] : "";
  const long keys = argc > 8 ? std::atol(argv[8]) : 1;
  const long total = static_cast<long>(rate * seconds);

  auto request = [&](long i) {
    std::string body = body_template;
    const size_t at = body.find("%d");
    if (at != std::string::npos) body.replace(at, 2, std::to_string(i % keys));
    std::string text = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!body.empty()) {
      text += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n";
    }
    return text + "\r\n" + body;
  };

  int epoll = epoll_create1(0);
  std::vector<Connection> pool(static_cast<size_t>(connections));
  for (size_t i = 0; i < pool.size(); ++i) {
    pool[i].fd = Connect(port);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    epoll_ctl(epoll, EPOLL_CTL_ADD, pool[i].fd, &event);
  }
  std::deque<size_t> idle;
  for (size_t i = 0; i < pool.size(); ++i) idle.push_back(i);
  std::deque<std::pair<long, Clock::time_point>> queued;  // due, no idle connection yet
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(total));
  long sent = 0, answered = 0, failures = 0;
  const auto start = Clock::now();
  const auto interval = std::chrono::duration<double>(1.0 / rate);

  auto send = [&](size_t index, long i, Clock::time_point due) {
    Connection& connection = pool[index];
    connection.busy = true;
    connection.due = due;
    connection.out = request(i);
    connection.written = 0;
    connection.in.clear();
    while (connection.written < connection.out.size()) {
      ssize_t n = write(connection.fd, connection.out.data() + connection.written,
                        connection.out.size() - connection.written);
      if (n <= 0) break;  // a small request fits the socket buffer; a full one waits
      connection.written += static_cast<size_t>(n);
    }
  };

  char buffer[65536];
  while (answered + failures < total) {
    const auto now = Clock::now();
    // Requests due by now go to idle connections, or wait in order.
    while (sent < total) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(interval * sent);
      if (due > now) break;
      queued.emplace_back(sent++, due);
    }
    while (!queued.empty() && !idle.empty()) {
      send(idle.front(), queued.front().first, queued.front().second);
      idle.pop_front();
      queued.pop_front();
    }
    int wait_ms = 1;
    if (sent < total && queued.empty()) {
      const auto next = start + std::chrono::duration_cast<Clock::duration>(interval * sent);
      wait_ms = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count()));
    }
    epoll_event events[64];
    const int ready = epoll_wait(epoll, events, 64, std::min(wait_ms, 1));
    for (int e = 0; e < ready; ++e) {
      const size_t index = events[e].data.u64;
      Connection& connection = pool[index];
      for (;;) {
        ssize_t n = read(connection.fd, buffer, sizeof(buffer));
        if (n <= 0) break;
        connection.in.append(buffer, static_cast<size_t>(n));
      }
      int status = 0;
      if (connection.busy && Complete(connection.in, status)) {
        latencies.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - connection.due).count());
        (status == 200 ? answered : failures) += 1;
        connection.busy = false;
        idle.push_back(index);
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()))];
  };
  std::printf(
      "{\"requests\": %ld, \"answered\": %ld, \"failures\": %ld, \"rate\": %.1f, "
      "\"target_rate\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
      "\"p999_ms\": %.3f, \"max_ms\": %.3f}\n",
      total, answered, failures, (answered + failures) / elapsed, rate, at(0.5), at(0.9), at(0.99),
      at(0.999), latencies.empty() ? 0.0 : latencies.back());
  return 0;
}
