#include "auth/jwt.hpp"
#include "auth/test_tokens.hpp"

#include <gtest/gtest.h>

using namespace portico::auth;
using namespace portico::auth::testing;
namespace json = boost::json;
using std::chrono::seconds;

namespace {

class Jwt : public ::testing::Test {
 protected:
  const std::chrono::system_clock::time_point now{seconds(1'700'000'000)};
  JwtOptions options{"https://idp.test", {"https://portico.test/api", "other-api"}, seconds(30), 16 * 1024};
  KeySet keys = parse_jwks(jwks({public_jwk(rsa()), public_jwk(ec()), public_jwk(ed())}));

  JwtResult verify(const std::string& token) { return verify_jwt(token, keys, options, now); }

  // Checks the refusal and that its message does not echo the token or its payload.
  void expect_refused(const std::string& token, JwtError error) {
    auto r = verify(token);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(to_string(r.error), std::string(to_string(error))) << r.message;
    EXPECT_FALSE(r.message.empty());
    for (std::string_view part : split(token))
      if (part.size() > 8) {
        EXPECT_EQ(r.message.find(part), std::string::npos) << r.message;
      }
  }

  static std::vector<std::string_view> split(std::string_view token) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t dot; (dot = token.find('.', start)) != std::string_view::npos; start = dot + 1)
      parts.push_back(token.substr(start, dot - start));
    parts.push_back(token.substr(start));
    return parts;
  }

  json::object claims() { return good_claims(now); }
};

}  // namespace

TEST_F(Jwt, AcceptsValidRs256Es256AndEdDsaTokens) {
  for (const TestKey* key : {&rsa(), &ec(), &ed()}) {
    auto r = verify(sign_token(*key, claims()));
    ASSERT_TRUE(r.ok()) << key->alg << ": " << r.message;
    EXPECT_EQ(r.claims->at("preferred_username").as_string(), "alice");
    EXPECT_EQ(r.claims->at("sub").as_string(), "subject-1");
  }
}

TEST_F(Jwt, RefusesAlgNone) {
  std::string token = encode_json({{"alg", "none"}, {"kid", "rsa-1"}}) + "." + encode_json(claims()) + ".";
  expect_refused(token, JwtError::unsupported_algorithm);
  expect_refused(encode_json({{"alg", "none"}}) + "." + encode_json(claims()) + ".", JwtError::unsupported_algorithm);
}

TEST_F(Jwt, RefusesHs256MacedWithTheRsaPublicKey) {
  const auto pem = public_key_pem(rsa());
  expect_refused(sign_hs256(pem, claims(), {{"kid", "rsa-1"}}), JwtError::unsupported_algorithm);
  expect_refused(sign_hs256(pem, claims(), {}), JwtError::unsupported_algorithm);
}

TEST_F(Jwt, RefusesAlgorithmsOutsideTheAllowList) {
  for (const char* alg : {"HS256", "HS384", "HS512", "RS384", "RS512", "PS256", "PS384", "PS512", "ES384", "ES512",
                          "rs256", "Ed25519", ""}) {
    // Signed with the RSA key as RS256, relabelled: the label alone must be refused.
    auto token = sign_token(rsa(), claims(), {{"alg", alg}, {"kid", "rsa-1"}});
    expect_refused(token, JwtError::unsupported_algorithm);
  }
}

TEST_F(Jwt, RefusesAlgorithmThatDoesNotFitTheKey) {
  // ES256 signature under the kid of the RSA key, and every other pairing.
  expect_refused(sign_token(ec(), claims(), {{"kid", "rsa-1"}}), JwtError::unsupported_algorithm);
  expect_refused(sign_token(rsa(), claims(), {{"kid", "ec-1"}}), JwtError::unsupported_algorithm);
  expect_refused(sign_token(rsa(), claims(), {{"kid", "ed-1"}}), JwtError::unsupported_algorithm);
  expect_refused(sign_token(ed(), claims(), {{"kid", "ec-1"}}), JwtError::unsupported_algorithm);
  auto r = verify(sign_token(ec(), claims(), {{"kid", "rsa-1"}}));
  EXPECT_NE(r.message.find("does not match the RSA key"), std::string::npos) << r.message;
}

