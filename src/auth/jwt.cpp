#include "auth/jwt.hpp"

#include "auth/base64url.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

namespace portico::auth {

namespace json = boost::json;

const char* to_string(JwtError error) noexcept {
  switch (error) {
    case JwtError::malformed: return "malformed";
    case JwtError::too_large: return "too_large";
    case JwtError::unsupported_algorithm: return "unsupported_algorithm";
    case JwtError::unknown_key: return "unknown_key";
    case JwtError::bad_signature: return "bad_signature";
    case JwtError::expired: return "expired";
    case JwtError::not_yet_valid: return "not_yet_valid";
    case JwtError::wrong_issuer: return "wrong_issuer";
    case JwtError::wrong_audience: return "wrong_audience";
  }
  return "malformed";
}

namespace {

struct Algorithm {
  const char* name;
  KeyType key_type;
};

// The allow-list. Anything else (none, HS*, RS384/512, PS*, ES384/512...) is refused.
constexpr Algorithm kAlgorithms[] = {
    {"RS256", KeyType::rsa},
    {"ES256", KeyType::ec_p256},
    {"EdDSA", KeyType::ed25519},
};

JwtResult fail(JwtError error, std::string message) {
  JwtResult r;
  r.error = error;
  r.message = std::move(message);
  return r;
}

// A token-supplied string, JSON-quoted and shortened, fit for a message or a log line.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 64;
  return json::serialize(json::string(text.substr(0, kMax))) + (text.size() > kMax ? "..." : "");
}

std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// JOSE carries an ECDSA signature as the fixed-size concatenation r||s (RFC 7518 §3.4);
// OpenSSL verifies the DER SEQUENCE { r, s }. Empty on failure.
std::string jose_to_der(std::string_view raw) {
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  if (!sig) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

bool signature_valid(KeyType type, EVP_PKEY* key, std::string_view input, std::string_view signature) {
  std::string der;
  switch (type) {
    case KeyType::rsa:
      if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key))) return false;
      break;
    case KeyType::ec_p256:
      if (signature.size() != 64) return false;
      der = jose_to_der(signature);
      if (der.empty()) return false;
      signature = der;
      break;
    case KeyType::ed25519:
      if (signature.size() != 64) return false;
      break;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  // Ed25519 hashes internally (no digest); RS256 is PKCS#1 v1.5, OpenSSL's default for RSA keys.
  const EVP_MD* md = type == KeyType::ed25519 ? nullptr : EVP_sha256();
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  if (!ok) ERR_clear_error();  // leave no stale OpenSSL errors behind for TLS code on this thread
  return ok;
}

// A NumericDate claim: absent, a number of seconds, or malformed.
struct Time {
  bool present = false;
  bool valid = true;
  double seconds = 0;
};

Time time_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (!v) return {};
  if (v->is_int64()) return {true, true, static_cast<double>(v->get_int64())};
  if (v->is_uint64()) return {true, true, static_cast<double>(v->get_uint64())};
  if (v->is_double()) return {true, true, v->get_double()};
  return {true, false, 0};
}

}  // namespace

