#pragma once
// An ls entry as a JSON object written straight into a reply, byte for byte what serializing
// the equivalent boost::json tree gives (a tree of values per entry was most of the CPU of a big
// listing). The APIs differ only in two keys' spelling: FirecREST's camelCase, IRI's snake_case.

#include <string>

#include "filesystem/ls_parse.hpp"

namespace portico::filesystem {

struct LsJsonKeys {
  const char* link_target;    // "linkTarget" or "link_target"
  const char* last_modified;  // "lastModified" or "last_modified"
};

// Appends {"name", "type", <link_target>, "user", "group", "permissions", <last_modified>, "size"};
// name is the path under the listed directory for recursive listings. Strings are made valid
// UTF-8 (core/utf8.hpp).
void append_entry_json(std::string& out, const LsEntry& e, const LsJsonKeys& keys);

}  // namespace portico::filesystem
