#pragma once
// OpenSSH certificates (PROTOCOL.certkeys in the OpenSSH sources): the encoder Portico signs
// user certificates with, and a decoder for reading certificates back (static certificate files,
// tests).
//
// Written by hand because libssh 0.10 can import a certificate but cannot make one.
//
// Thread-safety: plain functions on values; safe to call concurrently.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssh/openssh_key.hpp"

namespace portico::ssh {

enum class CertificateType : std::uint32_t { user = 1, host = 2 };

// An option or extension: its name and its data exactly as carried in the certificate (empty for
// a flag such as permit-pty; for a valued option such as force-command, itself an SSH string).
using CertificateOption = std::pair<std::string, std::string>;

// The extensions `ssh-keygen -s` grants by default, so a Portico login behaves like an ordinary
// one (~/.ssh/rc runs, a pty can be had); the order is the lexical one the format requires.
std::vector<CertificateOption> default_user_extensions();

inline constexpr std::uint64_t kValidForever = ~std::uint64_t{0};

struct CertificateFields {
  std::string public_key_blob;  // the certified public key, SSH wire format (as in a .pub file)
  std::string nonce;            // empty: 32 random bytes when signing
  std::uint64_t serial = 0;
  CertificateType type = CertificateType::user;
  std::string key_id;           // free text; sshd logs it on every login with the certificate
  std::vector<std::string> principals;  // user names for a user certificate
  std::uint64_t valid_after = 0;        // seconds since the epoch, inclusive
  std::uint64_t valid_before = 0;       // seconds since the epoch, exclusive; kValidForever
  std::vector<CertificateOption> critical_options;
  std::vector<CertificateOption> extensions = default_user_extensions();
};

// "ssh-ed25519" -> "ssh-ed25519-cert-v01@openssh.com" (also ecdsa-sha2-nistp{256,384,521},
// ssh-rsa, and the sk- variants). Throws std::invalid_argument for a type without certificates.
std::string certificate_algorithm(std::string_view key_algorithm);

// Encodes the certificate and signs it with the CA key; returns the certificate blob (the
// base64-decoded second field of a *-cert.pub file). Options and extensions are written in
// lexical order. Throws std::invalid_argument for fields OpenSSH would misread: no principals
// (which would make a user certificate valid for every account), valid_after >= valid_before,
// duplicate option names, an unsupported key type; std::runtime_error when signing fails.
std::string sign_certificate(const CertificateFields& fields, const SigningKey& ca);

struct ParsedCertificate {
  std::string algorithm;      // "ssh-ed25519-cert-v01@openssh.com", ...
  CertificateFields fields;   // public_key_blob is the plain key (e.g. "ssh-ed25519" ...)
  std::string signature_key;  // the CA's public key blob
  std::string signature;      // SSH signature blob
};

// Decodes a certificate blob. Does not verify the signature (sshd does). Throws
// std::runtime_error when the blob is malformed or of an unknown type.
ParsedCertificate parse_certificate(std::string_view blob);

// The text line of a *-cert.pub file: "<algorithm> <base64 blob>[ <comment>]".
std::string certificate_line(std::string_view blob, std::string_view comment = {});

}  // namespace portico::ssh
