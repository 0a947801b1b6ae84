#include "ssh/certificate.hpp"

#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace portico::ssh {

namespace {

// The public key types OpenSSH certifies, and how many wire fields follow the type name in the
// plain public key blob (the certificate carries the same fields after its nonce).
struct KeyType {
  std::string_view plain;
  std::string_view cert;
  int fields;
};
constexpr std::array<KeyType, 8> kKeyTypes{{
    {"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", 1},
    {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com", 2},
    {"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com", 2},
    {"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com", 2},
    {"ssh-rsa", "ssh-rsa-cert-v01@openssh.com", 2},
    {"ssh-dss", "ssh-dss-cert-v01@openssh.com", 4},
    {"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", 3},
    {"sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com", 2},
}};

const KeyType* by_plain(std::string_view name) {
  for (const auto& t : kKeyTypes)
    if (t.plain == name) return &t;
  return nullptr;
}

const KeyType* by_cert(std::string_view name) {
  for (const auto& t : kKeyTypes)
    if (t.cert == name) return &t;
  return nullptr;
}

std::string encode_options(std::vector<CertificateOption> options, const char* what) {
  std::sort(options.begin(), options.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (options[i].first.empty()) throw std::invalid_argument(fmt::format("certificate {}: empty name", what));
    if (i > 0 && options[i].first == options[i - 1].first)
      throw std::invalid_argument(fmt::format("certificate {}: \"{}\" given twice", what, options[i].first));
    wire::put_string(out, options[i].first);
    wire::put_string(out, options[i].second);
  }
  return out;
}

std::vector<CertificateOption> decode_options(std::string_view packed) {
  std::vector<CertificateOption> out;
  wire::Reader r(packed);
  while (!r.empty()) {
    std::string name(r.string());
    out.emplace_back(std::move(name), std::string(r.string()));
  }
  return out;
}

}  // namespace

std::vector<CertificateOption> default_user_extensions() {
  return {{"permit-X11-forwarding", ""},
          {"permit-agent-forwarding", ""},
          {"permit-port-forwarding", ""},
          {"permit-pty", ""},
          {"permit-user-rc", ""}};
}

std::string certificate_algorithm(std::string_view key_algorithm) {
  if (const auto* t = by_plain(key_algorithm)) return std::string(t->cert);
  throw std::invalid_argument(fmt::format("no OpenSSH certificate type for \"{}\" keys", key_algorithm));
}

std::string sign_certificate(const CertificateFields& f, const SigningKey& ca) {
  if (f.principals.empty())
    throw std::invalid_argument("a certificate without principals would be valid for every account");
  for (const auto& p : f.principals)
    if (p.empty()) throw std::invalid_argument("empty certificate principal");
  if (f.valid_after >= f.valid_before) throw std::invalid_argument("certificate valid_after must precede valid_before");

  wire::Reader key(f.public_key_blob);
  const KeyType* type = nullptr;
  std::string_view key_fields;
  try {
    type = by_plain(key.string());
    if (type) {
      key_fields = key.rest();
      for (int i = 0; i < type->fields; ++i) key.string();
    }
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("malformed public key blob");
  }
  if (!type) throw std::invalid_argument("the public key's type cannot be certified");
  if (!key.empty()) throw std::invalid_argument("trailing data after the public key");

  std::string nonce = f.nonce;
  if (nonce.empty()) {
    nonce.resize(32);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), static_cast<int>(nonce.size())) != 1)
      throw std::runtime_error("no random bytes for the certificate nonce");
  }

  std::string principals;
  for (const auto& p : f.principals) wire::put_string(principals, p);

  std::string out;
  wire::put_string(out, type->cert);
  wire::put_string(out, nonce);
  out.append(key_fields);
  wire::put_u64(out, f.serial);
  wire::put_u32(out, static_cast<std::uint32_t>(f.type));
  wire::put_string(out, f.key_id);
  wire::put_string(out, principals);
  wire::put_u64(out, f.valid_after);
  wire::put_u64(out, f.valid_before);
  wire::put_string(out, encode_options(f.critical_options, "critical option"));
  wire::put_string(out, encode_options(f.extensions, "extension"));
  wire::put_string(out, "");  // reserved
  wire::put_string(out, ca.public_key_blob());
  // The signature covers every field above, the CA key included.
  wire::put_string(out, ca.sign(out));
  return out;
}

ParsedCertificate parse_certificate(std::string_view blob) {
  try {
    wire::Reader r(blob);
    ParsedCertificate c;
    c.algorithm = std::string(r.string());
    const KeyType* type = by_cert(c.algorithm);
    if (!type) throw std::runtime_error(fmt::format("unknown certificate type \"{}\"", c.algorithm));
    auto& f = c.fields;
    f.nonce = std::string(r.string());
    wire::put_string(f.public_key_blob, type->plain);
    auto before = r.rest();
    for (int i = 0; i < type->fields; ++i) r.string();
    f.public_key_blob.append(before.substr(0, before.size() - r.remaining()));
    f.serial = r.u64();
    f.type = static_cast<CertificateType>(r.u32());
    f.key_id = std::string(r.string());
    for (wire::Reader p(r.string()); !p.empty();) f.principals.emplace_back(p.string());
    f.valid_after = r.u64();
    f.valid_before = r.u64();
    f.critical_options = decode_options(r.string());
    f.extensions = decode_options(r.string());
    r.string();  // reserved
    c.signature_key = std::string(r.string());
    c.signature = std::string(r.string());
    if (!r.empty()) throw std::runtime_error("trailing data after the signature");
    return c;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("malformed OpenSSH certificate: {}", e.what()));
  }
}

std::string certificate_line(std::string_view blob, std::string_view comment) {
  wire::Reader r(blob);
  std::string line(r.string());
  line += ' ';
  line += wire::base64_encode(blob);
  if (!comment.empty()) {
    line += ' ';
    line += comment;
  }
  return line;
}

}  // namespace portico::ssh
