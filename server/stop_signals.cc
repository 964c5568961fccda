#include "server/stop_signals.h"

#include <unistd.h>

#include <string>
#include <thread>

namespace sidestream::server {

namespace {
volatile std::sig_atomic_t stop_requested = 0;

void OnSignal(int) {
  if (stop_requested) {
    // Only async-signal-safe calls here.
    static constexpr char kMessage[] = "second stop signal: exiting at once, without committing\n";
    (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    _exit(130);
  }
  stop_requested = 1;
}
}  // namespace

const volatile std::sig_atomic_t& InstallStopSignals() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return stop_requested;
}

void ExitIfStillRunningAfter(std::chrono::milliseconds deadline) {
  std::thread([deadline] {
    std::this_thread::sleep_for(deadline);
    const std::string message = "stop did not finish within " + std::to_string(deadline.count()) +
                                " ms (shutdown.timeout.ms): exiting without it\n";
    (void)!write(STDERR_FILENO, message.data(), message.size());
    _exit(1);
  }).detach();
}

}  // namespace sidestream::server
