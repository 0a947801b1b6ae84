#include "auth/jwk.hpp"

#include "auth/base64url.hpp"
#include "core/error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <optional>

namespace portico::auth {

namespace json = boost::json;

const char* to_string(KeyType type) noexcept {
  switch (type) {
    case KeyType::rsa: return "RSA";
    case KeyType::ec_p256: return "EC P-256";
    case KeyType::ed25519: return "Ed25519";
  }
  return "?";
}

namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;  // bounds the cost of one verification

// Why a key is skipped; caught per key in parse_jwks().
struct Skip {
  std::string reason;
};

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

std::optional<std::string> optional_string(const json::object& jwk, std::string_view name) {
  const json::value* v = jwk.if_contains(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw Skip{fmt::format("\"{}\" is not a string", name)};
  return std::string(v->get_string());
}

std::string required_bytes(const json::object& jwk, std::string_view name) {
  auto text = optional_string(jwk, name);
  if (!text) throw Skip{fmt::format("no \"{}\"", name)};
  auto bytes = base64url_decode(*text);
  if (!bytes || bytes->empty()) throw Skip{fmt::format("\"{}\" is not base64url", name)};
  return *bytes;
}

Pkey from_params(const char* type, const OSSL_PARAM* params) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) != 1)
    throw Skip{"the key parameters are invalid"};
  Pkey key(raw);
  // Full public-key validation (RSA exponent and modulus form; EC point on the curve, in the group).
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) throw Skip{"the public key failed validation"};
  return key;
}

Pkey rsa_key(const json::object& jwk) {
  const auto n = required_bytes(jwk, "n");
  const auto e = required_bytes(jwk, "e");
  Bignum bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  Bignum bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e) throw Skip{"out of memory"};
  const int bits = BN_num_bits(bn_n.get());
  if (bits < kMinRsaBits) throw Skip{fmt::format("RSA modulus of {} bits is under {}", bits, kMinRsaBits)};
  if (bits > kMaxRsaBits) throw Skip{fmt::format("RSA modulus of {} bits is over {}", bits, kMaxRsaBits)};
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    throw Skip{"out of memory"};
  Params params(OSSL_PARAM_BLD_to_param(builder.get()));
  if (!params) throw Skip{"out of memory"};
  return from_params("RSA", params.get());
}

Pkey ec_p256_key(const json::object& jwk) {
  const auto crv = optional_string(jwk, "crv");
  if (crv != "P-256") throw Skip{fmt::format("EC curve {} is not supported", crv ? *crv : "(none)")};
  const auto x = required_bytes(jwk, "x");
  const auto y = required_bytes(jwk, "y");
  if (x.size() != 32 || y.size() != 32) throw Skip{"P-256 coordinates must be 32 bytes each"};
  std::string point = "\x04" + x + y;  // SEC1 uncompressed form
  char group[] = "P-256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  return from_params("EC", params);
}

Pkey ed25519_key(const json::object& jwk) {
  const auto crv = optional_string(jwk, "crv");
  if (crv != "Ed25519") throw Skip{fmt::format("OKP curve {} is not supported", crv ? *crv : "(none)")};
  const auto x = required_bytes(jwk, "x");
  if (x.size() != 32) throw Skip{"Ed25519 public key must be 32 bytes"};
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()),
                                       x.size()));
  if (!key) throw Skip{"OpenSSL refused the Ed25519 key"};
  return key;
}

Jwk parse_key(const json::value& value) {
  if (!value.is_object()) throw Skip{"not a JSON object"};
  const auto& jwk = value.get_object();
  Jwk out;
  out.kid = optional_string(jwk, "kid").value_or("");
  out.alg = optional_string(jwk, "alg").value_or("");
  out.use = optional_string(jwk, "use").value_or("");
  auto kty = optional_string(jwk, "kty");
  if (!kty) throw Skip{"no \"kty\""};
  out.kty = *kty;
  if (!out.use.empty() && out.use != "sig") throw Skip{fmt::format("use \"{}\" is not sig", out.use)};
  if (const json::value* ops = jwk.if_contains("key_ops")) {
    bool verify = false;
    if (ops->is_array())
      for (const auto& op : ops->get_array()) verify = verify || (op.is_string() && op.get_string() == "verify");
    if (!verify) throw Skip{"key_ops does not allow verify"};
  }
  Pkey key;
  if (out.kty == "RSA") {
    out.type = KeyType::rsa;
    key = rsa_key(jwk);
  } else if (out.kty == "EC") {
    out.type = KeyType::ec_p256;
    key = ec_p256_key(jwk);
  } else if (out.kty == "OKP") {
    out.type = KeyType::ed25519;
    key = ed25519_key(jwk);
  } else {
    throw Skip{fmt::format("key type \"{}\" is not supported", out.kty.substr(0, 16))};
  }
  out.key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
  return out;
}

std::string describe(const json::value& value, std::size_t index) {
  std::string text = fmt::format("key {}", index);
  if (value.is_object())
    if (const json::value* kid = value.get_object().if_contains("kid"))
      text += " (kid " + json::serialize(*kid).substr(0, 80) + ")";
  return text;
}

}  // namespace

KeySet parse_jwks(const json::value& document) {
  const json::array* keys = nullptr;
  if (document.is_object())
    if (const json::value* k = document.get_object().if_contains("keys"); k && k->is_array()) keys = &k->get_array();
  if (!keys)
    throw core::Failure(core::ErrorKind::internal, "the identity provider's JWKS is malformed",
                        "expected a JSON object with a \"keys\" array");
  KeySet set;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    try {
      set.keys.push_back(parse_key((*keys)[i]));
    } catch (const Skip& skip) {
      ERR_clear_error();  // leave no stale OpenSSL errors behind for TLS code on this thread
      ++set.skipped;
      set.skip_reasons.push_back(describe((*keys)[i], i) + ": " + skip.reason);
    }
  }
  return set;
}

KeySet parse_jwks(std::string_view text) {
  boost::system::error_code ec;
  json::value document = json::parse(text, ec);
  if (ec)
    throw core::Failure(core::ErrorKind::internal, "the identity provider's JWKS is malformed",
                        "not JSON: " + ec.message());
  return parse_jwks(document);
}

}  // namespace portico::auth
