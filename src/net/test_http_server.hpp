#pragma once
// Test support only (included by unit tests, never by library code): a tiny HTTP or HTTPS server
// on 127.0.0.1 and an OS-chosen port, for hermetic tests of code that calls other services.
// Each connection serves one request, answered by the test's handler.
//
// Thread-safety: the server runs on its own thread and calls the handler there. set_handler(),
// requests(), port(), url() and stop() may be called from any thread.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace portico::net::testing {

class TestHttpServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  // Returning std::nullopt never answers: the connection stays open until the server stops.
  using Handler = std::function<std::optional<Response>(const Request&)>;

  // With a TLS context (server certificate loaded), serves https.
  explicit TestHttpServer(Handler handler, std::shared_ptr<boost::asio::ssl::context> tls = nullptr)
      : handler_(std::move(handler)), tls_(std::move(tls)) {
    using boost::asio::ip::tcp;
    acceptor_.emplace(*ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port_ = acceptor_->local_endpoint().port();
    boost::asio::co_spawn(*ioc_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { ioc_->run(); });
  }

  ~TestHttpServer() { stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  static Response response(unsigned status, std::string body, std::string content_type = "application/json") {
    Response res{static_cast<boost::beast::http::status>(status), 11};
    res.set(boost::beast::http::field::content_type, content_type);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::size_t requests() const { return requests_.load(); }
  void set_handler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  // Closes the listening socket (later connections are refused) and every open connection.
  void stop() {
    if (!ioc_) return;
    ioc_->stop();
    if (thread_.joinable()) thread_.join();
    acceptor_.reset();
    ioc_.reset();  // destroys the suspended sessions, closing their sockets
  }

 private:
  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_->async_accept(boost::asio::use_awaitable);
      boost::asio::co_spawn(*ioc_, session(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket) {
    try {
      if (tls_) {
        boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(std::move(socket), *tls_);
        co_await stream.async_handshake(boost::asio::ssl::stream_base::server, boost::asio::use_awaitable);
        co_await serve(stream);
      } else {
        co_await serve(socket);
      }
    } catch (const std::exception&) {
      // A client that gives up (timeout tests, failed TLS handshakes) is expected here.
    }
  }

  template <class Stream>
  boost::asio::awaitable<void> serve(Stream& stream) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    Request req;
    co_await http::async_read(stream, buffer, req, boost::asio::use_awaitable);
    ++requests_;
    Handler handler;
    {
      std::lock_guard lock(mutex_);
      handler = handler_;
    }
    auto res = handler(req);
    if (!res) {
      boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor,
                                        boost::asio::steady_timer::time_point::max());
      co_await forever.async_wait(boost::asio::use_awaitable);
      co_return;
    }
    res->keep_alive(false);
    co_await http::async_write(stream, *res, boost::asio::use_awaitable);
  }

  std::mutex mutex_;
  Handler handler_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<boost::asio::io_context> ioc_ = std::make_unique<boost::asio::io_context>();
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> requests_{0};
  std::thread thread_;
};

}  // namespace portico::net::testing
