#pragma once
// The entry `ls -ld PATH` prints (ls_parse.hpp's LsEntry), made from the file's attributes as a
// file call returns them, so that a change made with file calls answers as the command did.
//
// Thread safety: pure functions of their arguments; call from any thread.

#include <cstdint>
#include <optional>
#include <string>

#include "core/remote_files.hpp"
#include "filesystem/ls_parse.hpp"
#include "filesystem/time_zone.hpp"

namespace portico::filesystem {

// ls's nine permission characters of a mode: rwx, with s/S, s/S and t/T for the set-user-ID,
// set-group-ID and sticky bits.
std::string permission_text(std::uint32_t mode);

// The entry of `path` itself (not following a link) from its lstat attributes, the target of a
// symbolic link, and the names of its owner and group ("" when the cluster has none: ls prints
// the number). nullopt for what ls shows with fields no attribute holds: a device ("major,
// minor") or a time that SFTP's 32 bits may have cut (before 1970: sent modulo 2^32).
std::optional<LsEntry> ls_entry(const std::string& path, const core::FileAttributes& attrs,
                                const std::optional<std::string>& link_target, const std::string& user,
                                const std::string& group, const TimeZone& zone);

}  // namespace portico::filesystem
