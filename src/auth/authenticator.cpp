#include "auth/authenticator.hpp"

#include "core/ascii.hpp"
#include "core/error.hpp"
#include "core/names.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace portico::auth {

namespace json = boost::json;
using core::ErrorKind;
using core::Failure;

std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() || !core::iequals(authorization.substr(0, scheme.size()), scheme) ||
      authorization[scheme.size()] != ' ')
    return std::nullopt;
  auto token = authorization.substr(scheme.size());
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  // RFC 6750 b64token characters; anything else (spaces, commas, quotes) is not one token.
  if (token.empty()) return std::nullopt;
  for (unsigned char c : token)
    if (!core::ascii_alnum(c) && std::string_view("-._~+/=").find(static_cast<char>(c)) == std::string_view::npos)
      return std::nullopt;
  return token;
}

namespace {

std::string string_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Client-facing messages: one per JwtError, none echoing the token.
const char* message_for(JwtError error) {
  switch (error) {
    case JwtError::malformed: return "token malformed";
    case JwtError::too_large: return "token too large";
    case JwtError::unsupported_algorithm: return "token algorithm not accepted";
    case JwtError::unknown_key: return "token signing key unknown";
    case JwtError::bad_signature: return "token signature invalid";
    case JwtError::expired: return "token expired";
    case JwtError::not_yet_valid: return "token not yet valid";
    case JwtError::wrong_issuer: return "token issuer not accepted";
    case JwtError::wrong_audience: return "token audience not accepted";
  }
  return "token invalid";
}

}  // namespace

Identity identity_from_claims(const json::object& claims, std::string_view username_claim) {
  Identity id;
  const json::value* name = claims.if_contains(username_claim);
  if (!name || !name->is_string())
    throw Failure(ErrorKind::unauthorized, fmt::format("token has no {} claim", username_claim));
  if (!core::valid_unix_name(name->get_string()))
    // The refused value is shown quoted and shortened in the log detail only.
    throw Failure(ErrorKind::unauthorized, "token user name not accepted",
                  fmt::format("claim {} = {} is not a valid Unix user name", username_claim,
                              json::serialize(json::string(std::string_view(name->get_string()).substr(0, 64)))));
  id.username = name->get_string();
  id.subject = string_claim(claims, "sub");
  id.client_id = string_claim(claims, "client_id");
  if (id.client_id.empty()) id.client_id = string_claim(claims, "azp");
  id.token_id = string_claim(claims, "jti");
  if (const json::value* scope = claims.if_contains("scope"); scope && scope->is_string()) {
    std::string_view text = scope->get_string();
    for (std::size_t start = 0; start < text.size();) {
      auto end = std::min(text.find(' ', start), text.size());
      if (end > start) id.scopes.emplace_back(text.substr(start, end - start));
      start = end + 1;
    }
  } else if (const json::value* scp = claims.if_contains("scp"); scp && scp->is_array()) {
    for (const auto& s : scp->get_array())
      if (s.is_string()) id.scopes.emplace_back(s.get_string());
  }
  // verify_jwt guarantees a numeric exp; clamp it into what system_clock can represent.
  const json::value& exp = claims.at("exp");
  double seconds = exp.is_int64() ? static_cast<double>(exp.get_int64())
                   : exp.is_uint64() ? static_cast<double>(exp.get_uint64())
                                     : exp.get_double();
  seconds = std::clamp(std::floor(seconds), 0.0, 253402300799.0);  // up to 9999-12-31
  id.expires = std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<std::int64_t>(seconds)));
  return id;
}

Authenticator::Authenticator(std::shared_ptr<KeySource> keys, const config::Auth& auth, Clock clock)
    : keys_(std::move(keys)),
      options_{auth.issuer, auth.audiences, auth.leeway, auth.max_token_bytes},
      username_claim_(auth.username_claim),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

boost::asio::awaitable<Identity> Authenticator::authenticate(std::string authorization) const {
  if (authorization.empty()) throw Failure(ErrorKind::unauthorized, "missing bearer token");
  const auto token = bearer_token(authorization);
  if (!token) throw Failure(ErrorKind::unauthorized, "missing bearer token", "Authorization is not \"Bearer <token>\"");

  const auto now = clock_();
  if (auto identity = cached(*token, now)) co_return std::move(*identity);
  auto result = verify_jwt(*token, *keys_->keys(), options_, now);
  if (!result.ok() && result.error == JwtError::unknown_key) {
    // Perhaps the provider rotated its keys: look again (rate-limited by the key source).
    auto keys = co_await keys_->refresh_for_unknown_key();
    result = verify_jwt(*token, *keys, options_, clock_());
  }
  if (!result.ok()) throw Failure(ErrorKind::unauthorized, message_for(result.error), result.message);
  auto identity = identity_from_claims(*result.claims, username_claim_);
  remember(*token, identity, now);
  co_return identity;
}

Authenticator::Shard& Authenticator::shard_for(std::string_view token) const {
  return shards_[std::hash<std::string_view>{}(token) % shards_.size()];
}

std::optional<Identity> Authenticator::cached(std::string_view token, std::chrono::system_clock::time_point now) const {
  auto& shard = shard_for(token);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(std::string(token));
  if (it == shard.entries.end()) return std::nullopt;
  if (now >= it->second.until) {
    shard.entries.erase(it);
    return std::nullopt;
  }
  return it->second.identity;
}

void Authenticator::remember(std::string_view token, const Identity& identity, std::chrono::system_clock::time_point now) const {
  auto until = std::min(identity.expires, now + kCacheLifetime);
  if (until <= now) return;
  auto& shard = shard_for(token);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= kCacheEntriesPerShard) {
    std::erase_if(shard.entries, [now](const auto& e) { return now >= e.second.until; });
    if (shard.entries.size() >= kCacheEntriesPerShard) shard.entries.clear();  // many live tokens: start over
  }
  shard.entries.insert_or_assign(std::string(token), Cached{identity, until});
}

}  // namespace portico::auth
