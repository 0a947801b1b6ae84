#include "http/server.hpp"

#include "core/ascii.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "core/error.hpp"

namespace portico::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

using core::ErrorKind;
using core::Failure;

// A deadline for reading a request's body that, unlike the stream's own timeout (which closes the
// socket), only cancels the read when it passes: the server can still answer 408. Lives on the
// connection's strand, as the reads it guards; a read that completed as it passed has nothing to
// cancel, so callers check expired() after each read.
class ReadDeadline {
 public:
  template <typename Stream>
  ReadDeadline(Stream& stream, std::chrono::steady_clock::duration after)
      : state_(std::make_shared<State>()), timer_(stream.get_executor()) {
    auto& socket = beast::get_lowest_layer(stream);
    socket.expires_never();
    timer_.expires_after(after);
    timer_.async_wait([state = state_, &socket](boost::system::error_code ec) {
      if (ec || state->over) return;
      state->expired = true;
      socket.cancel();
    });
  }
  ~ReadDeadline() {
    state_->over = true;
    timer_.cancel();
  }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;
  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool over = false;  // the read is done: a timer that fired meanwhile must not cancel what follows
    bool expired = false;
  };
  std::shared_ptr<State> state_;
  asio::steady_timer timer_;
};

// A request body read by the handler as it arrives: Beast's parser with a buffer_body, filled
// straight into the handler's buffer.
template <typename Stream>
class StreamedBody final : public BodyReader {
 public:
  StreamedBody(Stream& stream, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::string_body>&& header,
               const config::Limits& limits, RequestContext& ctx)
      : stream_(stream), buffer_(buffer), parser_(std::move(header)), limits_(limits), ctx_(ctx) {
    parser_.body_limit(boost::none);  // the handler enforces its own limit on what it keeps
    // Beast reads at most what the buffer's capacity holds without growing it, which after a
    // request header is about a kilobyte: room for 64 KiB reads saves hundreds of thousands of
    // system calls per gigabyte.
    buffer_.reserve(128 * 1024);
    auto expect = parser_.get().find(bhttp::field::expect);
    expect_continue_ = expect != parser_.get().end() && core::iequals(expect->value(), "100-continue");
  }

  Request header() const {
    Request request;
    request.base() = parser_.get().base();
    return request;
  }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer out) override {
    if (out.size() == 0 || parser_.is_done()) co_return 0;
    if (failed_) throw Failure(ErrorKind::bad_request, "the request body was not received completely");
    auto& lowest = beast::get_lowest_layer(stream_);
    if (expect_continue_) {
      expect_continue_ = false;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      lowest.expires_after(limits_.idle_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kContinue), use_tuple);
      if (ec) fail(ec);
    }
    for (;;) {
      parser_.get().body().data = out.data();
      parser_.get().body().size = out.size();
      // A client that stalls for the idle timeout is cut off, and so is one trickling its body
      // slower than min_upload_rate: counted over the time spent waiting on it, not the time the
      // handler spends passing the bytes on (a slow cluster is not the client's fault).
      const auto allowance = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          limits_.idle_timeout + std::chrono::duration<double>(static_cast<double>(ctx_.streamed_bytes) /
                                                                static_cast<double>(limits_.min_upload_rate)));
      if (waited_ >= allowance) fail(beast::error::timeout);
      const auto began = std::chrono::steady_clock::now();
      ReadDeadline deadline(stream_, std::min<std::chrono::steady_clock::duration>(limits_.idle_timeout, allowance - waited_));
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, use_tuple);
      if (deadline.expired()) ec = beast::error::timeout;
      waited_ += std::chrono::steady_clock::now() - began;
      const auto got = out.size() - parser_.get().body().size;
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec && !(ec == bhttp::error::end_of_stream && parser_.is_done())) fail(ec);
      if (got > 0 || parser_.is_done()) {
        ctx_.streamed_bytes += got;
        co_return got;
      }
    }
  }

  std::optional<std::uint64_t> content_length() const override {
    auto n = parser_.content_length();
    return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
  }
  bool finished() const override { return parser_.is_done(); }

  // After a response that did not take the whole body: read and drop what the client still sends
  // (up to a bound) so that it sees the response instead of a reset connection.
  asio::awaitable<void> linger() {
    if (failed_ || parser_.is_done()) co_return;
    std::vector<char> scratch(64 * 1024);
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_after(std::chrono::seconds(5));
    std::uint64_t dropped = 0;
    while (!parser_.is_done() && dropped < kLingerBytes) {
      parser_.get().body().data = scratch.data();
      parser_.get().body().size = scratch.size();
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, use_tuple);
      if (ec && ec != bhttp::error::need_buffer) co_return;
      dropped += scratch.size() - parser_.get().body().size;
    }
  }

 private:
  static constexpr std::uint64_t kLingerBytes = 64ull * 1024 * 1024;

  [[noreturn]] void fail(boost::system::error_code ec) {
    failed_ = true;
    if (ec == beast::error::timeout)
      throw Failure(ErrorKind::timeout, "the request body stalled, or arrived slower than the server accepts");
    throw Failure(ErrorKind::bad_request, "the request body was not received completely: " + ec.message());
  }

  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body> parser_;
  const config::Limits& limits_;
  RequestContext& ctx_;
  bool expect_continue_ = false;
  bool failed_ = false;
  std::chrono::steady_clock::duration waited_{0};  // spent in reads, waiting on the client
};

