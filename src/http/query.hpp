#pragma once
// Query-string parameters. Written by hand: Boost.URL 1.81's parse_query() runs strlen on its
// argument (seen under AddressSanitizer), reading past a query that is a view into the request.

#include <optional>
#include <string>
#include <string_view>

namespace portico::http {

// The percent-decoded value of the first parameter called `name` in `query` (without '?');
// "+" decodes to a space, as HTML forms send it. nullopt when absent. A malformed escape
// ("%G1", "%4") is kept literally rather than guessed.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// Percent-decoding of one component.
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace portico::http
