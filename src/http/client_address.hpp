#pragma once
// Who the client is: the peer's address, or behind trusted proxies the address they forwarded
// (X-Forwarded-For, read from the right: each proxy appends the peer it saw, and whatever a
// client wrote itself is to the left of that); and sets of addresses and CIDRs to check it
// against (who may read /metrics, which peers are proxies).
// Thread-safety: AddressSet is immutable once built.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "http/types.hpp"

namespace portico::http {

using IpAddress = boost::asio::ip::address;

// The address part of RequestContext::remote ("192.0.2.7:5000", "::1:5000"), IPv4-mapped IPv6
// addresses as IPv4; the unspecified address when unreadable.
IpAddress peer_address(std::string_view remote);

class AddressSet {
 public:
  AddressSet() = default;
  // Entries such as "192.0.2.7", "10.0.0.0/8", "::1", "2001:db8::/32" (config validates them);
  // throws std::invalid_argument naming an entry that is none of those.
  explicit AddressSet(const std::vector<std::string>& entries);
  bool contains(const IpAddress& address) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

// The client of a request that came from `peer`: the peer itself unless it is one of `proxies`;
// then the rightmost X-Forwarded-For address that is not a proxy (the last proxy when the
// header is missing or an entry is unreadable, since nothing further can be believed).
IpAddress client_address(const Request& request, const IpAddress& peer, const AddressSet& proxies);

}  // namespace portico::http
