#pragma once
// Validation of names that Portico passes on to the cluster (users, groups, accounts).

#include <string_view>

namespace portico::core {

// A Unix user or group name as Portico accepts it from a token or a request: lower-case
// letter or '_' first, then letters, digits, '_', '-', at most 32. Anything else (../, spaces,
// quotes, $(...)) is refused before it is used anywhere.
bool valid_unix_name(std::string_view name) noexcept;

}  // namespace portico::core
