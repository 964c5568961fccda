#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sidestream::server {

/// `sidestream explain FILE.sql...`: runs every statement of the files, in order, through
/// the front end on one in-memory catalog (so later files see sources that earlier ones
/// declare) and prints each statement's plan. Returns the exit code: 0 when every
/// statement is valid, 1 after printing the first error.
int RunExplain(const std::vector<std::string>& paths, std::ostream& out, std::ostream& err);

}  // namespace sidestream::server
