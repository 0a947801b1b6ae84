#pragma once
// How Portico gets an SSH credential to act as a user. Two providers behind one interface:
// - CaCredentialProvider: an ephemeral ed25519 key pair per user and a short-lived OpenSSH user
//   certificate (principal = the user) signed with Portico's CA key, which sshd trusts
//   (TrustedUserCAKeys). Renewed before it expires.
// - StaticKeyProvider: per-user private keys (and optional certificates) from the configuration,
//   for sites without a CA.
// Thread-safety: credential_for() may be called from any thread.

#include <libssh/libssh.h>

#include <chrono>
#include <memory>
#include <string>

#include "config/config.hpp"

namespace portico::ssh {

struct KeyDeleter {
  void operator()(ssh_key key) const noexcept { ssh_key_free(key); }
};
using KeyPtr = std::unique_ptr<ssh_key_struct, KeyDeleter>;

struct Credential {
  std::string user;
  KeyPtr private_key;   // with the certificate copied in (ssh_pki_copy_cert_to_privkey) when there is one
  KeyPtr certificate;   // null for a plain key
  std::chrono::system_clock::time_point expires = std::chrono::system_clock::time_point::max();
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // A credential valid for at least a minute more. Throws core::Failure(forbidden) when the
  // provider has none for this user, core::Failure(internal) when signing fails.
  virtual std::shared_ptr<const Credential> credential_for(const std::string& user) = 0;
};

// The provider the configuration asks for (ssh_ca, else static_keys). Throws
// std::runtime_error with a clear message when a key file cannot be read or parsed.
std::unique_ptr<CredentialProvider> make_credential_provider(const config::Config& config);

}  // namespace portico::ssh
