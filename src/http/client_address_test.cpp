#include "http/client_address.hpp"

#include <gtest/gtest.h>

using namespace portico::http;

namespace {

IpAddress ip(const char* text) { return boost::asio::ip::make_address(text); }

Request with_forwarded(std::initializer_list<const char*> lines) {
  Request r{Verb::get, "/", 11};
  for (auto l : lines) r.insert("X-Forwarded-For", l);
  return r;
}

}  // namespace

TEST(ClientAddress, PeerAddressOfRemote) {
  EXPECT_EQ(peer_address("192.0.2.7:5000"), ip("192.0.2.7"));
  EXPECT_EQ(peer_address("::1:5000"), ip("::1"));
  EXPECT_EQ(peer_address("::ffff:192.0.2.7:5000"), ip("192.0.2.7"));
  EXPECT_TRUE(peer_address("garbage").is_unspecified());
}

TEST(ClientAddress, SetsOfAddressesAndNetworks) {
  AddressSet s({"127.0.0.0/8", "::1", "192.0.2.7", "2001:db8::/32"});
  EXPECT_TRUE(s.contains(ip("127.4.5.6")));
  EXPECT_TRUE(s.contains(ip("::ffff:127.0.0.1")));
  EXPECT_TRUE(s.contains(ip("::1")));
  EXPECT_TRUE(s.contains(ip("192.0.2.7")));
  EXPECT_FALSE(s.contains(ip("192.0.2.8")));
  EXPECT_TRUE(s.contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(s.contains(ip("2001:db9::1")));
  EXPECT_FALSE(s.contains(ip("10.0.0.1")));
  EXPECT_FALSE(AddressSet().contains(ip("127.0.0.1")));
  EXPECT_THROW(AddressSet({"10.0.0.0/33"}), std::invalid_argument);
  EXPECT_THROW(AddressSet({"localhost"}), std::invalid_argument);
}

TEST(ClientAddress, ForwardedForIsBelievedOnlyFromProxiesAndReadFromTheRight) {
  AddressSet proxies({"10.0.0.1", "10.0.0.2"});
  // Not from a proxy: the header is the client's own words.
  EXPECT_EQ(client_address(with_forwarded({"203.0.113.5"}), ip("198.51.100.1"), proxies), ip("198.51.100.1"));
  // From a proxy: the address it appended, not what the client wrote before it.
  EXPECT_EQ(client_address(with_forwarded({"1.1.1.1, 203.0.113.5"}), ip("10.0.0.1"), proxies), ip("203.0.113.5"));
  // Through two proxies, over two header lines.
  EXPECT_EQ(client_address(with_forwarded({"1.1.1.1", "203.0.113.5, 10.0.0.2"}), ip("10.0.0.1"), proxies),
            ip("203.0.113.5"));
  // Nothing readable further: the last proxy.
  EXPECT_EQ(client_address(with_forwarded({"unknown"}), ip("10.0.0.1"), proxies), ip("10.0.0.1"));
  EXPECT_EQ(client_address(with_forwarded({}), ip("10.0.0.1"), proxies), ip("10.0.0.1"));
  EXPECT_EQ(client_address(with_forwarded({"203.0.113.5"}), ip("10.0.0.1"), AddressSet()), ip("10.0.0.1"));
}