TEST_F(Jwt, RefusesAlgorithmThatDiffersFromTheJwkAlg) {
  auto jwk = public_jwk(rsa());
  jwk["alg"] = "PS256";
  keys = parse_jwks(jwks({jwk}));
  expect_refused(sign_token(rsa(), claims()), JwtError::unsupported_algorithm);
  jwk["alg"] = "RS256";
  keys = parse_jwks(jwks({jwk}));
  EXPECT_TRUE(verify(sign_token(rsa(), claims())).ok());
}

TEST_F(Jwt, UnknownKidIsUnknownKey) {
  expect_refused(sign_token(rsa(), claims(), {{"kid", "rotated-away"}}), JwtError::unknown_key);
  auto r = verify(sign_token(rsa(), claims(), {{"kid", "rotated-away"}}));
  EXPECT_NE(r.message.find("\"rotated-away\""), std::string::npos) << r.message;
}

TEST_F(Jwt, TokenWithoutKidNeedsExactlyOneKey) {
  TestKey anonymous = rsa();
  anonymous.kid.clear();
  expect_refused(sign_token(anonymous, claims()), JwtError::unknown_key);
  keys = parse_jwks(jwks({public_jwk(rsa())}));
  EXPECT_TRUE(verify(sign_token(anonymous, claims())).ok());
}

TEST_F(Jwt, SameKidOnTwoKeysPicksTheOneFittingTheAlgorithm) {
  TestKey ec_twin = ec();
  ec_twin.kid = "rsa-1";
  keys = parse_jwks(jwks({public_jwk(rsa()), public_jwk(ec_twin)}));
  EXPECT_TRUE(verify(sign_token(ec_twin, claims())).ok());
  EXPECT_TRUE(verify(sign_token(rsa(), claims())).ok());
}

TEST_F(Jwt, RefusesTamperedPayloadOrSignature) {
  for (const TestKey* key : {&rsa(), &ec(), &ed()}) {
    auto token = sign_token(*key, claims());
    auto parts = split(token);
    auto other = claims();
    other["preferred_username"] = "root";
    expect_refused(std::string(parts[0]) + "." + encode_json(other) + "." + std::string(parts[2]),
                   JwtError::bad_signature);
    auto sig = *base64url_decode(parts[2]);
    sig[sig.size() / 2] ^= 0x01;
    expect_refused(std::string(parts[0]) + "." + std::string(parts[1]) + "." + base64url_encode(sig),
                   JwtError::bad_signature);
    expect_refused(std::string(parts[0]) + "." + std::string(parts[1]) + ".", JwtError::bad_signature);
  }
}

TEST_F(Jwt, RefusesEs256SignatureInDerForm) {
  // Only the raw r||s form of RFC 7518 is accepted.
  std::string input = encode_json({{"alg", "ES256"}, {"kid", "ec-1"}}) + "." + encode_json(claims());
  TestKey der_signer = ec();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, der_signer.pkey.get());
  std::string der(80, '\0');
  std::size_t len = der.size();
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  der.resize(len);
  expect_refused(input + "." + base64url_encode(der), JwtError::bad_signature);
}

TEST_F(Jwt, RefusesExpiredTokensWithLeeway) {
  auto c = claims();
  c["exp"] = epoch(now) - 100;
  expect_refused(sign_token(rsa(), c), JwtError::expired);
  c["exp"] = epoch(now) - 30;
  expect_refused(sign_token(rsa(), c), JwtError::expired);
  c["exp"] = epoch(now) - 10;  // within the 30 s leeway
  EXPECT_TRUE(verify(sign_token(rsa(), c)).ok());
  options.leeway = seconds(0);
  expect_refused(sign_token(rsa(), c), JwtError::expired);
}

TEST_F(Jwt, RefusesTokensNotYetValid) {
  auto c = claims();
  c["nbf"] = epoch(now) + 100;
  expect_refused(sign_token(rsa(), c), JwtError::not_yet_valid);
  c["nbf"] = epoch(now) + 20;  // within leeway
  EXPECT_TRUE(verify(sign_token(rsa(), c)).ok());
  c = claims();
  c["iat"] = epoch(now) + 100;
  expect_refused(sign_token(rsa(), c), JwtError::not_yet_valid);
}

