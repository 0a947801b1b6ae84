#include "ssh/openssh_key.hpp"
#include "ssh/test_support.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
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

std::string keygen(const TempDir& dir, const std::string& name, const std::string& args) {
  std::string path = dir / name;
  auto r = run("ssh-keygen -q " + args + " -C test-comment -f " + path);
  if (r.status != 0) throw std::runtime_error("ssh-keygen failed: " + r.text);
  return path;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Wire, Base64MatchesRfc4648) {
  EXPECT_EQ(wire::base64_encode(""), "");
  EXPECT_EQ(wire::base64_encode("f"), "Zg==");
  EXPECT_EQ(wire::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(wire::base64_encode("foo"), "Zm9v");
  EXPECT_EQ(wire::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(wire::base64_decode("Zm9v\nYmE="), "fooba");
  EXPECT_EQ(wire::base64_decode("Zg=="), "f");
  EXPECT_THROW(wire::base64_decode("Zm9v!"), std::runtime_error);
  EXPECT_THROW(wire::base64_decode("Z"), std::runtime_error);
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(wire::base64_decode(wire::base64_encode(all)), all);
}

TEST(Wire, EncodesIntegersStringsAndMpints) {
  std::string out;
  wire::put_u32(out, 0x01020304);
  wire::put_u64(out, 0x05060708090a0b0cULL);
  wire::put_string(out, "ab");
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\0\0\0\x02" "ab", 18));

  auto mpint = [](std::string magnitude) {
    std::string o;
    wire::put_mpint(o, magnitude);
    return o;
  };
  EXPECT_EQ(mpint(std::string("\0\0", 2)), std::string("\0\0\0\0", 4));
  EXPECT_EQ(mpint("\x7f"), std::string("\0\0\0\x01\x7f", 5));
  EXPECT_EQ(mpint("\x80"), std::string("\0\0\0\x02\0\x80", 6));
  EXPECT_EQ(mpint(std::string("\0\x80\x01", 3)), std::string("\0\0\0\x03\0\x80\x01", 7));

  wire::Reader r(out);
  EXPECT_EQ(r.u32(), 0x01020304u);
  EXPECT_EQ(r.u64(), 0x05060708090a0b0cULL);
  EXPECT_EQ(r.string(), "ab");
  EXPECT_TRUE(r.empty());
  EXPECT_THROW(r.u32(), std::runtime_error);
  const std::string short_string("\0\0\0\x09" "ab", 6);  // claims 9 bytes, has 2
  wire::Reader lying(short_string);
  EXPECT_THROW(lying.string(), std::runtime_error);
}

TEST(SigningKey, ReadsAnEd25519KeyFromSshKeygen) {
  TempDir dir;
  auto path = keygen(dir, "ca", "-t ed25519 -N ''");
  auto key = SigningKey::from_file(path);
  EXPECT_EQ(key.algorithm(), "ssh-ed25519");
  EXPECT_EQ(key.comment(), "test-comment");
  EXPECT_EQ(key.public_key_blob(), pub_blob(path + ".pub"));
  EXPECT_EQ(key.fingerprint(), ssh_keygen_fingerprint(path + ".pub"));

  // The signature is RFC 8709's: string "ssh-ed25519", string 64-byte signature that verifies.
  const std::string data = "data to sign";
  const std::string signature = key.sign(data);
  wire::Reader sig(signature);
  EXPECT_EQ(sig.string(), "ssh-ed25519");
  auto raw_sig = sig.string();
  ASSERT_EQ(raw_sig.size(), 64u);
  EXPECT_TRUE(sig.empty());
  wire::Reader pub(key.public_key_blob());
  pub.string();
  auto raw_pub = pub.string();
  EVP_PKEY* pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                             reinterpret_cast<const unsigned char*>(raw_pub.data()), raw_pub.size());
  ASSERT_NE(pk, nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pk), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(raw_sig.data()), raw_sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pk);
}