// A response body written by the handler as it is produced.
template <typename Stream>
class StreamedResponse final : public ResponseWriter {
 public:
  StreamedResponse(Stream& stream, const config::Limits& limits, RequestContext& ctx, bool keep_alive)
      : stream_(stream), limits_(limits), ctx_(ctx), keep_alive_(keep_alive) {}

  asio::awaitable<void> begin(bhttp::response_header<> header) override {
    if (sr_) throw std::logic_error("ResponseWriter::begin called twice");
    response_.base() = std::move(header);
    response_.set("X-Request-ID", ctx_.request_id);
    response_.keep_alive(keep_alive_);
    if (auto length = response_.find(bhttp::field::content_length); length != response_.end()) {
      expected_ = std::stoull(std::string(length->value()));
    } else if (response_.version() >= 11) {
      response_.chunked(true);
    } else {
      response_.keep_alive(false);  // HTTP/1.0 without a length: the end of the body is the close
    }
    sr_.emplace(response_);
    beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);
    auto [ec, n] = co_await bhttp::async_write_header(stream_, *sr_, use_tuple);
    if (ec) fail(ec);
  }

  asio::awaitable<void> write(asio::const_buffer data) override {
    if (!sr_) throw std::logic_error("ResponseWriter::write before begin");
    if (failed_) throw Failure(ErrorKind::bad_request, "the client is gone");
    if (data.size() == 0) co_return;
    if (expected_ && sent_ + data.size() > *expected_) throw std::logic_error("ResponseWriter: body longer than Content-Length");
    response_.body().data = const_cast<void*>(data.data());
    response_.body().size = data.size();
    response_.body().more = true;
    beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);  // a client that stops reading is cut off
    auto [ec, n] = co_await bhttp::async_write(stream_, *sr_, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) fail(ec);
    sent_ += data.size();
    ctx_.streamed_bytes = sent_;
  }

  asio::awaitable<void> finish() override {
    if (!sr_ || failed_ || finished_) co_return;
    if (expected_ && sent_ != *expected_) co_return;  // cut short: the connection will be closed
    response_.body().data = nullptr;
    response_.body().size = 0;
    response_.body().more = false;
    beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, *sr_, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) fail(ec);
    finished_ = true;
  }

  bool begun() const override { return sr_.has_value(); }
  bool complete() const { return finished_; }
  bool keeps_alive() const { return finished_ && response_.keep_alive(); }
  Response header() const {
    Response r;
    r.base() = response_.base();
    return r;
  }

 private:
  [[noreturn]] void fail(boost::system::error_code ec) {
    failed_ = true;
    throw Failure(ErrorKind::bad_request, "the client stopped receiving the response: " + ec.message());
  }

  Stream& stream_;
  const config::Limits& limits_;
  RequestContext& ctx_;
  bool keep_alive_;
  bhttp::response<bhttp::buffer_body> response_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> sr_;
  std::optional<std::uint64_t> expected_;
  std::uint64_t sent_ = 0;
  bool failed_ = false;
  bool finished_ = false;
};

}  // namespace