TEST_F(Jwt, RequiresANumericExp) {
  auto c = claims();
  c.erase("exp");
  expect_refused(sign_token(rsa(), c), JwtError::malformed);
  c["exp"] = std::to_string(epoch(now) + 300);
  expect_refused(sign_token(rsa(), c), JwtError::malformed);
  c["exp"] = static_cast<double>(epoch(now)) + 300.5;
  EXPECT_TRUE(verify(sign_token(rsa(), c)).ok());
}

TEST_F(Jwt, RefusesWrongOrMissingIssuer) {
  auto c = claims();
  c["iss"] = "https://evil.test";
  expect_refused(sign_token(rsa(), c), JwtError::wrong_issuer);
  c["iss"] = "https://idp.test/";
  expect_refused(sign_token(rsa(), c), JwtError::wrong_issuer);
  c.erase("iss");
  expect_refused(sign_token(rsa(), c), JwtError::wrong_issuer);
}

TEST_F(Jwt, AudienceMayBeAStringOrAnArray) {
  auto c = claims();
  c["aud"] = "https://elsewhere.test";
  expect_refused(sign_token(rsa(), c), JwtError::wrong_audience);
  c["aud"] = json::array{"https://elsewhere.test", "other-api"};
  EXPECT_TRUE(verify(sign_token(rsa(), c)).ok());
  c["aud"] = json::array{"https://elsewhere.test", 7};
  expect_refused(sign_token(rsa(), c), JwtError::wrong_audience);
  c["aud"] = json::array{};
  expect_refused(sign_token(rsa(), c), JwtError::wrong_audience);
  c.erase("aud");
  expect_refused(sign_token(rsa(), c), JwtError::wrong_audience);
  c["aud"] = 5;
  expect_refused(sign_token(rsa(), c), JwtError::malformed);
}

TEST_F(Jwt, OversizeTokenIsRefusedFirst) {
  std::string huge(16 * 1024 + 1, 'A');
  expect_refused(huge, JwtError::too_large);
  auto c = claims();
  c["padding"] = std::string(20 * 1024, 'x');
  auto token = sign_token(rsa(), c);
  expect_refused(token, JwtError::too_large);
  options.max_token_bytes = 64 * 1024;
  EXPECT_TRUE(verify(token).ok());
}

TEST_F(Jwt, RefusesGarbage) {
  auto good = sign_token(rsa(), claims());
  auto parts = split(good);
  const std::string h(parts[0]), p(parts[1]), s(parts[2]);
  for (const std::string& token :
       {std::string(), std::string("garbage"), h + "." + p, h + "." + p + "." + s + ".x", h + "!." + p + "." + s,
        h + "." + p + "=." + s, h + "." + p + "." + s + "=", h + " ." + p + "." + s, "e30." + p + "." + s,
        encode_json({{"alg", "RS256"}}).substr(1) + "." + p + "." + s, base64url_encode("[1]") + "." + p + "." + s,
        base64url_encode("{not json") + "." + p + "." + s})
    expect_refused(token, JwtError::malformed);
}

TEST_F(Jwt, RefusesPayloadThatIsNotAnObject) {
  std::string input = encode_json({{"alg", "RS256"}, {"kid", "rsa-1"}}) + "." + base64url_encode("[1,2]");
  expect_refused(input + "." + base64url_encode(sign(rsa(), input)), JwtError::malformed);
}

TEST_F(Jwt, RefusesCriticalHeaderExtensions) {
  expect_refused(sign_token(rsa(), claims(), {{"crit", json::array{"b64"}}, {"b64", false}}), JwtError::malformed);
}

TEST_F(Jwt, IgnoresKeysEmbeddedInTheHeader) {
  // An attacker's own key in "jwk" must not be used: the kid still selects from the trusted set.
  TestKey attacker = make_key("ES256", "ec-1");
  auto token = sign_token(attacker, claims(), {{"jwk", public_jwk(attacker)}});
  expect_refused(token, JwtError::bad_signature);
}
