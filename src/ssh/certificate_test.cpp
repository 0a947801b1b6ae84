#include "ssh/certificate.hpp"
#include "ssh/test_support.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace portico::ssh;
namespace fs = std::filesystem;

namespace {

using portico::ssh::testing::Output;
using portico::ssh::testing::run;
using portico::ssh::testing::TempDir;
using portico::ssh::testing::pub_blob;
using portico::ssh::testing::slurp;
using portico::ssh::testing::ssh_keygen_fingerprint;

std::string keygen(const TempDir& dir, const std::string& name, const std::string& type) {
  std::string path = dir / name;
  auto r = run("ssh-keygen -q -N '' " + type + " -C " + name + " -f " + path);
  if (r.status != 0) throw std::runtime_error("ssh-keygen failed: " + r.text);
  return path;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text << "\n"; }

constexpr std::uint64_t k2030 = 1893456000;  // 2030-01-01T00:00:00Z

CertificateFields alice_fields(const std::string& user_pub) {
  CertificateFields f;
  f.public_key_blob = pub_blob(user_pub);
  f.serial = 7;
  f.key_id = "portico:alice:7";
  f.principals = {"alice"};
  f.valid_after = k2030;
  f.valid_before = k2030 + 300;
  return f;
}

}  // namespace

TEST(Certificate, ByteForByteWhatSshKeygenSigns) {
  // ed25519 signatures are deterministic, so with ssh-keygen's nonce our encoder must
  // reproduce its certificate exactly.
  TempDir dir;
  auto ca = keygen(dir, "ca", "-t ed25519");
  auto user = keygen(dir, "user", "-t ed25519");
  auto r = run("TZ=UTC ssh-keygen -q -s " + ca + " -I id-1 -n alice,bob -z 42 -V 20300101000000:20300102000000 " +
               user + ".pub");
  ASSERT_EQ(r.status, 0) << r.text;
  auto reference = pub_blob(user + "-cert.pub");

  auto parsed = parse_certificate(reference);
  EXPECT_EQ(parsed.algorithm, "ssh-ed25519-cert-v01@openssh.com");
  const auto& f = parsed.fields;
  EXPECT_EQ(f.public_key_blob, pub_blob(user + ".pub"));
  EXPECT_EQ(f.nonce.size(), 32u);
  EXPECT_EQ(f.serial, 42u);
  EXPECT_EQ(f.type, CertificateType::user);
  EXPECT_EQ(f.key_id, "id-1");
  EXPECT_EQ(f.principals, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(f.valid_after, k2030);
  EXPECT_EQ(f.valid_before, k2030 + 86400);
  EXPECT_TRUE(f.critical_options.empty());
  EXPECT_EQ(f.extensions, default_user_extensions());
  EXPECT_EQ(parsed.signature_key, pub_blob(ca + ".pub"));

  EXPECT_EQ(sign_certificate(f, SigningKey::from_file(ca)), reference);
}

TEST(Certificate, SshKeygenReadsOursWithTheRightFields) {
  TempDir dir;
  auto ca = keygen(dir, "ca", "-t ed25519");
  auto user = keygen(dir, "user", "-t ed25519");
  auto blob = sign_certificate(alice_fields(user + ".pub"), SigningKey::from_file(ca));
  auto cert = dir / "user-cert.pub";
  write(cert, certificate_line(blob, "portico"));

  auto r = run("TZ=UTC ssh-keygen -L -f " + cert);
  ASSERT_EQ(r.status, 0) << r.text;
  const auto& out = r.text;
  EXPECT_NE(out.find("Type: ssh-ed25519-cert-v01@openssh.com user certificate"), std::string::npos) << out;
  EXPECT_NE(out.find("Public key: ED25519-CERT " + ssh_keygen_fingerprint(user + ".pub")), std::string::npos) << out;
  EXPECT_NE(out.find("Signing CA: ED25519 " + ssh_keygen_fingerprint(ca + ".pub")), std::string::npos) << out;
  EXPECT_NE(out.find("Key ID: \"portico:alice:7\""), std::string::npos) << out;
  EXPECT_NE(out.find("Serial: 7"), std::string::npos) << out;
  EXPECT_NE(out.find("Valid: from 2030-01-01T00:00:00 to 2030-01-01T00:05:00"), std::string::npos) << out;
  EXPECT_NE(out.find("Principals: \n                alice\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Critical Options: (none)"), std::string::npos) << out;
  for (const char* ext : {"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty",
                          "permit-user-rc"})
    EXPECT_NE(out.find(std::string("                ") + ext + "\n"), std::string::npos) << ext << "\n" << out;

  // ssh-keygen checks the CA signature when it loads a certificate: a changed byte is refused.
  auto tampered = blob;
  tampered[tampered.find("portico:alice:7")] = 'P';
  write(cert, certificate_line(tampered));
  EXPECT_NE(run("ssh-keygen -L -f " + cert).status, 0);
}

TEST(Certificate, EcdsaCaAndEcdsaUserKey) {
  TempDir dir;
  auto ca = keygen(dir, "ca", "-t ecdsa -b 256");
  auto user = keygen(dir, "user", "-t ecdsa -b 256");
  auto blob = sign_certificate(alice_fields(user + ".pub"), SigningKey::from_file(ca));
  auto cert = dir / "user-cert.pub";
  write(cert, certificate_line(blob));
  auto r = run("TZ=UTC ssh-keygen -L -f " + cert);
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate"), std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("Signing CA: ECDSA " + ssh_keygen_fingerprint(ca + ".pub") + " (using ecdsa-sha2-nistp256)"),
            std::string::npos)
      << r.text;
}

