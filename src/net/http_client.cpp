#include "net/http_client.hpp"

#include "core/ascii.hpp"
#include "core/error.hpp"
#include "portico/version.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <optional>

namespace portico::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using core::ErrorKind;
using core::Failure;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

const std::string* HttpResponse::header(std::string_view name) const noexcept {
  for (const auto& h : headers)
    if (core::iequals(h.name, name)) return &h.value;
  return nullptr;
}

struct HttpClient::Tls {
  ssl::context context{ssl::context::tls_client};
};

HttpClient::HttpClient(HttpClientOptions options) : tls_(std::make_shared<Tls>()) {
  auto& ctx = tls_->context;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (options.ca_file.empty())
    ctx.set_default_verify_paths(ec);
  else
    ctx.load_verify_file(options.ca_file, ec);
  if (ec)
    throw Failure(ErrorKind::internal, "cannot load the CA certificates for outgoing https",
                  fmt::format("{}: {}", options.ca_file.empty() ? "system store" : options.ca_file, ec.message()));
}

HttpClient::~HttpClient() = default;

namespace {

// Where a URL points, split the way a connection needs it.
struct Target {
  bool tls = false;
  bool ip_literal = false;
  std::string host;         // for DNS and certificate checks: no brackets, decoded
  std::string port;         // always set, "80"/"443" by default
  std::string host_header;  // as sent in Host: brackets for IPv6, port when not the default
  std::string path;         // origin-form request target: path and query, never empty

  std::string authority() const { return ip_literal && host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port; }
};

Target parse_target(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  // The URL may carry secrets in its query, so only the reason is reported.
  if (!parsed) throw Failure(ErrorKind::internal, "invalid URL for an outgoing request", parsed.error().message());
  const auto& u = *parsed;
  Target t;
  if (u.scheme_id() == boost::urls::scheme::https)
    t.tls = true;
  else if (u.scheme_id() != boost::urls::scheme::http)
    throw Failure(ErrorKind::internal, "outgoing requests need an http or https URL");
  if (u.has_userinfo())
    throw Failure(ErrorKind::internal, "outgoing request URLs must not hold credentials (user:password@)");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      t.ip_literal = true;
      break;
    case boost::urls::host_type::name:
      break;
    default:
      throw Failure(ErrorKind::internal, "outgoing request URL has no usable host");
  }
  t.host = u.host_address();
  if (t.host.empty()) throw Failure(ErrorKind::internal, "outgoing request URL has no host");
  const std::string default_port = t.tls ? "443" : "80";
  t.port = u.has_port() && !u.port().empty() ? std::string(u.port()) : default_port;
  if (u.has_port() && !u.port().empty() && u.port_number() == 0)
    throw Failure(ErrorKind::internal, "outgoing request URL has an invalid port");
  t.host_header = u.encoded_host();
  if (t.port != default_port) t.host_header += ":" + t.port;
  t.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) t.path += "?" + std::string(u.encoded_query());
  return t;
}

bool is_token(std::string_view s) {  // RFC 9110 token, for methods and header names
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (core::ascii_alnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) return false;
  }
  return true;
}

http::request<http::string_body> build_request(HttpRequest& in, const Target& t) {
  http::request<http::string_body> req;
  req.version(11);
  if (!is_token(in.method)) throw Failure(ErrorKind::internal, "invalid HTTP method for an outgoing request");
  if (auto verb = http::string_to_verb(in.method); verb != http::verb::unknown)
    req.method(verb);
  else
    req.method_string(in.method);
  req.target(t.path);
  for (auto& h : in.headers) {
    // Beast writes fields as given, so CR/LF here would let a value inject headers.
    if (!is_token(h.name) || h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      throw Failure(ErrorKind::internal, "invalid header in an outgoing request",
                    is_token(h.name) ? "bad value for " + h.name : "bad header name");
    req.insert(h.name, h.value);
  }
  for (auto field : {http::field::host, http::field::content_length, http::field::transfer_encoding,
                     http::field::connection})
    req.erase(field);
  req.set(http::field::host, t.host_header);
  req.set(http::field::connection, "close");
  if (req.find(http::field::user_agent) == req.end())
    req.set(http::field::user_agent, std::string("portico/") + portico::kVersion);
  req.body() = std::move(in.body);
  req.prepare_payload();
  return req;
}

using ResolveResults = tcp::resolver::results_type;
using ResolveSignature = void(error_code, ResolveResults);

// Asio resolves names with getaddrinfo on a background thread, which neither a timer nor a
// cancellation can interrupt. To honour the deadline, the lookup is raced against a timer and,
// if it loses, abandoned: its result is dropped whenever it arrives. Everything here runs on
// one strand; the waiting coroutine is resumed on its own executor.
class ResolveRace : public std::enable_shared_from_this<ResolveRace> {
 public:
  // `ex` is the waiting coroutine's executor, where it is resumed.
  explicit ResolveRace(const asio::any_io_executor& ex)
      : waiter_(ex), strand_(asio::make_strand(ex)), resolver_(strand_), timer_(strand_) {}

  void start(asio::any_completion_handler<ResolveSignature> handler, std::string host, std::string port,
             Clock::time_point deadline) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) {
      // Weak: the handler (which owns the slot) is held by this object until completion.
      slot.assign([weak = weak_from_this()](asio::cancellation_type) {
        if (auto self = weak.lock())
          asio::post(self->strand_, [self] { self->finish(asio::error::operation_aborted, {}); });
      });
    }
    asio::dispatch(strand_, [self = shared_from_this(), handler = std::move(handler), host = std::move(host),
                             port = std::move(port), deadline]() mutable {
      self->handler_.emplace(std::move(handler));
      self->timer_.expires_at(deadline);
      self->timer_.async_wait([self](error_code ec) {
        if (!ec) self->finish(asio::error::timed_out, {});
      });
      self->resolver_.async_resolve(host, port, [self](error_code ec, ResolveResults results) {
        self->finish(ec, std::move(results));
      });
    });
  }

 private:
  void finish(error_code ec, ResolveResults results) {
    if (!handler_) return;  // the other side of the race already completed
    auto handler = std::move(*handler_);
    handler_.reset();
    timer_.cancel();
    // Resumes the waiting coroutine through its own executor, never inline on the strand.
    asio::post(waiter_, [handler = std::move(handler), ec, results = std::move(results)]() mutable {
      std::move(handler)(ec, std::move(results));
    });
  }

  asio::any_io_executor waiter_;
  asio::strand<asio::any_io_executor> strand_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::optional<asio::any_completion_handler<ResolveSignature>> handler_;
};

