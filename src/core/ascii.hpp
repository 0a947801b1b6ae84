#pragma once
// ASCII classes, and the case-insensitive comparison of protocol words: header names, media
// types, parameter names, auth schemes. Not Boost.Beast's iequals nor Boost.URL's ci_is_equal:
// in Boost 1.81 both read one byte past the end of both strings once they differ in case (found
// by fuzz/multipart_fuzz on a Content-Type that was not in lower case).

#include <algorithm>
#include <string_view>

namespace portico::core {

// An ASCII letter or digit, whatever the locale. Not libc's isalnum: a call per character was
// 3% of the CPU of an authenticated request (a token has about a thousand).
constexpr bool ascii_alnum(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::ranges::equal(a, b, [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace portico::core
