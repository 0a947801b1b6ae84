#pragma once
// A small asynchronous HTTP/1.1 client (http and https) for the calls Portico makes to other
// services: the OIDC provider's discovery and JWKS documents, later slurmrestd. One connection
// per request, no redirects, no pooling: these calls are rare or cheap enough that simplicity wins.
//
// Thread-safety: an HttpClient is immutable after construction. request() may be called
// concurrently from any number of coroutines on any threads; each call owns its connection.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace portico::net {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url{};                 // absolute http:// or https:// URL; no user:password@
  std::vector<HttpHeader> headers{};  // Host, Content-Length, Transfer-Encoding, Connection are the client's
  std::string body{};
  std::chrono::milliseconds timeout{30'000};          // the whole exchange: DNS, connect, TLS, write, read
  std::size_t max_response_bytes = 8 * 1024 * 1024;  // response body cap
};

struct HttpResponse {
  unsigned status = 0;
  std::vector<HttpHeader> headers;  // in the order received
  std::string body{};

  // The first header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const noexcept;
};

struct HttpClientOptions {
  // PEM file of CA certificates to trust for https instead of the system store (e.g. a site CA).
  std::string ca_file;
};

class HttpClient {
 public:
  // Throws core::Failure(internal) when ca_file cannot be loaded.
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();

  // Sends one request and reads the whole response, whatever its status.
  // Throws core::Failure:
  //   backend_unreachable  DNS failure, connection refused, TLS failure (including an untrusted
  //                        or mismatched certificate), timeout, malformed response;
  //   too_large            response body over request.max_response_bytes;
  //   internal             the request itself is invalid (URL, method, header name or value).
  // Messages name host:port, never the URL's path or query nor any header.
  // If the calling coroutine is cancelled, the connection is closed and the cancellation
  // propagates as boost::system::system_error(operation_aborted), not as a Failure.
  boost::asio::awaitable<HttpResponse> request(HttpRequest request) const;

 private:
  struct Tls;
  std::shared_ptr<Tls> tls_;
};

}  // namespace portico::net
