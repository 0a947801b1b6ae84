#pragma once
// head and tail of a file, byte-exact and bounded: the command cuts its own output one byte past
// the cap on the remote side, so a big file (a 3 GB file without newlines asked for its first
// 10 lines) costs at most the cap in transfer and gives a clear too_large, and a small part of a
// big file is just read. The reply says which bytes of the file the content holds.
//
// Thread safety: pure functions of their arguments; call from any thread.

#include "core/error.hpp"
#include "filesystem/validate.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace portico::filesystem {

struct HeadTailRequest {
  bool head = true;   // head or tail
  bool skip = false;  // head: all but the last N (skipTrailing); tail: from the Nth on (skipHeading)
  HeadTailCount count;
};

// The argv (a fixed bash script; every value a positional argument) that prints, for tail, the
// file's size in bytes on one line, then at most max_content + 1 bytes of head(1)'s or tail(1)'s
// output. Exits with head's or tail's status (pipefail), or SIGPIPE's when it was cut.
// REQUIRES: path returned by confine().
std::vector<std::string> head_tail_command(const std::string& path, const HeadTailRequest& request,
                                           std::int64_t max_content);

struct FilePart {
  std::string content;        // the raw bytes
  std::int64_t start = 0;     // [start, end): the byte offsets in the file of `content`
  std::int64_t end = 0;
};

// The part of the file in `out`, the stdout of a successful head_tail_command().
// Throws core::Failure(too_large) when the content is over max_content, and
// core::Failure(internal) when the size line of tail is missing or malformed.
FilePart parse_head_tail_output(std::string out, const HeadTailRequest& request, std::int64_t max_content);

// True when the content was cut at max_content + 1 (checked before the exit status, which is then
// SIGPIPE's).
bool head_tail_cut(const std::string& out, const HeadTailRequest& request, std::int64_t max_content);

// For a count in bytes: the bytes [start, end) of a file of `size` bytes that head -c or tail -c
// would print, so a file call can read just those (file_calls.hpp).
// REQUIRES: request.count.unit is bytes.
FilePart byte_range(std::int64_t size, const HeadTailRequest& request);

// The failure of a part over max_content, the same whichever way the part was read.
core::Failure part_too_large(std::int64_t max_content);

}  // namespace portico::filesystem
