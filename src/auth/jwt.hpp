#pragma once
// Verification of OIDC access tokens: compact JWS (RFC 7515) carrying JWT claims (RFC 7519).
//
// Only RS256, ES256 and EdDSA are accepted, and a token's algorithm must fit the key that
// verifies it (RS256: RSA, ES256: P-256, EdDSA: Ed25519) and that JWK's own "alg" when it has
// one. That pairing, not the token's say-so, decides how a signature is checked, which defeats
// "alg: none" and HS256 tokens MACed with a published RSA key.
//
// Thread-safety: verify_jwt() is a pure function of its arguments; call it from any thread.

#include "auth/jwk.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::auth {

enum class JwtError {
  malformed,              // not a compact JWS, bad base64url or JSON, bad claim types, "crit"
  too_large,              // over max_token_bytes (checked before anything else)
  unsupported_algorithm,  // alg outside the allow-list, or not matching the key
  unknown_key,            // no key with the token's kid (or no kid and not exactly one key)
  bad_signature,
  expired,
  not_yet_valid,          // nbf or iat in the future
  wrong_issuer,
  wrong_audience,
};

const char* to_string(JwtError error) noexcept;

struct JwtOptions {
  std::string issuer;                  // "iss" must equal it
  std::vector<std::string> audiences;  // "aud" must contain one of them; none: every token refused
  std::chrono::seconds leeway{30};     // clock skew allowed on exp, nbf, iat
  std::size_t max_token_bytes = 16 * 1024;
};

struct JwtResult {
  std::optional<boost::json::object> claims;  // set when the token is valid
  JwtError error = JwtError::malformed;        // meaningful only when claims is empty
  std::string message;                         // why it was refused; never contains the token

  bool ok() const noexcept { return claims.has_value(); }
};

JwtResult verify_jwt(std::string_view token, const KeySet& keys, const JwtOptions& options,
                     std::chrono::system_clock::time_point now);

}  // namespace portico::auth
