#include "ssh/openssh_key.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace portico::ssh {

namespace wire {

void put_u32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.append(bytes, 4);
}

void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}

void put_string(std::string& out, std::string_view bytes) {
  if (bytes.size() > 0xffffffffu) throw std::length_error("SSH string longer than 4 GiB");
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

void put_mpint(std::string& out, std::string_view magnitude) {
  while (!magnitude.empty() && magnitude.front() == '\0') magnitude.remove_prefix(1);
  if (!magnitude.empty() && (static_cast<unsigned char>(magnitude.front()) & 0x80)) {
    put_u32(out, static_cast<std::uint32_t>(magnitude.size() + 1));
    out.push_back('\0');
    out.append(magnitude);
  } else {
    put_string(out, magnitude);
  }
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8) |
                      std::uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (std::size_t left = in.size() - i; left > 0) {
    std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
    if (left == 2) v |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = base64_value(c);
    if (v < 0 || padding) throw std::runtime_error("invalid base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) throw std::runtime_error("invalid base64 length");
  return out;
}

std::uint32_t Reader::u32() {
  auto b = raw(4);
  return (std::uint32_t(std::uint8_t(b[0])) << 24) | (std::uint32_t(std::uint8_t(b[1])) << 16) |
         (std::uint32_t(std::uint8_t(b[2])) << 8) | std::uint32_t(std::uint8_t(b[3]));
}

std::uint64_t Reader::u64() {
  std::uint64_t high = u32();
  return (high << 32) | u32();
}

std::string_view Reader::string() { return raw(u32()); }

std::string_view Reader::raw(std::size_t n) {
  if (n > data_.size()) throw std::runtime_error("truncated SSH data");
  auto out = data_.substr(0, n);
  data_.remove_prefix(n);
  return out;
}

}  // namespace wire

namespace {

// Private key material: wiped before its memory is released.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string bytes) : bytes_(std::move(bytes)) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  const std::string& str() const noexcept { return bytes_; }
  std::string& str() noexcept { return bytes_; }

 private:
  std::string bytes_;
};

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct BnClearFree {
  void operator()(BIGNUM* p) const noexcept { BN_clear_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
// OSSL_PARAM_free clears the parts that came from a BN_secure_new number (the private scalar).
struct ParamFree {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};

constexpr std::string_view kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
constexpr std::string_view kEd25519 = "ssh-ed25519";
constexpr std::string_view kEcdsaP256 = "ecdsa-sha2-nistp256";

std::shared_ptr<EVP_PKEY> ed25519_key(std::string_view pub, std::string_view priv, const std::string& origin) {
  // OpenSSH stores the 32-byte seed followed by the public key.
  if (pub.size() != 32 || priv.size() != 64 || priv.substr(32) != pub)
    throw std::runtime_error(fmt::format("{}: malformed ssh-ed25519 private key", origin));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(priv.data()), 32));
  if (!key) throw std::runtime_error(fmt::format("{}: OpenSSL refused the ed25519 key: {}", origin, openssl_error()));
  std::array<unsigned char, 32> derived{};
  std::size_t len = derived.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), derived.data(), &len) != 1 || len != 32 ||
      std::memcmp(derived.data(), pub.data(), 32) != 0)
    throw std::runtime_error(fmt::format("{}: the ed25519 public and private keys do not match", origin));
  return std::shared_ptr<EVP_PKEY>(key.release(), PkeyFree{});
}

std::shared_ptr<EVP_PKEY> ecdsa_p256_key(std::string_view point, std::string_view scalar, const std::string& origin) {
  auto fail = [&](std::string_view what) {
    return std::runtime_error(fmt::format("{}: {} ecdsa-sha2-nistp256 private key: {}", origin, what, openssl_error()));
  };
  if (point.size() != 65 || point.front() != '\x04' || scalar.empty() || scalar.size() > 32)
    throw std::runtime_error(fmt::format("{}: malformed ecdsa-sha2-nistp256 private key", origin));
  std::unique_ptr<BIGNUM, BnClearFree> d(BN_secure_new());
  if (d && !BN_bin2bn(reinterpret_cast<const unsigned char*>(scalar.data()), static_cast<int>(scalar.size()), d.get()))
    d.reset();
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!d || !bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()))
    throw fail("cannot build");
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1)
    throw fail("OpenSSL refused the");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(raw);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error(fmt::format("{}: the ecdsa-sha2-nistp256 public and private keys do not match", origin));
  }
  return std::shared_ptr<EVP_PKEY>(key.release(), PkeyFree{});
}

}  // namespace

SigningKey SigningKey::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read the private key: {}", path, std::strerror(errno)));
  Secret text(std::string(std::istreambuf_iterator<char>(in), {}));
  if (in.bad()) throw std::runtime_error(fmt::format("{}: cannot read the private key", path));
  return from_openssh(text.str(), path);
}