Server::Server(asio::io_context& ioc, const config::Server& config, ServerHooks hooks)
    : ioc_(ioc), config_(config), hooks_(std::move(hooks)), acceptor_(ioc) {
  if (config_.tls) {
    tls_.emplace(asio::ssl::context::tls_server);
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    tls_->use_certificate_chain_file(config_.tls->cert_file);
    tls_->use_private_key_file(config_.tls->key_file, asio::ssl::context::pem);
  }
}

Server::~Server() = default;

void Server::start() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config_.host == "localhost" ? "127.0.0.1" : config_.host, ec);
  if (ec) throw std::runtime_error("server.host: not an IP address: " + config_.host);
  tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint, ec);
  if (ec) throw std::runtime_error("cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

unsigned short Server::port() const { return acceptor_.local_endpoint().port(); }

asio::awaitable<void> Server::accept_loop() {
  while (!state_->stopping) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || state_->stopping) break;
      // EMFILE and friends: back off instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(use_tuple);
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, connection(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::connection(tcp::socket socket) {
  auto state = state_;
  state->connections++;
  struct Leave {
    State* s;
    ~Leave() { s->connections--; }
  } leave{state.get()};

  RequestContext base;
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (!ec) base.remote = peer.address().to_string() + ":" + std::to_string(peer.port());
  socket.set_option(tcp::no_delay(true), ec);

  try {
    if (tls_) {
      beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls_);
      beast::get_lowest_layer(stream).expires_after(config_.limits.request_timeout);
      auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
      if (hs) co_return;
      co_await serve(stream, base);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
      co_await stream.async_shutdown(use_tuple);
    } else {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(stream, base);
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  } catch (const std::exception& e) {
    spdlog::debug("connection {} ended: {}", base.remote, e.what());
  }
}

template <typename Stream>
asio::awaitable<void> Server::serve(Stream& stream, RequestContext base) {
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    RequestContext ctx = base;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config_.limits.max_header_bytes));
    // The body limit is applied once the headers tell whether the handler streams the body.
    parser.body_limit(boost::none);

    // A client gets idle_timeout to start and finish its headers, then request_timeout for the
    // body: a client trickling bytes is cut off, and never holds a thread while it trickles.
    lowest.expires_after(config_.limits.idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    ctx.start = std::chrono::steady_clock::now();  // a request's latency starts with its headers, not the connection
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      co_return;
    }
    std::optional<Response> refused;
    if (!ec) {
      const auto& header = parser.get();
      ctx.target = std::string(header.target().substr(0, 2048));
      if (auto it = header.find("X-Request-ID"); it != header.end()) ctx.request_id = sane_request_id(it->value());
      if (auto it = header.find("traceparent"); it != header.end()) ctx.trace_id = trace_id_from_traceparent(it->value());
      if (hooks_.admit) refused = hooks_.admit(header, ctx);
    }
    if (ctx.request_id.empty()) ctx.request_id = new_request_id();
    const auto too_large = [&] {
      return hooks_.reject(Status::payload_too_large,
                           "request body exceeds " + std::to_string(config_.limits.max_body_bytes) + " bytes", ctx);
    };
    // Asked only of requests that have a body: the hook routes the request, which the handler
    // does again.
    const bool streamed = !ec && !refused && !parser.is_done() && hooks_.streams_body && hooks_.streams_body(parser.get());
    if (refused) {
      // admitted no further
    } else if (ec == bhttp::error::header_limit) {
      refused = hooks_.reject(Status::request_header_fields_too_large,
                              "request headers exceed " + std::to_string(config_.limits.max_header_bytes) + " bytes", ctx);
    } else if (ec) {
      refused = hooks_.reject(Status::bad_request, "malformed HTTP request: " + ec.message(), ctx);
    } else if (!streamed) {
      // A Content-Length over the limit is refused as soon as the header is read.
      if (parser.content_length() && *parser.content_length() > config_.limits.max_body_bytes) {
        refused = too_large();
      } else {
        parser.body_limit(config_.limits.max_body_bytes);
        if (!parser.is_done()) {
          // Read by pieces, so that a deadline passing between two reads (nothing to cancel) is seen.
          ReadDeadline deadline(stream, config_.limits.request_timeout);
          boost::system::error_code body_ec;
          while (!body_ec && !parser.is_done()) {
            auto [read_ec, m] = co_await bhttp::async_read_some(stream, buffer, parser, use_tuple);
            body_ec = deadline.expired() ? boost::system::error_code(beast::error::timeout) : read_ec;
          }
          if (body_ec == bhttp::error::body_limit) {
            refused = too_large();
          } else if (body_ec == beast::error::timeout) {
            refused = hooks_.reject(Status::request_timeout, "request body not received in time", ctx);
          } else if (body_ec) {
            co_return;
          }
        }
      }
    }

    if (refused) {
      // After a request refused before its end the stream position is unknown: answer and close.
      // One read whole (a refused GET) leaves the connection usable.
      const bool whole = !ec && parser.is_done();
      const bool keep = whole && parser.get().keep_alive() && !state_->stopping;
      refused->set("X-Request-ID", ctx.request_id);
      refused->keep_alive(keep);
      refused->prepare_payload();
      lowest.expires_after(std::chrono::seconds(5));
      auto [wec, w] = co_await bhttp::async_write(stream, *refused, use_tuple);
      if (hooks_.done) hooks_.done(ec ? nullptr : &parser.get(), *refused, ctx);
      if (wec || !keep) co_return;
      continue;
    }

    std::optional<StreamedBody<Stream>> body;
    Request request;
    if (streamed) {
      body.emplace(stream, buffer, std::move(parser), config_.limits, ctx);
      request = body->header();
      ctx.body = &*body;
    } else {
      request = parser.release();
    }

    StreamedResponse<Stream> writer(stream, config_.limits, ctx, request.keep_alive() && !state_->stopping);
    ctx.writer = &writer;

    lowest.expires_never();  // the handler has its own deadlines (SSH command timeouts)
    Response response = co_await hooks_.handle(request, ctx);
    if (writer.begun()) {
      // The handler sent its response itself; what it returned is for the audit line, unless it
      // failed after the status line: the reply is cut short, and only the log can say why.
      if (response.result_int() >= 400)
        spdlog::warn("request {}: reply cut short after its status line: {} {}", ctx.request_id, response.result_int(),
                     response.body());
      if (hooks_.done) hooks_.done(&request, writer.header(), ctx);
      if (!writer.keeps_alive() || state_->stopping) co_return;
      if (body && !body->finished()) co_return;
      continue;
    }
    response.set("X-Request-ID", ctx.request_id);
    const bool body_unread = body && !body->finished();
    const bool keep = request.keep_alive() && response.keep_alive() && !state_->stopping && !body_unread;
    response.keep_alive(keep);
    response.prepare_payload();
    lowest.expires_after(config_.limits.request_timeout);
    auto [wec, w] = co_await bhttp::async_write(stream, response, use_tuple);
    if (hooks_.done) hooks_.done(&request, response, ctx);
    if (!wec && body_unread) co_await body->linger();
    if (wec || !keep) co_return;
  }
}

void Server::shutdown(std::function<void()> done) {
  state_->stopping = true;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  // Poll until connections drain or the grace time is over; idle keep-alive connections
  // close when their idle timer fires or after the grace.
  auto timer = std::make_shared<asio::steady_timer>(ioc_);
  auto deadline = std::chrono::steady_clock::now() + config_.limits.shutdown_grace;
  auto state = state_;
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [timer, deadline, state, done, tick]() {
    if (state->connections == 0 || std::chrono::steady_clock::now() >= deadline) {
      done();
      *tick = nullptr;  // break the self-reference
      return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([tick](const boost::system::error_code&) {
      if (*tick) (*tick)();
    });
  };
  asio::post(ioc_, [tick] { (*tick)(); });
}

}  // namespace portico::http
