#pragma once
// JSON Web Key Sets (RFC 7517) turned into OpenSSL public keys for verifying token signatures.
//
// Only signature keys of the three kinds Portico verifies are kept: RSA of at least 2048 bits,
// EC on P-256, and OKP Ed25519. Other keys (encryption keys, other curves, symmetric keys,
// keys that fail validation) are skipped and counted rather than failing the whole set, because
// providers publish such keys next to the ones we need.
//
// Thread-safety: a KeySet is an immutable value once parse_jwks() returns it; share it as const.

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace portico::auth {

enum class KeyType { rsa, ec_p256, ed25519 };

const char* to_string(KeyType type) noexcept;  // "RSA", "EC P-256", "Ed25519"

struct Jwk {
  std::string kid;  // empty when the JWK has none
  std::string kty;  // "RSA", "EC" or "OKP"
  std::string alg;  // empty when the JWK does not restrict its algorithm
  std::string use;  // "sig" or empty
  KeyType type = KeyType::rsa;
  std::shared_ptr<EVP_PKEY> key;  // the public key; never null
};

struct KeySet {
  std::vector<Jwk> keys;
  std::size_t skipped = 0;
  std::vector<std::string> skip_reasons;  // one line per skipped key, for the log
};

// Parses a JWKS document. Throws core::Failure(internal) when it is not a JSON object with a
// "keys" array (the provider answered something other than a JWKS). Never fails for one key.
KeySet parse_jwks(std::string_view json);
KeySet parse_jwks(const boost::json::value& document);

}  // namespace portico::auth
