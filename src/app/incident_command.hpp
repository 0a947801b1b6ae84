#pragma once
// `portico incident ...`: operators declare, list and cancel planned incidents in the same store
// a running gateway reads (it notices within a second).

#include <ostream>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace portico::app {

// args: what follows "incident". Returns the process exit code.
int run_incident_command(const config::Config& config, const std::vector<std::string>& args, std::ostream& out,
                         std::ostream& err);

// Prints the OpenAPI document of everything Portico serves, without serving.
int print_openapi(const config::Config& config, std::ostream& out);

}  // namespace portico::app
