#include "ssh/credentials.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "core/error.hpp"
#include "core/names.hpp"
#include "ssh/certificate.hpp"

namespace portico::ssh {

namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

Clock or_system_clock(Clock clock) {
  if (clock) return clock;
  return [] { return system_clock::now(); };
}

// The public key blob of a libssh key (for a certificate key: the certificate blob). libssh 0.10
// exports blobs only in base64 (ssh_pki_export_pubkey_blob is internal).
std::string key_blob(const ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || b64 == nullptr)
    throw std::runtime_error("cannot export the public key");
  std::unique_ptr<char, void (*)(char*)> owned(b64, ssh_string_free_char);
  return wire::base64_decode(owned.get());
}

// Certificate times are uint64 seconds; system_clock (nanoseconds in an int64) ends in 2262.
system_clock::time_point to_time_point(std::uint64_t epoch_seconds) {
  constexpr std::uint64_t kLast = 9'000'000'000;
  if (epoch_seconds >= kLast) return system_clock::time_point::max();
  return system_clock::time_point(seconds(static_cast<seconds::rep>(epoch_seconds)));
}

std::string utc(std::uint64_t epoch_seconds) {
  if (epoch_seconds == kValidForever) return "forever";
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The whole file; a private key's bytes are wiped by the caller.
std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read the {}: {}", path, what, std::strerror(errno)));
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) throw std::runtime_error(fmt::format("{}: cannot read the {}", path, what));
  return text;
}

// libssh asks this for a passphrase; refusing keeps OpenSSL from prompting on a terminal.
int refuse_passphrase(const char*, char*, std::size_t, int, int, void*) { return -1; }

// Whether a private key file that libssh could not read is passphrase-protected, for the message.
bool looks_encrypted(std::string_view text) {
  if (text.find("ENCRYPTED") != std::string_view::npos) return true;  // PEM and PKCS#8 markers
  constexpr std::string_view begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
  auto b = text.find(begin);
  auto e = text.find("-----END OPENSSH PRIVATE KEY-----");
  if (b == std::string_view::npos || e == std::string_view::npos || e < b) return false;
  try {
    std::string blob = wire::base64_decode(text.substr(b + begin.size(), e - b - begin.size()));
    wire::Reader r(blob);
    r.raw(15);  // "openssh-key-v1\0"
    bool encrypted = r.string() != "none";
    OPENSSL_cleanse(blob.data(), blob.size());
    return encrypted;
  } catch (const std::runtime_error&) {
    return false;
  }
}

KeyPtr load_private_key(const std::string& path) {
  std::string text = read_file(path, "private key");
  ssh_key raw = nullptr;
  int rc = ssh_pki_import_privkey_base64(text.c_str(), nullptr, refuse_passphrase, nullptr, &raw);
  bool encrypted = rc != SSH_OK && looks_encrypted(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (rc != SSH_OK || raw == nullptr) {
    if (encrypted)
      throw std::runtime_error(fmt::format(
          "{}: the private key is passphrase-protected; Portico cannot prompt for a passphrase", path));
    throw std::runtime_error(fmt::format("{}: not a private key libssh can read", path));
  }
  return KeyPtr(raw);
}

}  // namespace

// ---- CaCredentialProvider ----

CaCredentialProvider::CaCredentialProvider(SigningKey ca, seconds validity, Clock clock,
                                           std::vector<std::string> source_addresses)
    : ca_(std::move(ca)),
      validity_(validity),
      renew_margin_(std::max<seconds>(validity / 3, kMinRemaining)),
      clock_(or_system_clock(std::move(clock))),
      source_addresses_(std::move(source_addresses)),
      next_serial_(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(system_clock::now().time_since_epoch()).count())) {
  if (validity < seconds(60))
    throw std::invalid_argument("SSH certificate validity must be at least 60 s so a certificate outlives a request");
}

bool CaCredentialProvider::needs_renewal(system_clock::time_point expires, system_clock::time_point now) const noexcept {
  return expires - now < renew_margin_;
}

