#pragma once
// UUIDs of the facility's objects: version 5 (SHA-1 of a name in Portico's namespace) for what
// configuration names, so a restart keeps every id; version 4 (random) for incidents and events.

#include <string>
#include <string_view>

namespace portico::facility {

// The RFC 9562 version 5 UUID of `name` in Portico's own namespace, lowercase hex with dashes.
std::string name_uuid(std::string_view name);

// A random (version 4) UUID.
std::string random_uuid();

// True for the canonical 8-4-4-4-12 hex form (any case).
bool is_uuid(std::string_view text);

}  // namespace portico::facility
