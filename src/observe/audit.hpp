#pragma once
// The audit log: one JSON line per request saying who did what, on whose token, with what
// result, and which backend commands it ran. Never a token, a secret or a key: the line is
// built from the RequestContext and a few request fields, never from headers wholesale.

#include <string>

#include "http/types.hpp"

namespace portico::observe {

// request may be null (a request the server refused before it was parsed).
std::string audit_line(const http::Request* request, const http::Response& response, const http::RequestContext& ctx,
                       std::chrono::system_clock::time_point now);

// Sets up the default logger and the "audit" logger per config (level, destination).
// Throws std::runtime_error when a log file cannot be opened.
void setup_logging(const std::string& level, const std::string& destination);

// Writes one audit line (to the "audit" logger).
void write_audit(const std::string& line);

}  // namespace portico::observe