std::shared_ptr<const Credential> CaCredentialProvider::credential_for(const std::string& user) {
  if (!core::valid_unix_name(user))
    throw core::Failure(core::ErrorKind::forbidden, "not a valid user name for an SSH login",
                        "CaCredentialProvider: refused a user name that fails valid_unix_name");
  // The last line of defence (cluster::Cluster::authorize refuses it, and more, first): the CA
  // never signs for root.
  if (user == "root")
    throw core::Failure(core::ErrorKind::forbidden, "the account 'root' is never reached through the gateway",
                        "CaCredentialProvider: refused to sign for root");
  const auto now = clock_();
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(user); it != cache_.end() && !needs_renewal(it->second->expires, now))
      return it->second;
  }

  // Outside the lock: two threads may both sign for the same user; the later expiry wins.
  std::shared_ptr<const Credential> fresh;
  try {
    fresh = issue(user, now);
  } catch (const std::exception& e) {
    throw core::Failure(core::ErrorKind::internal, "could not issue an SSH certificate",
                        fmt::format("certificate for {}: {}", user, e.what()));
  }

  std::lock_guard lock(mutex_);
  auto& slot = cache_[user];
  if (!slot || slot->expires < fresh->expires) slot = fresh;
  auto result = slot;
  // Forget users whose certificates have lapsed, so the cache holds active users only.
  std::erase_if(cache_, [&](const auto& entry) { return entry.second->expires <= now; });
  return result;
}

std::shared_ptr<const Credential> CaCredentialProvider::issue(const std::string& user, system_clock::time_point now) {
  ssh_key raw = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK || raw == nullptr)
    throw std::runtime_error("cannot generate an ed25519 key pair");
  KeyPtr private_key(raw);

  const auto now_s = std::chrono::floor<seconds>(now).time_since_epoch().count();
  const auto after_s = now_s - kClockSkew.count();
  CertificateFields fields;
  fields.public_key_blob = key_blob(private_key.get());
  fields.serial = next_serial_.fetch_add(1, std::memory_order_relaxed);
  fields.type = CertificateType::user;
  fields.key_id = fmt::format("portico:{}:{}", user, fields.serial);
  fields.principals = {user};
  // Portico only runs commands: no pty, agent, port or X11 forwarding for its certificates, so a
  // leaked certificate cannot open tunnels into the site.
  fields.extensions.clear();
  if (!source_addresses_.empty()) {
    std::string list;
    for (const auto& a : source_addresses_) list += (list.empty() ? "" : ",") + a;
    std::string value;
    wire::put_string(value, list);  // a valued option's data is itself an SSH string
    fields.critical_options.emplace_back("source-address", std::move(value));
  }
  fields.valid_after = after_s > 0 ? static_cast<std::uint64_t>(after_s) : 0;
  fields.valid_before = static_cast<std::uint64_t>(now_s + validity_.count());
  const std::string blob = sign_certificate(fields, ca_);

  raw = nullptr;
  const std::string b64 = wire::base64_encode(blob);
  if (ssh_pki_import_cert_base64(b64.c_str(), SSH_KEYTYPE_ED25519_CERT01, &raw) != SSH_OK || raw == nullptr)
    throw std::runtime_error("libssh refused the certificate just signed");
  KeyPtr certificate(raw);
  if (ssh_pki_copy_cert_to_privkey(certificate.get(), private_key.get()) != SSH_OK)
    throw std::runtime_error("libssh could not attach the certificate to its key");

  auto cred = std::make_shared<Credential>();
  cred->user = user;
  cred->private_key = std::move(private_key);
  cred->certificate = std::move(certificate);
  cred->expires = to_time_point(fields.valid_before);
  cred->key_id = fields.key_id;
  spdlog::info("ssh: issued certificate {} for {}, valid {} to {}", fields.key_id, user, utc(fields.valid_after),
               utc(fields.valid_before));
  return cred;
}

// ---- StaticKeyProvider ----

