// OIDC access tokens (auth/jwt.hpp, auth/base64url.hpp).
// Input: one byte of mode, then
//   mode even: a token as a client sends it; its signature cannot be right, so it is refused
//   (a token with a signature this target's keys made is not an input the fuzzer can write);
//   mode odd: a JOSE header and claims (any bytes, usually JSON) separated by '\n', which the
//   target signs with one of its keys (mode >> 1 picks it), so the claim checks are reached
//   with valid signatures. An accepted token must hold what verify_jwt promises, and must be
//   refused once any byte of its payload or signature changes.
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/base64url.hpp"
#include "auth/jwk.hpp"
#include "auth/jwt.hpp"
#include "auth/test_tokens.hpp"
#include "fuzz_support.hpp"

namespace auth = portico::auth;
namespace testing = portico::auth::testing;
namespace json = boost::json;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));  // 2026-01-01

struct Keys {
  testing::TestKey rsa = testing::make_key("RS256", "rsa-1");
  testing::TestKey ec = testing::make_key("ES256", "ec-1");
  testing::TestKey ed = testing::make_key("EdDSA", "ed-1");
  auth::KeySet set = auth::parse_jwks(
      testing::jwks({testing::public_jwk(rsa), testing::public_jwk(ec, true), testing::public_jwk(ed)}));
  auth::JwtOptions options{"https://idp.test", {"https://portico.test/api"}};
};

const Keys& keys() {
  static const Keys k;
  return k;
}

void check_accepted(const auth::JwtResult& r) {
  const auto& claims = *r.claims;
  FUZZ_CHECK(claims.contains("iss") && claims.at("iss") == json::value(keys().options.issuer));
  FUZZ_CHECK(claims.contains("exp") && claims.at("exp").is_number());
  FUZZ_CHECK(claims.at("exp").to_number<double>() + 30 > 1767225600.0);
  const auto& aud = claims.at("aud");
  const json::value want(keys().options.audiences.front());
  FUZZ_CHECK(aud == want || (aud.is_array() && std::find(aud.as_array().begin(), aud.as_array().end(), want) !=
                                                   aud.as_array().end()));
}

// Any change of the signed bytes or the signature is refused.
void check_tampering(const std::string& token, std::uint8_t where) {
  const auto last = token.rfind('.');
  std::string changed = token;
  // A byte of the payload segment or of the signature segment, changed to another alphabet letter.
  std::size_t at = (where & 1) ? last + 1 + (where >> 1) % (token.size() - last - 1)
                               : token.find('.') + 1 + (where >> 1) % (last - token.find('.') - 1);
  changed[at] = changed[at] == 'A' ? 'B' : 'A';
  const auto r = auth::verify_jwt(changed, keys().set, keys().options, kNow);
  FUZZ_CHECK(!r.ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string token;
  if (data[0] & 1) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) return 0;
    const testing::TestKey* key[] = {&keys().rsa, &keys().ec, &keys().ed};
    const auto& k = *key[(data[0] >> 1) % 3];
    const std::string input = auth::base64url_encode(rest.substr(0, nl)) + "." + auth::base64url_encode(rest.substr(nl + 1));
    token = input + "." + auth::base64url_encode(testing::sign(k, input));
  } else {
    token = std::string(rest);
    // base64url has one encoding per byte string.
    if (auto bytes = auth::base64url_decode(rest)) FUZZ_CHECK(auth::base64url_encode(*bytes) == rest);
  }

  const auto r = auth::verify_jwt(token, keys().set, keys().options, kNow);
  FUZZ_CHECK(r.ok() || !r.message.empty());
  // A refusal never quotes the token (it may be a valid credential).
  const bool token_shaped = token.size() >= 16 && std::count(token.begin(), token.end(), '.') == 2;
  FUZZ_CHECK(r.ok() || !token_shaped || r.message.find(token) == std::string::npos);
  if (!r.ok()) return 0;
  FUZZ_CHECK(data[0] & 1);
  check_accepted(r);
  check_tampering(token, data[0]);
  return 0;
}