asio::awaitable<ResolveResults> resolve_until(std::string host, std::string port, Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  // Named, not a temporary inside the co_await: g++ 12 destroys such temporaries twice. The race
  // is owned by its pending operations only, never by this frame, which its handler owns.
  auto initiation = [executor](auto handler, std::string h, std::string p, Clock::time_point d) {
    std::make_shared<ResolveRace>(executor)->start(std::move(handler), std::move(h), std::move(p), d);
  };
  auto results = co_await asio::async_initiate<decltype(asio::use_awaitable), ResolveSignature>(
      std::move(initiation), asio::use_awaitable, std::move(host), std::move(port), deadline);
  co_return results;
}

template <class Stream>
asio::awaitable<HttpResponse> exchange(Stream& stream, const http::request<http::string_body>& req,
                                       std::size_t max_body) {
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(static_cast<std::uint64_t>(max_body));
  if (req.method() == http::verb::head) parser.skip(true);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto message = parser.release();
  HttpResponse res;
  res.status = message.result_int();
  for (const auto& field : message)
    res.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  res.body = std::move(message.body());
  co_return res;
}

// What the exchange was doing when it failed, for the message.
enum class Phase { resolve, connect, handshake, exchange };

Failure to_failure(const error_code& ec, Phase phase, const Target& t, const HttpRequest& in) {
  const auto where = t.authority();
  if (ec == http::error::body_limit)
    return Failure(ErrorKind::too_large,
                   fmt::format("response from {} exceeds {} bytes", where, in.max_response_bytes));
  if (ec == beast::error::timeout || ec == asio::error::timed_out)
    return Failure(ErrorKind::backend_unreachable,
                   fmt::format("{} did not answer within {} ms", where, in.timeout.count()));
  switch (phase) {
    case Phase::resolve:
      return Failure(ErrorKind::backend_unreachable, fmt::format("cannot resolve {}: {}", where, ec.message()));
    case Phase::connect:
      return Failure(ErrorKind::backend_unreachable, fmt::format("cannot connect to {}: {}", where, ec.message()));
    case Phase::handshake:
      return Failure(ErrorKind::backend_unreachable,
                     fmt::format("TLS handshake with {} failed: {}", where, ec.message()));
    case Phase::exchange:
      break;
  }
  return Failure(ErrorKind::backend_unreachable, fmt::format("HTTP exchange with {} failed: {}", where, ec.message()));
}

}  // namespace

asio::awaitable<HttpResponse> HttpClient::request(HttpRequest in) const {
  const Target target = parse_target(in.url);
  const auto req = build_request(in, target);
  const auto deadline = Clock::now() + in.timeout;
  auto cancellation = co_await asio::this_coro::cancellation_state;
  auto ex = co_await asio::this_coro::executor;

  Phase phase = Phase::resolve;
  error_code failure;
  std::optional<HttpResponse> response;
  std::exception_ptr cancelled;
  try {
    auto endpoints = co_await resolve_until(target.host, target.port, deadline);
    phase = Phase::connect;
    // tcp_stream applies the deadline to every socket operation below, closing the socket when
    // it passes, so a silent peer cannot hold the coroutine.
    beast::tcp_stream tcp(ex);
    tcp.expires_at(deadline);
    co_await tcp.async_connect(endpoints, asio::use_awaitable);
    if (!target.tls) {
      phase = Phase::exchange;
      response = co_await exchange(tcp, req, in.max_response_bytes);
    } else {
      phase = Phase::handshake;
      beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), tls_->context);
      SSL* ssl = stream.native_handle();
      // Certificate identity: IP SAN for an address, DNS name (with SNI) otherwise.
      bool ok = target.ip_literal
                    ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str()) == 1
                    : SSL_set_tlsext_host_name(ssl, target.host.c_str()) == 1 &&
                          SSL_set1_host(ssl, target.host.c_str()) == 1;
      if (!ok) throw Failure(ErrorKind::internal, fmt::format("cannot set up TLS for {}", target.authority()));
      co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
      phase = Phase::exchange;
      // The connection is not reused, so no close_notify exchange: it would only add a round trip.
      response = co_await exchange(stream, req, in.max_response_bytes);
    }
  } catch (const boost::system::system_error& e) {
    if (cancellation.cancelled() != asio::cancellation_type::none)
      cancelled = std::current_exception();
    else
      failure = e.code();
  }
  if (cancelled) std::rethrow_exception(cancelled);
  if (!response) throw to_failure(failure, phase, target, in);
  co_return std::move(*response);
}

}  // namespace portico::net