TEST(SigningKey, ReadsAnEcdsaP256KeyFromSshKeygen) {
  TempDir dir;
  auto path = keygen(dir, "ca", "-t ecdsa -b 256 -N ''");
  auto key = SigningKey::from_file(path);
  EXPECT_EQ(key.algorithm(), "ecdsa-sha2-nistp256");
  EXPECT_EQ(key.public_key_blob(), pub_blob(path + ".pub"));
  EXPECT_EQ(key.fingerprint(), ssh_keygen_fingerprint(path + ".pub"));
  const std::string signature = key.sign("x");
  wire::Reader sig(signature);
  EXPECT_EQ(sig.string(), "ecdsa-sha2-nistp256");
  wire::Reader inner(sig.string());
  auto r = inner.string();
  auto s = inner.string();
  EXPECT_TRUE(inner.empty());
  EXPECT_LE(r.size(), 33u);
  EXPECT_LE(s.size(), 33u);
}

TEST(SigningKey, RefusesAnEncryptedKeyNamingTheFile) {
  TempDir dir;
  auto path = keygen(dir, "ca", "-t ed25519 -N 'a passphrase'");
  auto message = error_of([&] { SigningKey::from_file(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("encrypted"), std::string::npos) << message;
}

TEST(SigningKey, RefusesOtherKeyTypesAndFormats) {
  TempDir dir;
  auto rsa = keygen(dir, "rsa", "-t rsa -b 2048 -N ''");
  auto message = error_of([&] { SigningKey::from_file(rsa); });
  EXPECT_NE(message.find(rsa), std::string::npos) << message;
  EXPECT_NE(message.find("unsupported key type \"ssh-rsa\""), std::string::npos) << message;

  auto pem = keygen(dir, "pem", "-t ecdsa -m PEM -N ''");
  message = error_of([&] { SigningKey::from_file(pem); });
  EXPECT_NE(message.find(pem), std::string::npos) << message;
  EXPECT_NE(message.find("not an OpenSSH-format private key"), std::string::npos) << message;

  auto missing = dir / "missing";
  message = error_of([&] { SigningKey::from_file(missing); });
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  EXPECT_NE(message.find("No such file"), std::string::npos) << message;
}

TEST(SigningKey, RefusesCorruptKeys) {
  TempDir dir;
  auto path = keygen(dir, "ca", "-t ed25519 -N ''");
  std::string text = slurp(path);
  // Cut the body short: the private section no longer parses.
  auto cut = text;
  cut.erase(cut.find('\n', 60), 150);
  EXPECT_THROW(SigningKey::from_openssh(cut, "cut"), std::runtime_error);
  EXPECT_NE(error_of([&] { SigningKey::from_openssh(cut, "cut-key"); }).find("cut-key:"), std::string::npos);
  EXPECT_THROW(SigningKey::from_openssh("", "empty"), std::runtime_error);
  EXPECT_THROW(SigningKey::from_openssh("-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n-----END OPENSSH PRIVATE KEY-----\n",
                                        "junk"),
               std::runtime_error);

  // A private key whose public half belongs to another key.
  auto other = keygen(dir, "other", "-t ed25519 -N ''");
  auto blob_a = wire::base64_decode(text.substr(36, text.find("-----END") - 36));
  auto pub_a = pub_blob(path + ".pub");
  auto pub_b = pub_blob(other + ".pub");
  auto at = blob_a.find(pub_a);
  ASSERT_NE(at, std::string::npos);
  blob_a.replace(at, pub_a.size(), pub_b);  // the outer public key now disagrees with the private section
  std::string forged = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + wire::base64_encode(blob_a) +
                       "\n-----END OPENSSH PRIVATE KEY-----\n";
  auto message = error_of([&] { SigningKey::from_openssh(forged, "forged"); });
  EXPECT_NE(message.find("does not match"), std::string::npos) << message;
}
