#include "limits/rate_limits.hpp"

namespace portico::limits {

RateLimits::RateLimits(const config::RateLimits& config, TokenBuckets::Clock clock) {
  if (!config.enabled) return;
  addresses_ = std::make_unique<TokenBuckets>(config.per_address, config.max_buckets, clock);
  firecrest_ = std::make_unique<TokenBuckets>(config.firecrest.value_or(config.per_user), config.max_buckets, clock);
  iri_ = std::make_unique<TokenBuckets>(config.iri.value_or(config.per_user), config.max_buckets, clock);
}

std::optional<core::Failure> RateLimits::refuse_address(const boost::asio::ip::address& client) {
  if (!addresses_) return std::nullopt;
  auto wait = addresses_->take(address_key(client));
  if (wait.count() == 0) return std::nullopt;
  return too_many_requests(wait, "from this client address");
}

void RateLimits::charge_user(Api api, std::string_view user) {
  auto& buckets = api == Api::firecrest ? firecrest_ : iri_;
  if (buckets) charge(*buckets, user, "from this user");
}

std::string address_key(const boost::asio::ip::address& address) {
  if (address.is_v4()) return address.to_string();
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace portico::limits
