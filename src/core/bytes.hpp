#pragma once
// Bytes as text: lower-case hex, and random bytes from OpenSSL's generator.

#include <cstddef>
#include <string>
#include <string_view>

namespace portico::core {

// Two lower-case hex digits per byte.
std::string hex(std::string_view bytes);

// n bytes from OpenSSL's CSPRNG; throws core::Failure(internal) when it has none to give.
std::string random_bytes(std::size_t n);

}  // namespace portico::core
