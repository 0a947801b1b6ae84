#pragma once
// base64url without padding (RFC 4648 §5, as JOSE uses it; RFC 7515 §2).
//
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace portico::auth {

std::string base64url_encode(std::string_view bytes);

// Strict: only the URL-safe alphabet, no padding, no whitespace, and the unused low bits of the
// last character must be zero, so every byte string has exactly one accepted encoding.
// Returns std::nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace portico::auth
