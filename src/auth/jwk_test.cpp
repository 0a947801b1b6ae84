#include "auth/jwk.hpp"
#include "auth/test_tokens.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

using namespace portico::auth;
using namespace portico::auth::testing;
namespace json = boost::json;

namespace {

}  // namespace

TEST(Jwk, ParsesRsaEcAndEd25519KeysWithTheirFields) {
  auto set = parse_jwks(jwks({public_jwk(rsa(), true), public_jwk(ec()), public_jwk(ed())}));
  ASSERT_EQ(set.keys.size(), 3u);
  EXPECT_EQ(set.skipped, 0u);
  EXPECT_EQ(set.keys[0].kid, "rsa-1");
  EXPECT_EQ(set.keys[0].kty, "RSA");
  EXPECT_EQ(set.keys[0].alg, "RS256");
  EXPECT_EQ(set.keys[0].use, "sig");
  EXPECT_EQ(set.keys[0].type, KeyType::rsa);
  EXPECT_EQ(EVP_PKEY_get_bits(set.keys[0].key.get()), 2048);
  EXPECT_EQ(set.keys[1].type, KeyType::ec_p256);
  EXPECT_EQ(set.keys[1].alg, "");
  EXPECT_EQ(set.keys[2].type, KeyType::ed25519);
  EXPECT_EQ(set.keys[2].kty, "OKP");
  // The imported public keys are the same keys as the generated ones.
  for (std::size_t i = 0; i < 3; ++i) {
    const TestKey& original = i == 0 ? rsa() : i == 1 ? ec() : ed();
    EXPECT_EQ(EVP_PKEY_eq(set.keys[i].key.get(), original.pkey.get()), 1) << i;
  }
}

TEST(Jwk, SkipsAndCountsKeysItCannotUse) {
  auto enc = public_jwk(rsa());
  enc["use"] = "enc";
  auto p384 = public_jwk(ec());
  p384["crv"] = "P-384";
  auto x25519 = public_jwk(ed());
  x25519["crv"] = "X25519";
  json::object oct{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}};
  auto weak = public_jwk(make_key("RS256", "weak", 1024));
  auto bad_point = public_jwk(ec());
  bad_point["y"] = base64url_encode(std::string(32, '\x01'));  // not on the curve
  auto short_x = public_jwk(ed());
  short_x["x"] = base64url_encode("short");
  auto bad_base64 = public_jwk(rsa());
  bad_base64["n"] = "not base64!";
  auto encrypt_ops = public_jwk(ec());
  encrypt_ops["key_ops"] = json::array{"encrypt"};
  json::object no_kty{{"kid", "x"}};
  auto set = parse_jwks(jwks({enc, p384, x25519, oct, weak, bad_point, short_x, bad_base64, encrypt_ops, no_kty,
                              public_jwk(ed())}));
  ASSERT_EQ(set.keys.size(), 1u);
  EXPECT_EQ(set.keys[0].kid, "ed-1");
  EXPECT_EQ(set.skipped, 10u);
  ASSERT_EQ(set.skip_reasons.size(), 10u);
  EXPECT_NE(set.skip_reasons[0].find("use \"enc\""), std::string::npos) << set.skip_reasons[0];
  EXPECT_NE(set.skip_reasons[1].find("P-384"), std::string::npos) << set.skip_reasons[1];
  EXPECT_NE(set.skip_reasons[3].find("(kid \"hmac\")"), std::string::npos) << set.skip_reasons[3];
  EXPECT_NE(set.skip_reasons[4].find("1024 bits"), std::string::npos) << set.skip_reasons[4];
  EXPECT_NE(set.skip_reasons[5].find("invalid"), std::string::npos) << set.skip_reasons[5];  // off the curve
}

TEST(Jwk, KeyWithoutUseOrKidIsKept) {
  auto jwk = public_jwk(rsa());
  jwk.erase("use");
  jwk.erase("kid");
  auto set = parse_jwks(jwks({jwk}));
  ASSERT_EQ(set.keys.size(), 1u);
  EXPECT_EQ(set.keys[0].kid, "");
  EXPECT_EQ(set.keys[0].use, "");
}

TEST(Jwk, MalformedDocumentIsAnError) {
  for (const char* doc : {"", "not json", "[]", "{}", R"({"keys":{}})", R"({"keys":"x"})"})
    EXPECT_THROW(parse_jwks(std::string_view(doc)), portico::core::Failure) << doc;
  EXPECT_EQ(parse_jwks(std::string_view(R"({"keys":[]})")).keys.size(), 0u);
}

TEST(Jwk, RsaKeyFailingPublicKeyValidationIsSkipped) {
  auto even_exponent = public_jwk(rsa());
  even_exponent["e"] = base64url_encode(std::string("\x01\x00\x00", 3));  // 65536: even
  auto set = parse_jwks(jwks({even_exponent}));
  EXPECT_TRUE(set.keys.empty());
  ASSERT_EQ(set.skip_reasons.size(), 1u);
  EXPECT_NE(set.skip_reasons[0].find("failed validation"), std::string::npos) << set.skip_reasons[0];
}