JwtResult verify_jwt(std::string_view token, const KeySet& keys, const JwtOptions& options,
                     std::chrono::system_clock::time_point now) {
  if (token.size() > options.max_token_bytes)
    return fail(JwtError::too_large,
                fmt::format("token of {} bytes is over the limit of {}", token.size(), options.max_token_bytes));

  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail(JwtError::malformed, "token is not a compact JWS (three dot-separated parts)");
  const auto header_bytes = base64url_decode(token.substr(0, dot1));
  const auto payload_bytes = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_bytes || !payload_bytes || !signature) return fail(JwtError::malformed, "token is not base64url");

  const auto header = parse_object(*header_bytes);
  if (!header) return fail(JwtError::malformed, "token header is not a JSON object");
  const json::value* alg_value = header->if_contains("alg");
  if (!alg_value || !alg_value->is_string()) return fail(JwtError::malformed, "token header has no alg");
  const std::string_view alg_name = alg_value->get_string();
  const Algorithm* alg = nullptr;
  for (const auto& a : kAlgorithms)
    if (alg_name == a.name) alg = &a;
  if (!alg) return fail(JwtError::unsupported_algorithm, fmt::format("algorithm {} is not accepted", quoted(alg_name)));
  // RFC 7515 §4.1.11: extensions listed in crit must be understood; Portico understands none.
  if (header->contains("crit")) return fail(JwtError::malformed, "token header has crit extensions");

  // The key comes from the trusted set only; jku, jwk, x5u, x5c in the header are never used.
  std::string_view kid;
  if (const json::value* k = header->if_contains("kid")) {
    if (!k->is_string()) return fail(JwtError::malformed, "token kid is not a string");
    kid = k->get_string();
  }
  std::vector<const Jwk*> candidates;
  if (!kid.empty()) {
    for (const auto& key : keys.keys)
      if (key.kid == kid) candidates.push_back(&key);
    if (candidates.empty()) return fail(JwtError::unknown_key, fmt::format("no key with kid {}", quoted(kid)));
  } else {
    if (keys.keys.size() != 1)
      return fail(JwtError::unknown_key,
                  fmt::format("token has no kid and the key set has {} keys, not one", keys.keys.size()));
    candidates.push_back(&keys.keys.front());
  }
  const Jwk* key = nullptr;
  for (const Jwk* c : candidates)
    if (!key && c->type == alg->key_type && (c->alg.empty() || c->alg == alg->name)) key = c;
  if (!key) {
    const Jwk& c = *candidates.front();
    return fail(JwtError::unsupported_algorithm,
                fmt::format("algorithm {} does not match the {} key {}{}", alg->name, to_string(c.type), quoted(c.kid),
                            c.alg.empty() ? "" : " (alg " + c.alg + ")"));
  }

  if (!signature_valid(key->type, key->key.get(), token.substr(0, dot2), *signature))
    return fail(JwtError::bad_signature, fmt::format("signature does not verify with key {}", quoted(key->kid)));

  auto claims = parse_object(*payload_bytes);
  if (!claims) return fail(JwtError::malformed, "token payload is not a JSON object");

  const json::value* iss = claims->if_contains("iss");
  if (!iss || !iss->is_string() || iss->get_string() != options.issuer)
    return fail(JwtError::wrong_issuer,
                iss && iss->is_string() ? fmt::format("issuer {} is not accepted", quoted(iss->get_string()))
                                        : std::string("token has no issuer"));

  const json::value* aud = claims->if_contains("aud");
  bool audience_ok = false;
  auto accepted = [&](const json::value& v) {
    if (!v.is_string()) return false;
    for (const auto& a : options.audiences)
      if (v.get_string() == a) return true;
    return false;
  };
  if (aud && aud->is_array()) {
    for (const auto& v : aud->get_array()) audience_ok = audience_ok || accepted(v);
  } else if (aud && aud->is_string()) {
    audience_ok = accepted(*aud);
  } else if (aud) {
    return fail(JwtError::malformed, "token aud is neither a string nor an array");
  }
  if (!audience_ok)
    return fail(JwtError::wrong_audience, aud ? "no audience of the token is accepted" : "token has no audience");

  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(options.leeway.count());
  const Time exp = time_claim(*claims, "exp");
  const Time nbf = time_claim(*claims, "nbf");
  const Time iat = time_claim(*claims, "iat");
  if (!exp.valid || !nbf.valid || !iat.valid) return fail(JwtError::malformed, "token time claim is not a number");
  if (!exp.present) return fail(JwtError::malformed, "token has no exp");
  if (now_s >= exp.seconds + leeway)
    return fail(JwtError::expired, fmt::format("token expired {:.0f} s ago", now_s - exp.seconds));
  if (nbf.present && nbf.seconds > now_s + leeway)
    return fail(JwtError::not_yet_valid, fmt::format("token not valid for another {:.0f} s", nbf.seconds - now_s));
  if (iat.present && iat.seconds > now_s + leeway)
    return fail(JwtError::not_yet_valid, fmt::format("token issued {:.0f} s in the future", iat.seconds - now_s));

  JwtResult result;
  result.claims = std::move(*claims);
  return result;
}

}  // namespace portico::auth
