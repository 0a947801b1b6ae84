#pragma once
// HTTP types shared by the server and the API layers.

#include <boost/beast/http.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace portico::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using Status = bhttp::status;
using Verb = bhttp::verb;

// One backend command a request caused, for the audit line.
struct BackendCall {
  std::string what;  // "ssh:id", "slurmrestd:GET /ping", ...
  int exit_status = 0;
  std::chrono::microseconds duration{0};
};

// What travels with one request through the layers, and what the audit line is made of.
// Owned by the connection's coroutine; not shared between threads.
struct RequestContext {
  std::string request_id;  // the client's X-Request-ID when sane, else a fresh one
  std::string trace_id;    // from a W3C traceparent header, else empty
  std::string remote;      // peer address
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  // Filled by the API layer.
  std::string api;         // "firecrest", "iri"
  std::string route;       // the route template, e.g. "/status/{system}/userinfo"
  std::string user;
  std::string client_id;
  std::string system;
  std::vector<BackendCall> backend_calls;
};

}  // namespace portico::http
