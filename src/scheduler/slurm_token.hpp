#pragma once
// Slurm's JWT (auth/jwt): a short-lived HS256 token that slurmrestd (rest_auth/jwt) accepts for
// one user, signed with the cluster's jwt_key, as `scontrol token` would make it. Portico
// mints one per request for the caller, so slurmrestd applies that user's permissions.
//
// The key is read once, when the minter is made; tokens are never logged (they are bearer
// credentials for the cluster). Thread-safe: immutable after construction.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace portico::scheduler {

class SlurmTokenMinter {
 public:
  // The bytes of the key file are the HMAC key, as Slurm reads them. Throws
  // core::Failure(internal) when the file cannot be read or is empty.
  static SlurmTokenMinter from_file(const std::string& key_file, std::chrono::seconds lifetime = std::chrono::minutes(5));

  SlurmTokenMinter(std::string key, std::chrono::seconds lifetime);

  // "header.payload.signature" with claims {"sun": user, "iat": now, "exp": now + lifetime}.
  // REQUIRES: user is a valid Unix name (the caller's authenticated name).
  std::string mint(std::string_view user, std::int64_t now_epoch_seconds) const;
  std::string mint(std::string_view user) const;

 private:
  std::string key_;
  std::chrono::seconds lifetime_;
};

// base64url without padding (RFC 7515 §2), as JWS uses it.
std::string base64url_encode(std::string_view bytes);

}  // namespace portico::scheduler