TEST(Certificate, WritesOptionsInLexicalOrder) {
  TempDir dir;
  auto ca = keygen(dir, "ca", "-t ed25519");
  auto user = keygen(dir, "user", "-t ed25519");
  auto f = alice_fields(user + ".pub");
  f.extensions = {{"permit-pty", ""}, {"permit-X11-forwarding", ""}};
  std::string command;
  wire::put_string(command, "/bin/true");
  f.critical_options = {{"source-address", std::string("\0\0\0\x09" "127.0.0.1", 13)}, {"force-command", command}};
  auto parsed = parse_certificate(sign_certificate(f, SigningKey::from_file(ca)));
  ASSERT_EQ(parsed.fields.extensions.size(), 2u);
  EXPECT_EQ(parsed.fields.extensions[0].first, "permit-X11-forwarding");
  ASSERT_EQ(parsed.fields.critical_options.size(), 2u);
  EXPECT_EQ(parsed.fields.critical_options[0], (CertificateOption{"force-command", command}));
  EXPECT_EQ(parsed.fields.critical_options[1].first, "source-address");
}

TEST(Certificate, RefusesFieldsOpenSshWouldMisread) {
  TempDir dir;
  auto ca_path = keygen(dir, "ca", "-t ed25519");
  auto user = keygen(dir, "user", "-t ed25519");
  auto ca = SigningKey::from_file(ca_path);
  auto f = alice_fields(user + ".pub");

  auto no_principals = f;
  no_principals.principals.clear();  // would be valid for every account
  EXPECT_THROW(sign_certificate(no_principals, ca), std::invalid_argument);
  auto backwards = f;
  backwards.valid_before = backwards.valid_after;
  EXPECT_THROW(sign_certificate(backwards, ca), std::invalid_argument);
  auto twice = f;
  twice.extensions.push_back({"permit-pty", ""});
  EXPECT_THROW(sign_certificate(twice, ca), std::invalid_argument);
  auto bad_key = f;
  bad_key.public_key_blob = "garbage";
  EXPECT_THROW(sign_certificate(bad_key, ca), std::invalid_argument);
  auto unknown_type = f;
  unknown_type.public_key_blob.clear();
  wire::put_string(unknown_type.public_key_blob, "ssh-unknown");
  EXPECT_THROW(sign_certificate(unknown_type, ca), std::invalid_argument);

  EXPECT_THROW(parse_certificate("garbage"), std::runtime_error);
  EXPECT_THROW(parse_certificate(pub_blob(user + ".pub")), std::runtime_error);  // a plain key
  auto truncated = sign_certificate(f, ca);
  truncated.pop_back();
  EXPECT_THROW(parse_certificate(truncated), std::runtime_error);
  EXPECT_EQ(certificate_algorithm("ssh-ed25519"), "ssh-ed25519-cert-v01@openssh.com");
  EXPECT_THROW(certificate_algorithm("ssh-ed448"), std::invalid_argument);
}
