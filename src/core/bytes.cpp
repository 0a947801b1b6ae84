#include "core/bytes.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/error.hpp"

#include <algorithm>

namespace portico::core {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0F];
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  // EVP_EncodeBlock takes an int length: encode in blocks well below INT_MAX (a multiple of 3).
  constexpr std::size_t block = 3 * 1024 * 1024;
  std::size_t written = 0;
  for (std::size_t at = 0; at < bytes.size(); at += block) {
    auto n = std::min(block, bytes.size() - at);
    written += static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + written),
                                                        reinterpret_cast<const unsigned char*>(bytes.data() + at),
                                                        static_cast<int>(n)));
  }
  out.resize(written);
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw Failure(ErrorKind::internal, "no random bytes");
  return out;
}

}  // namespace portico::core
