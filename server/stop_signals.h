#pragma once

#include <chrono>
#include <csignal>

namespace sidestream::server {

/// Installs SIGINT/SIGTERM handlers for run, serve and demo. The first signal sets the returned
/// flag: the command stops cleanly (commits, closes its stores, leaves its groups). A second
/// one exits at once (code 130) with a message, for a stop that takes too long.
const volatile std::sig_atomic_t& InstallStopSignals();

/// Exits the process (code 1, with a message naming `deadline`) if it still runs `deadline`
/// from now. A clean stop that hangs (a broker gone) then ends before Kubernetes' grace
/// period does, rather than by a silent SIGKILL.
void ExitIfStillRunningAfter(std::chrono::milliseconds deadline);

}  // namespace sidestream::server
