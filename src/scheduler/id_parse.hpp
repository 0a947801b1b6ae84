#pragma once
// Parser for the output of coreutils `id` (run with LC_ALL=C, since the "uid=" words are
// translated in other locales).

#include "scheduler/model.hpp"

#include <map>
#include <string>
#include <string_view>

namespace portico::scheduler {

// "uid=1001(alice) gid=1002(alice) groups=1002(alice),1001(hpcusers)" -> UserInfo. An id
// without a name ("groups=1002(alice),4242") gets no name; a name is read up to its closing
// parenthesis, so directory-service names with spaces ("domain users") survive. Other keys
// (SELinux "context=") are ignored; a missing groups= gives just the primary group.
// Throws core::Failure(internal) quoting an excerpt when uid= or gid= is missing or malformed.
UserInfo parse_id(std::string_view text);

// `getent passwd <uid>...` output ("name:x:uid:gid:gecos:home:shell" lines) -> uid -> name.
// Lines that do not have that shape are skipped: getent prints nothing for unknown keys.
std::map<std::string, std::string> parse_getent_passwd(std::string_view text);

}  // namespace portico::scheduler
