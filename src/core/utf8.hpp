#pragma once
// Text that reaches a JSON reply: JSON strings must be UTF-8, and file names and contents need
// not be. Each byte sequence that is not well-formed UTF-8 becomes U+FFFD (as Python's
// errors="replace" does), so the reply stays valid JSON; valid UTF-8 passes through unchanged.

#include <string>
#include <string_view>

namespace portico::core {

std::string valid_utf8(std::string_view in);

// Appends `in` to `out` as a JSON string, made valid UTF-8 as valid_utf8() does and escaped as
// boost::json::serialize escapes: the same bytes as serializing a json::string of valid_utf8(in),
// without building one (a big directory's listing is written this way).
void append_json_string(std::string& out, std::string_view in);

}  // namespace portico::core
