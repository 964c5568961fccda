#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

/// Real store servers for tests and benchmarks (see README.md). Header-only: test binaries
/// include it directly.
namespace sidestream::testing {

/// A free TCP port on loopback (bound to port 0, then released).
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

inline bool PortAccepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

inline bool OnPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

/// A server process: killed (SIGKILL) and reaped when destroyed; its directory removed.
class ServerProcess {
 public:
  /// Starts `argv` in a fresh temporary directory, output to server.log there, and waits
  /// up to `timeout` for `port` to accept connections.
  static Result<std::unique_ptr<ServerProcess>> Start(std::vector<std::string> argv, int port,
                                                      std::chrono::milliseconds timeout) {
    char pattern[] = "/tmp/sidestream-server-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return Status::IOError("mkdtemp failed");
    std::unique_ptr<ServerProcess> server(new ServerProcess());
    server->directory_ = pattern;
    server->port_ = port;
    const pid_t pid = fork();
    if (pid < 0) return Status::IOError("fork failed");
    if (pid == 0) {
      if (chdir(pattern) != 0) _exit(126);
      int log = open("server.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, 1);
      dup2(log, 2);
      std::vector<char*> args;
      for (auto& arg : argv) args.push_back(arg.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    server->pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!PortAccepts(port)) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        server->pid_ = -1;
        return Status::Unavailable(argv[0] + " exited before it listened: " + server->Log());
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Unavailable(argv[0] + " did not listen on port " + std::to_string(port) +
                                   ": " + server->Log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return server;
  }

  ~ServerProcess() {
    Kill();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  /// Kills the server now (kill -9), as a crash would.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  const std::string& directory() const { return directory_; }
  std::string Log() const {
    std::string text;
    if (FILE* file = std::fopen((directory_ + "/server.log").c_str(), "r")) {
      char buffer[512];
      size_t read = std::fread(buffer, 1, sizeof(buffer) - 1, file);
      text.assign(buffer, read);
      std::fclose(file);
    }
    return text;
  }

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string directory_;
};

/// redis-server on a free port, no persistence. NotFound when redis-server is missing.
inline Result<std::unique_ptr<ServerProcess>> StartRedis() {
  if (!OnPath("redis-server")) return Status::NotFound("redis-server is not installed");
  const int port = FreePort();
  return ServerProcess::Start({"redis-server", "--port", std::to_string(port), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "no"},
                              port, std::chrono::seconds(10));
}

/// pouchdb-server (in memory) on a free port, installed into `install_dir` by
/// install_npm_package.sh when missing. NotFound naming the reason when it cannot be had.
inline Result<std::unique_ptr<ServerProcess>> StartPouchDb(const std::string& install_dir,
                                                           const std::string& install_script) {
  const std::string binary = install_dir + "/node_modules/pouchdb-server/bin/pouchdb-server";
  if (!std::filesystem::exists(binary)) {
    const int code = std::system(
        ("bash '" + install_script + "' '" + install_dir + "' pouchdb-server@4.2.0").c_str());
    if (code != 0 || !std::filesystem::exists(binary)) {
      return Status::NotFound("pouchdb-server could not be installed with npm into " + install_dir +
                              " (npm missing or registry unreachable)");
    }
  }
  const int port = FreePort();
  return ServerProcess::Start(
      {"node", binary, "--in-memory", "--host", "127.0.0.1", "--port", std::to_string(port)}, port,
      std::chrono::seconds(60));
}

}  // namespace sidestream::testing
