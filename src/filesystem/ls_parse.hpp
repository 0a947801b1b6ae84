#pragma once
// The `ls` command Portico runs for a directory listing, and the pure parser of its output.
//
// Thread safety: pure functions of their arguments; call from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::filesystem {

struct LsOptions {
  bool show_hidden = false;   // -A: dot files, without "." and ".." (no client wants those)
  bool numeric_ids = false;   // -n: uid/gid instead of names
  bool recursive = false;     // -R: one section per directory, each under a "dir": header
  bool dereference = false;   // -L: describe what symbolic links point to
  bool itself = false;        // -d: the entry of path itself, not a directory's contents
};

// The argv for listing `path` (already confined):
//   env LC_ALL=C ls -l --quoting-style=c --time-style=+%Y-%m-%dT%H:%M:%S [-A] [-n] [-R] [-L] [-d] -- path
// Why these flags:
//  - LC_ALL=C: English error messages (errors.hpp matches them), "total", and every byte that is
//    not printable ASCII escaped as \ooo, so the output is ASCII whatever the names hold;
//  - --quoting-style=c: every name (and link target, and -R header) is in double quotes with C
//    escapes, so a name with spaces, " -> ", newlines or a leading '-' is still exactly one token
//    on one line, and decoding the escapes gives back the exact bytes;
//  - --time-style=+%Y-%m-%dT%H:%M:%S: one token of fixed shape (lastModified as FirecREST sends
//    it), instead of the locale- and age-dependent "Nov 24 19:47" / "Nov 24  2025";
//  - "--": the path can begin with '-'.
std::vector<std::string> ls_command(std::string_view path, const LsOptions& options);

struct LsEntry {
  // The exact bytes ls printed: the bare name for an entry of a listed directory, the path as
  // given when the listed path is not a directory.
  std::string name;
  std::string directory;                   // with -R: the section's directory ("" otherwise)
  char type = '-';                         // '-', 'd', 'l', 'c', 'b', 'p', 's' (or '?' if ls could not stat it)
  std::optional<std::string> link_target;  // for a symbolic link listed without -L
  std::string user;
  std::string group;
  std::string permissions;                 // nine characters, e.g. "rwxr-sr-t"; ACL/SELinux marker dropped
  std::string last_modified;               // "2026-11-24T19:47:54"
  std::string size;                        // decimal bytes, or "major, minor" for a device
};

// Parses the output of ls_command(). "total N" lines and blank lines are skipped.
// Throws core::Failure(internal) naming the line (shortened) when a line has another shape:
// a listing that cannot be read exactly is not returned half-read.
std::vector<LsEntry> parse_ls(std::string_view output);

// Decodes one C-quoted string at the start of `text` ("a\tb\377"), advancing `text` past its
// closing quote. Throws core::Failure(internal) on a malformed string.
std::string take_c_quoted(std::string_view& text);

}  // namespace portico::filesystem
