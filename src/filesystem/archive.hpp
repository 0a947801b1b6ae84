#pragma once
// The tar command lines of the compress and extract operations, and what their failures mean.
//
// Semantics (FirecREST v2's, with its weaknesses fixed):
//  - the archive is rooted at the source's parent: compressing /home/u/dir gives members
//    "dir/...", so extracting it into /x recreates /x/dir;
//  - matchPattern is a find(1) -regex (Emacs syntax) matched against the whole member path as
//    find prints it from the parent, "./dir/sub/a.txt"; only regular files (after dereference,
//    when asked) are archived. FirecREST searches the whole parent directory and ignores the
//    compression then; here only the source is searched and the compression is honoured.
//
// Every value is one argv word (core::command_line quotes it); names are passed after "--" or
// as "./name", and archive names with ':' are local files (--force-local), so no operand is
// ever read as an option or a remote host.
//
// Thread safety: pure functions of their arguments; call from any thread.

#include "core/command.hpp"
#include "core/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::filesystem {

enum class Compression { none, gzip, bzip2, xz };

// "none", "gzip", "bzip2" or "xz"; absent means gzip (the API's default).
// Throws core::validation_error(location, field, ...) for any other value.
Compression parse_compression(const std::optional<std::string_view>& text, std::string_view location,
                              std::string_view field);

// What compress runs. Without a pattern, only `tar`. With one, `find` first: its stdout (names
// separated by NUL) is `tar`'s stdin.
struct CompressCommands {
  std::optional<std::vector<std::string>> find;
  std::vector<std::string> tar;
};

// REQUIRES: source and target returned by confine(); source is not "/".
CompressCommands compress_commands(const std::string& source, const std::string& target,
                                   const std::optional<std::string>& match_pattern, bool dereference,
                                   Compression compression);

// Extracts the archive `source` into the existing directory `target`.
// REQUIRES: source and target returned by confine().
std::vector<std::string> extract_command(const std::string& source, const std::string& target,
                                         Compression compression);

// The Failure for a tar/find command that did not succeed: command_failure()'s mapping, and a
// corrupt, truncated or wrongly compressed archive (or a member tar refuses) -> bad_request.
core::Failure archive_failure(const core::CommandResult& result, std::string_view what);

}  // namespace portico::filesystem