SigningKey SigningKey::from_openssh(std::string_view text, const std::string& origin) {
  auto begin = text.find(kBegin);
  auto end = text.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    auto other = text.find("-----BEGIN ");
    if (other != std::string_view::npos) {
      auto line = text.substr(other, text.find('\n', other) - other);
      throw std::runtime_error(fmt::format(
          "{}: not an OpenSSH-format private key (found \"{}\"); write it with ssh-keygen, whose default "
          "format this is",
          origin, line));
    }
    throw std::runtime_error(fmt::format("{}: not an OpenSSH private key (no \"{}\" line)", origin, kBegin));
  }
  Secret blob;
  try {
    blob.str() = wire::base64_decode(text.substr(begin + kBegin.size(), end - begin - kBegin.size()));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: corrupt OpenSSH private key ({})", origin, e.what()));
  }

  try {
    wire::Reader r(blob.str());
    if (r.remaining() < kMagic.size() || r.raw(kMagic.size()) != kMagic)
      throw std::runtime_error("not an openssh-key-v1 key");
    auto cipher = r.string();
    auto kdf = r.string();
    r.string();  // kdf options
    if (cipher != "none" || kdf != "none")
      throw std::runtime_error(fmt::format(
          "the key is encrypted (cipher {}); Portico needs an unencrypted CA key (remove the passphrase with "
          "ssh-keygen -p and protect the file by its permissions)",
          cipher));
    if (auto count = r.u32(); count != 1)
      throw std::runtime_error(fmt::format("the file holds {} keys, expected exactly one", count));
    auto public_blob = r.string();
    wire::Reader p(r.string());  // the private section
    if (!r.empty()) throw std::runtime_error("trailing data after the private section");
    if (p.u32() != p.u32()) throw std::runtime_error("check words differ (corrupt key)");

    SigningKey key;
    key.algorithm_ = std::string(p.string());
    if (key.algorithm_ == kEd25519) {
      auto pub = p.string();
      auto priv = p.string();
      key.pkey_ = ed25519_key(pub, priv, origin);
      wire::put_string(key.public_blob_, kEd25519);
      wire::put_string(key.public_blob_, pub);
    } else if (key.algorithm_ == kEcdsaP256) {
      auto curve = p.string();
      if (curve != "nistp256") throw std::runtime_error("ecdsa key on an unexpected curve");
      auto point = p.string();
      auto scalar = p.string();  // an mpint: a leading zero keeps a high bit from reading as negative
      if (!scalar.empty() && (std::uint8_t(scalar.front()) & 0x80)) throw std::runtime_error("negative ECDSA private key");
      while (!scalar.empty() && scalar.front() == '\0') scalar.remove_prefix(1);
      key.pkey_ = ecdsa_p256_key(point, scalar, origin);
      wire::put_string(key.public_blob_, kEcdsaP256);
      wire::put_string(key.public_blob_, curve);
      wire::put_string(key.public_blob_, point);
    } else {
      throw std::runtime_error(fmt::format(
          "unsupported key type \"{}\"; a Portico CA key must be ssh-ed25519 or ecdsa-sha2-nistp256",
          key.algorithm_));
    }
    key.comment_ = std::string(p.string());
    // Padding is 1, 2, 3, ... up to the cipher's block size.
    auto pad = p.rest();
    for (std::size_t i = 0; i < pad.size(); ++i)
      if (std::size_t(std::uint8_t(pad[i])) != i + 1) throw std::runtime_error("bad padding (corrupt key)");
    if (public_blob != key.public_blob_)
      throw std::runtime_error("the public key does not match the private key");
    return key;
  } catch (const std::runtime_error& e) {
    std::string_view what = e.what();
    if (what.starts_with(origin + ":")) throw;
    throw std::runtime_error(fmt::format("{}: {}", origin, what));
  }
}

std::string SigningKey::fingerprint() const { return sha256_fingerprint(public_blob_); }

std::string SigningKey::sign(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  // ed25519 hashes internally (no digest); ECDSA P-256 is defined with SHA-256 (RFC 5656 §6.2.1).
  const EVP_MD* md = algorithm_ == kEd25519 ? nullptr : EVP_sha256();
  std::size_t len = 0;
  auto bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes, data.size()) != 1)
    throw std::runtime_error("signing failed: " + openssl_error());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes, data.size()) != 1)
    throw std::runtime_error("signing failed: " + openssl_error());
  sig.resize(len);

  std::string out;
  wire::put_string(out, algorithm_);
  if (algorithm_ == kEd25519) {
    wire::put_string(out, sig);
    return out;
  }
  // OpenSSL gives DER; SSH wants the two integers as mpints.
  auto der = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> parsed(d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size())));
  if (!parsed) throw std::runtime_error("signing failed: cannot decode the ECDSA signature");
  auto mpint = [](const BIGNUM* n) {
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(n)), '\0');
    BN_bn2bin(n, reinterpret_cast<unsigned char*>(bytes.data()));
    std::string out;
    wire::put_mpint(out, bytes);
    return out;
  };
  std::string inner = mpint(ECDSA_SIG_get0_r(parsed.get())) + mpint(ECDSA_SIG_get0_s(parsed.get()));
  wire::put_string(out, inner);
  return out;
}

std::string sha256_fingerprint(std::string_view blob) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(blob.data(), blob.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed: " + openssl_error());
  std::string b64 = wire::base64_encode(std::string_view(reinterpret_cast<const char*>(md), len));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

}  // namespace portico::ssh
