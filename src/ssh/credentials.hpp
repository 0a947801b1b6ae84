#pragma once
// How Portico gets an SSH credential to act as a user. Two providers behind one interface:
// - CaCredentialProvider: an ephemeral ed25519 key pair per user and a short-lived OpenSSH user
//   certificate (principal = the user) signed with Portico's CA key, which sshd trusts
//   (TrustedUserCAKeys). Renewed before it expires. Private keys live only in memory.
// - StaticKeyProvider: per-user private keys (and optional certificates) from the configuration,
//   for sites without a CA.
//
// Authenticating with a credential (libssh):
//   if (cred->certificate) ssh_userauth_try_publickey(session, nullptr, cred->certificate.get());
//   ssh_userauth_publickey(session, nullptr, cred->private_key.get());
// private_key carries the certificate (ssh_pki_copy_cert_to_privkey), so libssh offers the
// certificate and signs with the key.
//
// Thread-safety: credential_for() may be called from any thread. A Credential is immutable once
// returned and may be shared by several sessions on several threads at once: libssh only reads a
// key when it offers or signs with it. Keep the shared_ptr for as long as a session uses the keys.

#include <libssh/libssh.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "ssh/openssh_key.hpp"

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
  std::string key_id;   // the certificate's key id ("portico:alice:<serial>"), for logs; "" for a plain key
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // A credential valid for at least a minute more. Throws core::Failure(forbidden) when the
  // provider has none for this user, core::Failure(internal) when signing fails.
  virtual std::shared_ptr<const Credential> credential_for(const std::string& user) = 0;
};

// Where providers read the time; injectable so tests can move it.
using Clock = std::function<std::chrono::system_clock::time_point()>;

class CaCredentialProvider final : public CredentialProvider {
 public:
  // Certificates are backdated by this much, so a cluster whose clock is slightly behind accepts them.
  static constexpr std::chrono::seconds kClockSkew{60};
  // Whatever the validity, a certificate is renewed when less than this remains.
  static constexpr std::chrono::seconds kMinRemaining{60};

  // validity: how long a certificate lasts (config ssh_ca.cert_validity, at least 60 s).
  // source_addresses: when not empty, every certificate's source-address critical option (sshd
  // then accepts it only from those addresses or networks).
  // Throws std::invalid_argument for a validity under 60 s.
  CaCredentialProvider(SigningKey ca, std::chrono::seconds validity, Clock clock = {},
                       std::vector<std::string> source_addresses = {});

  // A cached credential, or a new key pair and certificate when there is none or when less than
  // max(validity / 3, 60 s) of it remains. Throws core::Failure(forbidden) for a user name that
  // fails core::valid_unix_name, core::Failure(internal) when key generation or signing fails.
  std::shared_ptr<const Credential> credential_for(const std::string& user) override;

  // True when a credential that expires at `expires` must be replaced at `now`.
  bool needs_renewal(std::chrono::system_clock::time_point expires,
                     std::chrono::system_clock::time_point now) const noexcept;

  const SigningKey& ca() const noexcept { return ca_; }

 private:
  std::shared_ptr<const Credential> issue(const std::string& user, std::chrono::system_clock::time_point now);

  const SigningKey ca_;
  const std::chrono::seconds validity_;
  const std::chrono::seconds renew_margin_;
  const Clock clock_;
  const std::vector<std::string> source_addresses_;
  // Strictly increasing for the life of the process; starts from the microseconds since the
  // epoch so serials keep increasing across restarts too.
  std::atomic<std::uint64_t> next_serial_;
  std::mutex mutex_;  // guards cache_ only; signing happens outside it
  std::unordered_map<std::string, std::shared_ptr<const Credential>> cache_;
};

class StaticKeyProvider final : public CredentialProvider {
 public:
  // Loads every key (and certificate) now. Throws std::runtime_error naming the file when one
  // cannot be read or parsed, is passphrase-protected, or when a certificate does not belong
  // to its key; naming the user when it is configured twice or is not a valid Unix name.
  explicit StaticKeyProvider(const std::vector<config::StaticKey>& keys, Clock clock = {});

  // Throws core::Failure(forbidden) for a user without a key, or whose certificate expires
  // within a minute (the detail names the certificate file).
  std::shared_ptr<const Credential> credential_for(const std::string& user) override;

 private:
  struct Entry {
    std::shared_ptr<const Credential> credential;
    std::string certificate_file;
  };
  const Clock clock_;
  std::map<std::string, Entry> by_user_;  // immutable after construction: read without a lock
};

// The provider the configuration asks for (ssh_ca, else static_keys). Throws
// std::runtime_error with a clear message when a key file cannot be read or parsed, or when
// neither is configured.
std::unique_ptr<CredentialProvider> make_credential_provider(const config::Config& config);

}  // namespace portico::ssh
