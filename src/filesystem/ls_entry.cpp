#include "filesystem/ls_entry.hpp"

namespace portico::filesystem {

namespace {

char type_char(std::uint32_t type) {
  switch (type) {
    case 0100000: return '-';
    case 0040000: return 'd';
    case 0120000: return 'l';
    case 0010000: return 'p';
    case 0140000: return 's';
    case 0020000: return 'c';
    case 0060000: return 'b';
  }
  return '?';
}

}  // namespace

std::string permission_text(std::uint32_t mode) {
  std::string out = "---------";
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i)
    if (mode & (0400u >> i)) out[static_cast<std::size_t>(i)] = letters[i];
  auto special = [&](std::size_t at, std::uint32_t bit, char with_x, char without_x) {
    if (mode & bit) out[at] = out[at] == 'x' ? with_x : without_x;
  };
  special(2, 04000, 's', 'S');
  special(5, 02000, 's', 'S');
  special(8, 01000, 't', 'T');
  return out;
}

std::optional<LsEntry> ls_entry(const std::string& path, const core::FileAttributes& attrs,
                                const std::optional<std::string>& link_target, const std::string& user,
                                const std::string& group, const TimeZone& zone) {
  if (!attrs.mode || !attrs.size || !attrs.uid || !attrs.gid || !attrs.mtime) return std::nullopt;
  const char type = type_char(attrs.type());
  if (type == 'c' || type == 'b' || type == '?') return std::nullopt;
  if (*attrs.mtime > 0x7fffffffu) return std::nullopt;
  if (type == 'l' && !link_target) return std::nullopt;
  LsEntry e;
  e.name = path;
  e.type = type;
  if (type == 'l') e.link_target = link_target;
  e.user = user.empty() ? std::to_string(*attrs.uid) : user;
  e.group = group.empty() ? std::to_string(*attrs.gid) : group;
  e.permissions = permission_text(*attrs.mode);
  e.last_modified = zone.format(*attrs.mtime);
  e.size = std::to_string(*attrs.size);
  return e;
}

}  // namespace portico::filesystem
