#pragma once
// HTTP types shared by the server and the API layers.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
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

// The body of a request whose route streams it (an upload), read by the handler as it arrives
// instead of being buffered by the server first. The server only chooses this for routes that
// ask for it (ServerHooks::streams_body); everything else still gets its body in Request.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to buffer.size() bytes of the body (chunked encoding already removed); returns 0 at
  // its end. Sends "100 Continue" first when the client asked for it, so a refusal decided before
  // the first read costs the client no upload. Each read may wait up to the idle timeout.
  // Throws core::Failure(bad_request) when the client goes away or sends a malformed body,
  // core::Failure(timeout) when it stalls.
  virtual boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer) = 0;
  // The body's declared length (Content-Length), when there is one.
  virtual std::optional<std::uint64_t> content_length() const = 0;
  virtual bool finished() const = 0;
};

// A response whose body the handler writes while it is produced (a download): begin() sends the
// status line and headers, write() sends the next piece once the client has taken the previous
// one, so a slow client slows the producer and memory stays flat. With a Content-Length header
// the body must be exactly that long; without one it is sent chunked. When the handler returns,
// the handler calls finish(); a body not finished (an exception after begin(), a length short of
// Content-Length) is cut by closing the connection, the only way HTTP/1.1 can tell the client.
// The handler's returned Response is then only used for the audit line.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual boost::asio::awaitable<void> begin(bhttp::response_header<> header) = 0;
  // Throws core::Failure(bad_request) when the client has gone away or stopped reading for the
  // request timeout.
  virtual boost::asio::awaitable<void> write(boost::asio::const_buffer data) = 0;
  virtual boost::asio::awaitable<void> finish() = 0;
  virtual bool begun() const = 0;
};

// What travels with one request through the layers, and what the audit line is made of.
// Owned by the connection's coroutine; not shared between threads.
struct RequestContext {
  std::string request_id;  // the client's X-Request-ID when sane, else a fresh one
  std::string trace_id;    // from a W3C traceparent header, else empty
  std::string remote;      // peer address
  std::string target;      // the request target, once its headers are read (for refusals)
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  // Filled by the API layer.
  std::string api;         // "firecrest", "iri"
  std::string route;       // the route template, e.g. "/status/{system}/userinfo"
  std::string user;
  std::string client_id;
  std::string system;
  std::vector<BackendCall> backend_calls;
  // Set by the server for every request; used by streaming handlers only.
  BodyReader* body = nullptr;        // non-null only for routes that stream their request body
  ResponseWriter* writer = nullptr;
  std::uint64_t streamed_bytes = 0;  // body bytes sent through writer, or read through body
};

}  // namespace portico::http
