#pragma once
// The HTTP/1.1 server: Boost.Beast on Asio with C++20 coroutines. Keep-alive and pipelining
// (requests on one connection are answered in order), TLS when configured, limits on header
// size, body size, request time and idle time, and graceful shutdown.
//
// Thread-safety: construct, start() and shutdown() from one thread; the handler runs on the
// io_context's threads, one coroutine per connection, so it must be thread-safe across
// connections.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "http/request_ids.hpp"
#include "http/types.hpp"

namespace portico::http {

struct ServerHooks {
  // Answers a request. Must not throw: API layers turn every failure into their own format.
  std::function<boost::asio::awaitable<Response>(Request&, RequestContext&)> handle;
  // Builds the reply for what the server refuses itself (malformed request, header or body
  // over the limit), in the API's error format.
  std::function<Response(Status, std::string message, RequestContext&)> reject;
  // Asked once the headers are in, before the body is read or anything else is done: a response
  // refuses the request (the per-address rate limit) and is sent instead of calling handle.
  std::function<std::optional<Response>(const Request& header, RequestContext&)> admit;
  // Whether the handler reads this request's body itself, as it arrives (RequestContext::body),
  // instead of the server reading it first within max_body_bytes. Asked once the headers are in.
  std::function<bool(const Request& header)> streams_body;
  // Called once per answered request, after the response is written (audit log, metrics).
  std::function<void(const Request*, const Response&, const RequestContext&)> done;
};

class Server {
 public:
  Server(boost::asio::io_context& ioc, const config::Server& config, ServerHooks hooks);
  ~Server();

  // Binds and starts accepting. Throws std::runtime_error when the address cannot be bound.
  void start();

  // Stops accepting, lets in-flight requests finish (their connections close after the
  // response), and calls done() when every connection has ended or the grace time is over.
  void shutdown(std::function<void()> done);

  unsigned short port() const;
  std::size_t open_connections() const { return state_->connections.load(); }

 private:
  struct State {
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> stopping{false};
  };

  boost::asio::awaitable<void> accept_loop();
  template <typename Stream>
  boost::asio::awaitable<void> serve(Stream& stream, RequestContext base);
  boost::asio::awaitable<void> connection(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  config::Server config_;
  ServerHooks hooks_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<boost::asio::ssl::context> tls_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace portico::http
