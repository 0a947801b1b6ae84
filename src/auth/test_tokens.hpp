#pragma once
// Test support only (included by unit tests, never by library code): keys made with OpenSSL,
// their public JWKs, and a minimal JWS signer, so the verifier is tested against tokens built
// independently of it. Nothing here validates anything: tests use it to forge bad tokens too.
//
// Thread-safety: the functions are independent; a TestKey is immutable once made.

#include "auth/base64url.hpp"

#include <boost/json.hpp>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace portico::auth::testing {

struct TestKey {
  std::shared_ptr<EVP_PKEY> pkey;  // private key
  std::string kid;
  std::string alg;  // RS256, ES256 or EdDSA
};

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test key helper: ") + what);
}

inline TestKey make_key(std::string alg, std::string kid, int rsa_bits = 2048) {
  EVP_PKEY* key = nullptr;
  if (alg == "RS256")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
  else if (alg == "ES256")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  check(key != nullptr, "keygen");
  return {std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free), std::move(kid), std::move(alg)};
}

// The test suites' usual keys, made once per test binary (RSA key generation is slow).
inline const TestKey& rsa() {
  static const TestKey key = make_key("RS256", "rsa-1");
  return key;
}
inline const TestKey& ec() {
  static const TestKey key = make_key("ES256", "ec-1");
  return key;
}
inline const TestKey& ed() {
  static const TestKey key = make_key("EdDSA", "ed-1");
  return key;
}

inline std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

inline std::string fixed_bn_param(EVP_PKEY* key, const char* name, int size) {
  BIGNUM* bn = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
  std::string out(static_cast<std::size_t>(size), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  BN_free(bn);
  return out;
}

// The public JWK of a key, with kid and use "sig"; alg only when with_alg.
inline boost::json::object public_jwk(const TestKey& key, bool with_alg = false) {
  boost::json::object jwk;
  EVP_PKEY* k = key.pkey.get();
  if (key.alg == "RS256") {
    jwk["kty"] = "RSA";
    jwk["n"] = base64url_encode(bn_param(k, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = base64url_encode(bn_param(k, OSSL_PKEY_PARAM_RSA_E));
  } else if (key.alg == "ES256") {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = base64url_encode(fixed_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    jwk["y"] = base64url_encode(fixed_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  } else {
    std::string raw(32, '\0');
    std::size_t len = raw.size();
    check(EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char*>(raw.data()), &len) == 1, "raw key");
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = base64url_encode(raw);
  }
  if (!key.kid.empty()) jwk["kid"] = key.kid;
  jwk["use"] = "sig";
  if (with_alg) jwk["alg"] = key.alg;
  return jwk;
}

inline std::string jwks(std::initializer_list<boost::json::object> keys) {
  boost::json::array array;
  for (const auto& k : keys) array.push_back(k);
  return boost::json::serialize(boost::json::object{{"keys", array}});
}

inline std::string public_key_pem(const TestKey& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key.pkey.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// Raw JOSE signature over `input` with the key's algorithm (ES256 as r||s, 64 bytes).
inline std::string sign(const TestKey& key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const EVP_MD* md = key.alg == "EdDSA" ? nullptr : EVP_sha256();
  check(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.pkey.get()) == 1, "sign init");
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  check(EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) == 1, "sign size");
  std::string sig(len, '\0');
  check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size()) == 1,
        "sign");
  sig.resize(len);
  if (key.alg != "ES256") return sig;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* der = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  check(der != nullptr, "DER signature");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(der), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(der), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(der);
  return raw;
}

inline std::string encode_json(const boost::json::object& o) { return base64url_encode(boost::json::serialize(o)); }

// A compact JWS. The header gets the key's alg and kid unless it already sets them.
inline std::string sign_token(const TestKey& key, boost::json::object claims, boost::json::object header = {}) {
  if (!header.contains("alg")) header["alg"] = key.alg;
  if (!header.contains("kid") && !key.kid.empty()) header["kid"] = key.kid;
  std::string input = encode_json(header) + "." + encode_json(claims);
  return input + "." + base64url_encode(sign(key, input));
}

// An HS256 token whose MAC key is `secret` (for the RSA-public-key-as-HMAC-secret attack).
inline std::string sign_hs256(std::string_view secret, const boost::json::object& claims,
                              boost::json::object header) {
  header["alg"] = "HS256";
  std::string input = encode_json(header) + "." + encode_json(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  check(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                  reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac, &len) != nullptr,
        "hmac");
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

inline std::int64_t epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Claims accepted by the default test options at `now`.
inline boost::json::object good_claims(std::chrono::system_clock::time_point now) {
  return {{"iss", "https://idp.test"},
          {"aud", "https://portico.test/api"},
          {"sub", "subject-1"},
          {"preferred_username", "alice"},
          {"iat", epoch(now) - 10},
          {"exp", epoch(now) + 300}};
}

}  // namespace portico::auth::testing
