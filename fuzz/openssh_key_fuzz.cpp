// OpenSSH keys and certificates (ssh/openssh_key.hpp, ssh/certificate.hpp): the CA key file the
// gateway signs with, certificate files read back, and the base64 of both.
// Input: one byte choosing the reader, then the key file's text, the certificate blob or base64.
// A key that is read signs a certificate for itself; a certificate that is read is signed again
// with the target's CA and reads back the same.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "ssh/certificate.hpp"
#include "ssh/openssh_key.hpp"

namespace ssh = portico::ssh;

namespace {

// A test CA made for this target with ssh-keygen; it signs nothing but fuzz inputs.
constexpr std::string_view kCaKey = R"(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACB3XQ9/zKX3242aIACaBuOR25u3fvLiaLysPAU9Bbb/pgAAAJCmgTSgpoE0
oAAAAAtzc2gtZWQyNTUxOQAAACB3XQ9/zKX3242aIACaBuOR25u3fvLiaLysPAU9Bbb/pg
AAAEBHcEIYBQ01MsfDpcuoQthD9LHvGpjpt14xwkSzKEf0x3ddD3/MpffbjZogAJoG45Hb
m7d+8uJovKw8BT0Ftv+mAAAAB2Z1enotY2EBAgMEBQY=
-----END OPENSSH PRIVATE KEY-----
)";

const ssh::SigningKey& ca() {
  static const ssh::SigningKey key = ssh::SigningKey::from_openssh(kCaKey, "fuzz CA");
  return key;
}

std::vector<ssh::CertificateOption> sorted(std::vector<ssh::CertificateOption> options) {
  std::sort(options.begin(), options.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return options;
}

void check_key(std::string_view text) {
  std::optional<ssh::SigningKey> key;
  try {
    key = ssh::SigningKey::from_openssh(text, "fuzz input");
  } catch (const std::runtime_error&) {
    return;
  }
  FUZZ_CHECK(key->algorithm() == "ssh-ed25519" || key->algorithm() == "ecdsa-sha2-nistp256");
  FUZZ_CHECK(key->fingerprint().starts_with("SHA256:"));
  FUZZ_CHECK(!key->sign("data").empty());
  // The key's public half is what a certificate certifies.
  ssh::CertificateFields fields;
  fields.public_key_blob = key->public_key_blob();
  fields.principals = {"alice"};
  fields.valid_after = 1;
  fields.valid_before = 2;
  const auto parsed = ssh::parse_certificate(ssh::sign_certificate(fields, ca()));
  FUZZ_CHECK(parsed.fields.public_key_blob == key->public_key_blob());
}

void check_certificate(std::string_view blob) {
  ssh::ParsedCertificate c;
  try {
    c = ssh::parse_certificate(blob);
  } catch (const std::runtime_error&) {
    return;
  }
  std::string again;
  try {
    again = ssh::sign_certificate(c.fields, ca());
  } catch (const std::logic_error&) {  // fields OpenSSH would misread: no principal, empty window, ...
    return;
  } catch (const std::runtime_error&) {
    return;
  }
  const auto d = ssh::parse_certificate(again);
  FUZZ_CHECK(d.algorithm == c.algorithm);
  FUZZ_CHECK(d.fields.public_key_blob == c.fields.public_key_blob);
  FUZZ_CHECK(c.fields.nonce.empty() || d.fields.nonce == c.fields.nonce);
  FUZZ_CHECK(d.fields.serial == c.fields.serial && d.fields.type == c.fields.type);
  FUZZ_CHECK(d.fields.key_id == c.fields.key_id && d.fields.principals == c.fields.principals);
  FUZZ_CHECK(d.fields.valid_after == c.fields.valid_after && d.fields.valid_before == c.fields.valid_before);
  FUZZ_CHECK(d.fields.critical_options == sorted(c.fields.critical_options));
  FUZZ_CHECK(d.fields.extensions == sorted(c.fields.extensions));
  FUZZ_CHECK(d.signature_key == ca().public_key_blob());
  ssh::certificate_line(again, "comment");
}

void check_base64(std::string_view text) {
  std::string bytes;
  try {
    bytes = ssh::wire::base64_decode(text);
  } catch (const std::runtime_error&) {
    return;
  }
  FUZZ_CHECK(ssh::wire::base64_decode(ssh::wire::base64_encode(bytes)) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: check_key(text); break;
    case 1: check_certificate(text); break;
    case 2: check_base64(text); break;
  }
  return 0;
}
