#pragma once
// The gateway's rate limits (config::RateLimits): the buckets of client addresses, charged
// before anything else is done with a request (an unauthenticated flood costs one lookup per
// request), and each API's buckets of users, charged once a token is verified. A cluster's own
// per-user bucket belongs to the cluster (cluster::Cluster::authorize charges it).
// Thread-safety: every method may be called from any thread.

#include <boost/asio/ip/address.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/error.hpp"
#include "limits/token_buckets.hpp"

namespace portico::limits {

enum class Api { firecrest, iri };

class RateLimits {
 public:
  explicit RateLimits(const config::RateLimits& config, TokenBuckets::Clock clock = {});

  // The 429 of a request from this client, when its address's bucket is empty.
  std::optional<core::Failure> refuse_address(const boost::asio::ip::address& client);
  // Throws the 429 when the user's bucket of this API is empty.
  void charge_user(Api api, std::string_view user);

  // The buckets, for the metrics; null when rate limits are off.
  const TokenBuckets* addresses() const { return addresses_.get(); }
  const TokenBuckets* users(Api api) const { return (api == Api::firecrest ? firecrest_ : iri_).get(); }

 private:
  std::unique_ptr<TokenBuckets> addresses_, firecrest_, iri_;
};

// A client address's bucket: IPv4 addresses each their own, IPv6 by /64 (what one host or one
// site is given, so a client cannot take a fresh bucket per address of its network).
std::string address_key(const boost::asio::ip::address& address);

}  // namespace portico::limits
