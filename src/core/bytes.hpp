#pragma once
// Bytes as text: lower-case hex, standard base64, and random bytes from OpenSSL's generator.

#include <cstddef>
#include <string>
#include <string_view>

namespace portico::core {

// Two lower-case hex digits per byte.
std::string hex(std::string_view bytes);

// Standard base64 with padding (RFC 4648 §4), by OpenSSL.
std::string base64(std::string_view bytes);

// n bytes from OpenSSL's CSPRNG; throws core::Failure(internal) when it has none to give.
std::string random_bytes(std::size_t n);

}  // namespace portico::core