StaticKeyProvider::StaticKeyProvider(const std::vector<config::StaticKey>& keys, Clock clock)
    : clock_(or_system_clock(std::move(clock))) {
  for (const auto& k : keys) {
    if (!core::valid_unix_name(k.user))
      throw std::runtime_error(fmt::format("static_keys: \"{}\" is not a valid Unix user name", k.user));
    if (by_user_.count(k.user))
      throw std::runtime_error(fmt::format("static_keys: user {} is configured twice", k.user));

    auto cred = std::make_shared<Credential>();
    cred->user = k.user;
    cred->private_key = load_private_key(k.private_key_file);
    if (!k.certificate_file.empty()) {
      read_file(k.certificate_file, "certificate");  // a clear error when unreadable
      ssh_key raw = nullptr;
      if (ssh_pki_import_cert_file(k.certificate_file.c_str(), &raw) != SSH_OK || raw == nullptr)
        throw std::runtime_error(fmt::format("{}: not an OpenSSH certificate libssh can read", k.certificate_file));
      cred->certificate.reset(raw);
      ParsedCertificate parsed;
      try {
        parsed = parse_certificate(key_blob(cred->certificate.get()));
      } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: {}", k.certificate_file, e.what()));
      }
      // libssh 0.10 attaches a certificate to any key of the same type, so compare the keys here.
      if (parsed.fields.public_key_blob != key_blob(cred->private_key.get()) ||
          ssh_pki_copy_cert_to_privkey(cred->certificate.get(), cred->private_key.get()) != SSH_OK)
        throw std::runtime_error(fmt::format("{}: the certificate is not for the key in {}", k.certificate_file,
                                             k.private_key_file));
      const auto& f = parsed.fields;
      if (f.type != CertificateType::user)
        throw std::runtime_error(fmt::format("{}: a host certificate, not a user certificate", k.certificate_file));
      cred->expires = to_time_point(f.valid_before);
      cred->key_id = f.key_id;
      // sshd would refuse these; saying so at start-up is kinder than a failed login later.
      if (std::find(f.principals.begin(), f.principals.end(), k.user) == f.principals.end())
        spdlog::warn("ssh: {}: the certificate does not name user {} among its principals", k.certificate_file, k.user);
      if (cred->expires <= clock_())
        spdlog::warn("ssh: {}: the certificate for {} expired at {}", k.certificate_file, k.user, utc(f.valid_before));
    }
    by_user_.emplace(k.user, Entry{std::move(cred), k.certificate_file});
  }
}

std::shared_ptr<const Credential> StaticKeyProvider::credential_for(const std::string& user) {
  // An invalid name is not echoed: it may be anything a client sent.
  if (!core::valid_unix_name(user))
    throw core::Failure(core::ErrorKind::forbidden, "no SSH credential configured for this user");
  auto it = by_user_.find(user);
  if (it == by_user_.end())
    throw core::Failure(core::ErrorKind::forbidden, fmt::format("no SSH credential configured for user {}", user));
  const auto& cred = it->second.credential;
  if (cred->expires != system_clock::time_point::max() &&
      cred->expires - clock_() < CaCredentialProvider::kMinRemaining)
    throw core::Failure(core::ErrorKind::forbidden, fmt::format("the SSH certificate for user {} has expired", user),
                        fmt::format("{} is (nearly) expired; replace it and restart", it->second.certificate_file));
  return cred;
}

// ---- factory ----

std::unique_ptr<CredentialProvider> make_credential_provider(const config::Config& config) {
  if (config.ssh_ca) {
    const auto& path = config.ssh_ca->private_key_file;
    // Whoever reads or replaces this key can log in as any user of the cluster: it must be
    // Portico's alone, as sshd demands of its own host keys.
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
      throw std::runtime_error(fmt::format("cannot read the CA key {}: {}", path, std::strerror(errno)));
    if (st.st_uid != ::geteuid())
      throw std::runtime_error(fmt::format("the CA key {} must be owned by the user Portico runs as (uid {}), not uid {}",
                                           path, ::geteuid(), st.st_uid));
    if (st.st_mode & 077)
      throw std::runtime_error(fmt::format(
          "the CA key {} is accessible by group or others (mode {:o}): it would let them log in as anyone; chmod 600 it",
          path, st.st_mode & 0777));
    auto key = SigningKey::from_file(path);
    spdlog::info("ssh: signing user certificates with CA {} ({})", key.fingerprint(), path);
    return std::make_unique<CaCredentialProvider>(std::move(key), config.ssh_ca->cert_validity, Clock{},
                                                  config.ssh_ca->source_addresses);
  }
  if (!config.static_keys.empty()) return std::make_unique<StaticKeyProvider>(config.static_keys);
  throw std::runtime_error("no SSH credentials configured: set ssh_ca or static_keys");
}

}  // namespace portico::ssh
