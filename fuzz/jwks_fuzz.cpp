// The identity provider's key set (auth/jwk.hpp): JWKS documents with RSA, EC and OKP keys.
// Input: the document.
#include <boost/json.hpp>

#include <cstdint>
#include <string_view>

#include "auth/jwk.hpp"
#include "fuzz_support.hpp"

namespace auth = portico::auth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auth::KeySet set;
  if (!portico::fuzz::refused_or_ran(portico::core::ErrorKind::internal, [&] { set = auth::parse_jwks(text); }))
    return 0;
  // Every entry of "keys" is either a usable key or a skip with its reason.
  const auto document = boost::json::parse(text);
  FUZZ_CHECK(set.keys.size() + set.skipped == document.at("keys").as_array().size());
  FUZZ_CHECK(set.skip_reasons.size() == set.skipped);
  for (const auto& k : set.keys) {
    FUZZ_CHECK(k.key != nullptr);
    FUZZ_CHECK((k.kty == "RSA" && k.type == auth::KeyType::rsa) || (k.kty == "EC" && k.type == auth::KeyType::ec_p256) ||
               (k.kty == "OKP" && k.type == auth::KeyType::ed25519));
    FUZZ_CHECK(k.use.empty() || k.use == "sig");
  }
  return 0;
}
