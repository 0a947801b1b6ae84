#pragma once
// Turns an HTTP Authorization header into the identity of a user: "Bearer <OIDC access token>",
// verified against the provider's keys (refetched once, rate-limited, on an unknown kid), with
// the user name taken from the configured claim and checked as a Unix name before it goes
// anywhere near a cluster. Tokens are never logged nor put in messages.
//
// Thread-safety: an Authenticator is immutable after construction; authenticate() may run
// concurrently from any thread (the KeySource must allow that, as JwksCache does).

#include "auth/jwks_cache.hpp"
#include "auth/jwt.hpp"
#include "config/config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
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

 private:
  std::shared_ptr<KeySource> keys_;
  JwtOptions options_;
  std::string username_claim_;
  Clock clock_;
};

}  // namespace portico::auth
