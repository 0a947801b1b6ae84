#pragma once
// The remote side of downloads and uploads, which stream file bytes through an SSH channel
// (api/firecrest/stream_routes.cpp drives them). Each is one `sh -c` script with the paths as
// positional arguments (never spliced into the script text), run as the user under LC_ALL=C so
// that failures read like coreutils' and map through errors.hpp.
//
// Thread safety: pure functions of their arguments.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::filesystem {

// Download of `path` (confined). The script refuses anything but a regular file (after the OS
// follows symbolic links, as the user), then writes one line with the file's size in bytes,
// then:
//  - whole: the file's bytes;
//  - ranged: reads one line "<first> <count>" from stdin, then those bytes (no line: nothing).
// Failures go to stderr with a non-zero exit before the size line is written, so a reply that
// has begun never turns into an error.
std::vector<std::string> download_argv(const std::string& path, bool ranged);

// The size line of a download, without its newline; nullopt when it is not a plain number.
std::optional<std::uint64_t> parse_size_line(std::string_view line);

// Whether a failed download's stderr says the path is neither a regular file nor a directory
// (a device, a FIFO, a socket): a client error, which coreutils has no message for.
bool is_not_regular_file_message(std::string_view err);

// Upload, first step: checks that `dir` is a directory, creates `temp` in it (a new name: it
// must not exist; see upload_temp_name), writes "ready\n" on stdout, then copies stdin into
// `temp` until EOF. It needs no file name, so it runs (and a bad directory is refused) before
// the client sends its body. An interrupted upload leaves at most the temporary file, which the
// caller removes (upload_cleanup_argv); the target is only replaced by upload_commit_argv, after
// every byte has arrived.
std::vector<std::string> upload_argv(const std::string& dir, const std::string& temp);

// Upload, second step: fsyncs temp and renames it over target (atomically, on the same file
// system), unless target is a directory ("Is a directory"); removes temp if the rename does not
// happen.
std::vector<std::string> upload_commit_argv(const std::string& temp, const std::string& target);

// Removes what an interrupted upload left.
std::vector<std::string> upload_cleanup_argv(const std::string& temp);

// dir/.portico-upload.<hex of random_bytes>: hidden, and unlikely to collide with anything.
std::string upload_temp_name(std::string_view dir, std::string_view random_bytes);

}  // namespace portico::filesystem
