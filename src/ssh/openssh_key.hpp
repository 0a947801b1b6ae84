#pragma once
// The SSH wire encoding (RFC 4251 §5) and a reader for OpenSSH private keys, so Portico can sign
// user certificates with its CA key.
//
// Written by hand because neither library does it: OpenSSL cannot read the "openssh-key-v1"
// format that ssh-keygen writes, and libssh 0.10 can read it but has no API to sign arbitrary
// data (a certificate) with the key. Only unencrypted keys (cipher "none") of type ssh-ed25519
// or ecdsa-sha2-nistp256 are accepted; anything else is refused with a message naming the file.
//
// Thread-safety: SigningKey is immutable after construction; sign(), fingerprint() and the
// accessors may be called concurrently from any thread (each signature uses its own EVP context;
// OpenSSL 3 allows a shared EVP_PKEY to be used that way). The wire helpers are plain functions.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace portico::ssh {

namespace wire {

void put_u32(std::string& out, std::uint32_t value);
void put_u64(std::string& out, std::uint64_t value);
void put_string(std::string& out, std::string_view bytes);
// An mpint from unsigned big-endian magnitude bytes: leading zeros dropped, a zero byte added
// when the top bit is set (so it is not read as negative).
void put_mpint(std::string& out, std::string_view magnitude);

std::string base64_encode(std::string_view bytes);
// Ignores whitespace; throws std::runtime_error on anything that is not base64.
std::string base64_decode(std::string_view text);

// Reads fields in order from bytes that must outlive it; every read throws std::runtime_error("truncated ...") past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  explicit Reader(std::string&&) = delete;  // it would view a destroyed temporary
  std::uint32_t u32();
  std::uint64_t u64();
  std::string_view string();
  std::string_view raw(std::size_t n);
  std::size_t remaining() const noexcept { return data_.size(); }
  bool empty() const noexcept { return data_.empty(); }
  std::string_view rest() const noexcept { return data_; }

 private:
  std::string_view data_;
};

}  // namespace wire

// A private key that signs in the SSH signature format (RFC 8709 for ed25519, RFC 5656 for ECDSA).
class SigningKey {
 public:
  // Reads an unencrypted OpenSSH private key file. Throws std::runtime_error naming the file
  // when it cannot be read, is encrypted, is not in the OpenSSH format, or holds another type.
  static SigningKey from_file(const std::string& path);
  // The same from the file's text; `origin` names it in error messages.
  static SigningKey from_openssh(std::string_view text, const std::string& origin);

  // "ssh-ed25519" or "ecdsa-sha2-nistp256".
  const std::string& algorithm() const noexcept { return algorithm_; }
  // The public key in SSH wire format, as in the second field of a .pub file.
  const std::string& public_key_blob() const noexcept { return public_blob_; }
  const std::string& comment() const noexcept { return comment_; }
  // "SHA256:<base64, no padding>", the form `ssh-keygen -l` prints.
  std::string fingerprint() const;
  // An SSH signature blob (string algorithm, string signature) over data. Throws
  // std::runtime_error when OpenSSL fails.
  std::string sign(std::string_view data) const;

 private:
  SigningKey() = default;
  std::string algorithm_;
  std::string public_blob_;
  std::string comment_;
  std::shared_ptr<evp_pkey_st> pkey_;
};

// "SHA256:<base64, no padding>" of a public key (or certificate) blob.
std::string sha256_fingerprint(std::string_view public_key_blob);

}  // namespace portico::ssh
