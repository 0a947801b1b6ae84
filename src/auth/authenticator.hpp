#pragma once
// Turns an HTTP Authorization header into the identity of a user: "Bearer <OIDC access token>",
// verified against the provider's keys (refetched once, rate-limited, on an unknown kid), with
// the user name taken from the configured claim and checked as a Unix name before it goes
// anywhere near a cluster. Tokens are never logged nor put in messages.
//
// Verified tokens are remembered (keyed by the exact token text) until they expire, for at most a
// minute, so a client that sends the same token on every request pays the signature check once
// a minute instead of every time; a key the provider withdraws stops working within that minute.
//
// Thread-safety: authenticate() may run concurrently from any thread (the KeySource must allow
// that, as JwksCache does); the cache of verified tokens is sharded, each shard under its mutex.

#include "auth/jwks_cache.hpp"
#include "auth/jwt.hpp"
#include "config/config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <array>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::auth {

struct Identity {
  std::string username;                // from the configured claim; a valid Unix name
  std::string subject;                 // "sub"
  std::string client_id;               // "client_id", else "azp"; may be empty
  std::vector<std::string> scopes;     // "scope" (space-separated) or "scp" (array)
  std::string token_id;                // "jti"; may be empty
  std::chrono::system_clock::time_point expires;  // "exp"
};

// The token of "Bearer <token>" (scheme case-insensitive), or std::nullopt for anything else.
std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

// The Identity in verified claims. Throws core::Failure(unauthorized) when the user-name claim
// is missing or not a valid Unix name.
Identity identity_from_claims(const boost::json::object& claims, std::string_view username_claim);

class Authenticator {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `clock` is for tests; empty means the system clock.
  Authenticator(std::shared_ptr<KeySource> keys, const config::Auth& auth, Clock clock = {});

  // Throws core::Failure(unauthorized) with a message fit for the client ("missing bearer token",
  // "token expired", "token signature invalid", ...); its detail says more for the log.
  boost::asio::awaitable<Identity> authenticate(std::string authorization) const;

  static constexpr std::chrono::seconds kCacheLifetime{60};
  static constexpr std::size_t kCacheEntriesPerShard = 1024;

 private:
  struct Cached {
    Identity identity;
    std::chrono::system_clock::time_point until;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Cached> entries;
  };
  std::optional<Identity> cached(std::string_view token, std::chrono::system_clock::time_point now) const;
  void remember(std::string_view token, const Identity& identity, std::chrono::system_clock::time_point now) const;
  Shard& shard_for(std::string_view token) const;

  std::shared_ptr<KeySource> keys_;
  JwtOptions options_;
  std::string username_claim_;
  Clock clock_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace portico::auth
