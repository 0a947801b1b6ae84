// stat output (filesystem/stat_parse.hpp) and the other outputs of file reads: head/tail with
// tail's size line (filesystem/head_tail.hpp) and a download's size line
// (filesystem/stream_commands.hpp).
// Input: one byte choosing the reader (and head/tail's request), then the command's stdout.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "filesystem/head_tail.hpp"
#include "filesystem/stat_parse.hpp"
#include "filesystem/stream_commands.hpp"
#include "fuzz_support.hpp"

namespace fs = portico::filesystem;
using portico::core::ErrorKind;

namespace {

bool operator==(const fs::StatResult& a, const fs::StatResult& b) {
  return a.mode == b.mode && a.ino == b.ino && a.dev == b.dev && a.nlink == b.nlink && a.uid == b.uid &&
         a.gid == b.gid && a.size == b.size && a.atime == b.atime && a.mtime == b.mtime && a.ctime == b.ctime;
}

// The result printed in stat_format, as stat prints it.
std::string stat_line(const fs::StatResult& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                                   " %" PRId64 " %" PRId64 " %" PRId64 "\n",
                r.mode, r.ino, r.dev, r.nlink, r.uid, r.gid, r.size, r.atime, r.mtime, r.ctime);
  return line;
}

void check_stat(std::string_view out) {
  fs::StatResult r;
  if (!portico::fuzz::refused_or_ran(ErrorKind::internal, [&] { r = fs::parse_stat(out); })) return;
  FUZZ_CHECK(fs::parse_stat(stat_line(r)) == r);
}

void check_head_tail(std::uint8_t choice, std::string_view out) {
  fs::HeadTailRequest request;
  request.head = choice & 1;
  request.skip = choice & 2;
  request.count.unit = (choice & 4) ? fs::HeadTailCount::Unit::bytes : fs::HeadTailCount::Unit::lines;
  const std::int64_t max_content = (choice & 8) ? 16 : 1 << 20;
  fs::FilePart part;
  try {
    part = fs::parse_head_tail_output(std::string(out), request, max_content);
  } catch (const portico::core::Failure& f) {
    FUZZ_CHECK(f.kind() == ErrorKind::internal || f.kind() == ErrorKind::too_large);
    if (f.kind() == ErrorKind::too_large) FUZZ_CHECK(fs::head_tail_cut(std::string(out), request, max_content));
    return;
  }
  FUZZ_CHECK(!fs::head_tail_cut(std::string(out), request, max_content));
  // [start, end) is where the content lies in the file.
  FUZZ_CHECK(static_cast<std::int64_t>(part.content.size()) <= max_content);
  FUZZ_CHECK(0 <= part.start && part.start <= part.end);
  FUZZ_CHECK(part.end - part.start == static_cast<std::int64_t>(part.content.size()));
  FUZZ_CHECK(out.ends_with(part.content));
  if (request.head) FUZZ_CHECK(part.start == 0 && part.content == out);
}

void check_size_line(std::string_view line) {
  const auto n = fs::parse_size_line(line);
  if (n) FUZZ_CHECK(fs::parse_size_line(std::to_string(*n)) == n);
  fs::is_not_regular_file_message(line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view out(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: check_stat(out); break;
    case 1: check_head_tail(data[0] >> 2, out); break;
    case 2: check_size_line(out); break;
  }
  return 0;
}
