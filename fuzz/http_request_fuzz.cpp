// A request head as the server reads it (http/server.cpp): Beast's parser under the server's
// limits, then what Portico takes from the head itself: the X-Request-ID and traceparent it
// logs (http/request_ids.hpp) and the client address behind trusted proxies
// (http/client_address.hpp).
// Input: the bytes a client sends on a connection.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "fuzz_support.hpp"
#include "http/client_address.hpp"
#include "http/request_ids.hpp"

namespace bhttp = boost::beast::http;
namespace http = portico::http;

namespace {

void check_request_id(std::string_view value) {
  const auto id = http::sane_request_id(value);
  if (id.empty()) return;
  // Echoed in the response and written to the logs: short and plain.
  FUZZ_CHECK(id == value && id.size() <= 128);
  for (unsigned char c : id) FUZZ_CHECK(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':');
}

void check_traceparent(std::string_view value) {
  const auto trace = http::trace_id_from_traceparent(value);
  if (trace.empty()) return;
  FUZZ_CHECK(trace.size() == 32 && value.substr(3, 32) == trace && trace != std::string(32, '0'));
  for (char c : trace) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Behind a trusted proxy the client is the peer or one of the addresses forwarded.
void check_client(const http::Request& request) {
  static const http::AddressSet proxies({"127.0.0.1", "10.0.0.0/8", "::1"});
  const auto peer = boost::asio::ip::make_address("127.0.0.1");
  const auto client = http::client_address(request, peer, proxies);
  std::set<http::IpAddress> forwarded{peer};
  for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it) {
    std::string_view list(it->value().data(), it->value().size());
    while (!list.empty()) {
      const auto comma = list.find(',');
      boost::system::error_code ec;
      auto a = boost::asio::ip::make_address(trim(list.substr(0, comma)), ec);
      if (!ec) {
        forwarded.insert(a);
        if (a.is_v6() && a.to_v6().is_v4_mapped())
          forwarded.insert(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()));
      }
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  FUZZ_CHECK(forwarded.count(client) == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const portico::config::Limits limits;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    const auto n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == bhttp::error::need_more) ec = {};
    if (ec || n == 0) break;
    used += n;
  }
  if (ec || !parser.is_header_done()) return 0;

  const auto& request = parser.get();
  // Nothing that would split a response header or a log line survives the parser.
  for (const auto& field : request) {
    const std::string_view value(field.value().data(), field.value().size());
    FUZZ_CHECK(value.find_first_of("\r\n") == std::string_view::npos);
  }
  const std::string_view target(request.target().data(), request.target().size());
  for (unsigned char c : target) FUZZ_CHECK(c > 0x20 && c != 0x7f);
  if (parser.is_done()) FUZZ_CHECK(request.body().size() <= limits.max_body_bytes);

  if (auto it = request.find("X-Request-ID"); it != request.end()) check_request_id(it->value());
  if (auto it = request.find("traceparent"); it != request.end()) check_traceparent(it->value());
  check_client(request);
  return 0;
}
