#pragma once
// The `stat` command Portico runs for one path, and the pure parser of its output.
//
// Thread safety: pure functions of their arguments; call from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico::filesystem {

// The --printf format: raw st_mode in hex (%f), then inode, device, link count, uid, gid, size,
// and access/modification/change times in epoch seconds, on one line (the backslash-n is for
// stat to expand). Numbers only, so nothing a file name holds can reach the output, and no
// locale or time zone is involved.
inline constexpr std::string_view stat_format = "%f %i %d %h %u %g %s %X %Y %Z\\n";

// The argv for stat-ing `path` (already confined):
//   env LC_ALL=C stat [-L] --printf=<stat_format> -- path
// LC_ALL=C keeps error messages English for errors.hpp; -L follows a symbolic link.
std::vector<std::string> stat_command(std::string_view path, bool dereference);

// The FirecREST stat model: integers as st_* holds them.
struct StatResult {
  std::uint64_t mode = 0;   // st_mode, type bits included (33188 for a 0644 regular file)
  std::uint64_t ino = 0;
  std::uint64_t dev = 0;
  std::uint64_t nlink = 0;
  std::uint64_t uid = 0;
  std::uint64_t gid = 0;
  std::uint64_t size = 0;
  std::int64_t atime = 0;   // signed: a file can be dated before 1970
  std::int64_t mtime = 0;
  std::int64_t ctime = 0;
};

// Parses exactly one line of stat_format. Throws core::Failure(internal) on anything else.
StatResult parse_stat(std::string_view output);

}  // namespace portico::filesystem
