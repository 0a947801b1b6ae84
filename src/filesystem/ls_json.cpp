#include "filesystem/ls_json.hpp"

#include "core/utf8.hpp"
#include "filesystem/paths.hpp"

namespace portico::filesystem {

void append_entry_json(std::string& out, const LsEntry& e, const LsJsonKeys& keys) {
  auto key = [&out](const char* name) {
    out += ",\"";
    out += name;
    out += "\":";
  };
  out += "{\"name\":";
  core::append_json_string(out, e.directory.empty() ? e.name : child_path(e.directory, e.name));
  key("type");
  core::append_json_string(out, std::string_view(&e.type, 1));
  key(keys.link_target);
  if (e.link_target) core::append_json_string(out, *e.link_target);
  else out += "null";
  key("user");
  core::append_json_string(out, e.user);
  key("group");
  core::append_json_string(out, e.group);
  key("permissions");
  core::append_json_string(out, e.permissions);
  key(keys.last_modified);
  core::append_json_string(out, e.last_modified);
  key("size");
  core::append_json_string(out, e.size);
  out += '}';
}

}  // namespace portico::filesystem
