#include "http/client_address.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

namespace portico::http {

namespace ip = boost::asio::ip;

namespace {

IpAddress unmapped(const IpAddress& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<IpAddress> parse_address(std::string_view text) {
  boost::system::error_code ec;
  auto a = ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return unmapped(a);
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

IpAddress peer_address(std::string_view remote) {
  auto colon = remote.rfind(':');
  if (colon == std::string_view::npos) return {};
  return parse_address(remote.substr(0, colon)).value_or(IpAddress());
}

AddressSet::AddressSet(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    std::string_view text = entry;
    auto slash = text.find('/');
    auto address = parse_address(text.substr(0, slash));
    unsigned bits = 0;
    bool ok = address.has_value();
    if (ok) {
      bits = address->is_v4() ? 32 : 128;
      if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        ok = !digits.empty() && ec == std::errc() && p == digits.data() + digits.size() &&
             bits <= (address->is_v4() ? 32u : 128u);
      }
    }
    if (!ok) throw std::invalid_argument("not an IP address or CIDR: " + entry);
    if (address->is_v4())
      v4_.push_back(ip::network_v4(address->to_v4(), bits).canonical());
    else
      v6_.push_back(ip::network_v6(address->to_v6(), bits).canonical());
  }
}

bool AddressSet::contains(const IpAddress& raw) const {
  const auto a = unmapped(raw);
  if (a.is_v4()) {
    for (const auto& n : v4_)
      if (ip::network_v4(a.to_v4(), n.prefix_length()).canonical() == n) return true;
  } else {
    for (const auto& n : v6_)
      if (ip::network_v6(a.to_v6(), n.prefix_length()).canonical() == n) return true;
  }
  return false;
}

IpAddress client_address(const Request& request, const IpAddress& peer, const AddressSet& proxies) {
  IpAddress client = unmapped(peer);
  if (proxies.empty() || !proxies.contains(client)) return client;
  // Every X-Forwarded-For line, in order, is one list; walked from its right end.
  std::vector<std::string_view> hops;
  for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it) {
    std::string_view line(it->value().data(), it->value().size());
    for (std::size_t start = 0; start <= line.size();) {
      auto comma = line.find(',', start);
      if (comma == std::string_view::npos) comma = line.size();
      hops.push_back(trim(line.substr(start, comma - start)));
      start = comma + 1;
    }
  }
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    auto address = parse_address(*hop);
    if (!address) break;
    client = *address;
    if (!proxies.contains(client)) break;
  }
  return client;
}

}  // namespace portico::http
