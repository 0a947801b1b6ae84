#include "scheduler/slurm_token.hpp"

#include "core/error.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>

using namespace portico::scheduler;

namespace {

// Independent of the code under test: OpenSSL's base64 decoder after undoing the url alphabet.
std::string b64url_decode(std::string s) {
  for (auto& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  EXPECT_GE(n, 0);
  std::size_t pad = s.size() - s.find_last_not_of('=') - 1;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  EXPECT_TRUE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                        reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, sizeof mac, &len));
  return std::string(reinterpret_cast<const char*>(mac), len);
}

}  // namespace

TEST(SlurmToken, Base64urlHasNoPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff\xfe"), "-__-");
}

TEST(SlurmToken, MintsAnHs256TokenSlurmAccepts) {
  std::string key = std::string("k\0e\xffy", 5) + std::string(27, 'x');
  SlurmTokenMinter minter(key, std::chrono::seconds(180));
  auto token = minter.mint("alice", 1'700'000'000);
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  ASSERT_NE(dot2, std::string::npos);
  EXPECT_EQ(token.find('='), std::string::npos);
  auto header = boost::json::parse(b64url_decode(token.substr(0, dot1))).as_object();
  EXPECT_EQ(header.at("alg").as_string(), "HS256");
  auto claims = boost::json::parse(b64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1))).as_object();
  EXPECT_EQ(claims.at("sun").as_string(), "alice");
  EXPECT_EQ(claims.at("iat").as_int64(), 1'700'000'000);
  EXPECT_EQ(claims.at("exp").as_int64(), 1'700'000'180);
  auto signature = b64url_decode(token.substr(dot2 + 1));
  EXPECT_EQ(signature, hmac_sha256(key, token.substr(0, dot2)));
  EXPECT_NE(signature, hmac_sha256(key + "!", token.substr(0, dot2)));
  // Another user or time gives another token.
  EXPECT_NE(minter.mint("bob", 1'700'000'000), token);
}

TEST(SlurmToken, KeyIsTheFilesBytes) {
  auto path = ::testing::TempDir() + "/jwt.key";
  std::string key("\x01\x02\n\x00\xfe", 5);
  std::ofstream(path, std::ios::binary) << key;
  auto minted = SlurmTokenMinter::from_file(path).mint("alice", 1);
  EXPECT_EQ(minted, SlurmTokenMinter(key, std::chrono::minutes(5)).mint("alice", 1));
  std::ofstream(path, std::ios::binary | std::ios::trunc);
  EXPECT_THROW(SlurmTokenMinter::from_file(path), portico::core::Failure);
  EXPECT_THROW(SlurmTokenMinter::from_file(path + ".missing"), portico::core::Failure);
  std::remove(path.c_str());
}
