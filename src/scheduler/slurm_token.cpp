#include "scheduler/slurm_token.hpp"

#include "core/error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace portico::scheduler {

std::string base64url_encode(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) | std::uint8_t(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
  }
  return out;
}

SlurmTokenMinter SlurmTokenMinter::from_file(const std::string& key_file, std::chrono::seconds lifetime) {
  std::ifstream in(key_file, std::ios::binary);
  if (!in) throw core::Failure(core::ErrorKind::internal, "cannot read the Slurm JWT key file " + key_file);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.empty()) throw core::Failure(core::ErrorKind::internal, "the Slurm JWT key file " + key_file + " is empty");
  return SlurmTokenMinter(std::move(key), lifetime);
}

SlurmTokenMinter::SlurmTokenMinter(std::string key, std::chrono::seconds lifetime)
    : key_(std::move(key)), lifetime_(lifetime) {}

std::string SlurmTokenMinter::mint(std::string_view user, std::int64_t now) const {
  boost::json::object header{{"alg", "HS256"}, {"typ", "JWT"}};
  boost::json::object claims{{"sun", user}, {"iat", now}, {"exp", now + lifetime_.count()}};
  std::string signing_input = base64url_encode(boost::json::serialize(header)) + "." +
                              base64url_encode(boost::json::serialize(claims));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_len))
    throw core::Failure(core::ErrorKind::internal, "cannot sign a Slurm token");
  return signing_input + "." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string SlurmTokenMinter::mint(std::string_view user) const {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return mint(user, now.count());
}

}  // namespace portico::scheduler
