#pragma once
// Wires the configuration into running parts: logging, the token verifier and its key cache,
// SSH credentials, one Cluster per configured cluster, the APIs, metrics, and the HTTP server.

#include "config/config.hpp"

namespace portico::app {

// Serves until SIGTERM or SIGINT, then shuts down gracefully. Returns the process exit code.
int run_gateway(const config::Config& config);

}  // namespace portico::app
