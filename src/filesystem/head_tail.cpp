#include "filesystem/head_tail.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace portico::filesystem {

namespace {

// $1: bytes to keep at most, $2: -c or -n, $3: the count, $4: the path.
constexpr const char* head_script = "set -o pipefail; head \"$2\" \"$3\" -- \"$4\" | head -c \"$1\"";
constexpr const char* tail_script =
    "set -o pipefail; stat -L -c %s -- \"$4\" && tail \"$2\" \"$3\" -- \"$4\" | head -c \"$1\"";

// Where the content starts in `out`, and the file size (tail only).
struct Split {
  std::size_t content_at = 0;
  std::int64_t size = -1;
};

Split split(const std::string& out, const HeadTailRequest& request) {
  Split s;
  if (request.head) return s;
  auto nl = out.find('\n');
  std::int64_t size = -1;
  if (nl != std::string::npos && nl > 0) {
    auto [ptr, ec] = std::from_chars(out.data(), out.data() + nl, size);
    if (ec != std::errc() || ptr != out.data() + nl) size = -1;
  }
  if (size < 0) throw core::Failure(core::ErrorKind::internal, "unexpected output of stat before tail");
  s.content_at = nl + 1;
  s.size = size;
  return s;
}

}  // namespace

std::vector<std::string> head_tail_command(const std::string& path, const HeadTailRequest& request,
                                           std::int64_t max_content) {
  bool bytes = request.count.unit == HeadTailCount::Unit::bytes;
  std::string n = std::to_string(request.count.count);
  // head -n -N: all but the last N; tail -n +N: from the Nth on.
  std::string amount = request.skip ? (request.head ? "-" : "+") + n : n;
  return {"env", "LC_ALL=C", "bash", "-c", request.head ? head_script : tail_script, "portico",
          std::to_string(max_content + 1), bytes ? "-c" : "-n", amount, path};
}

bool head_tail_cut(const std::string& out, const HeadTailRequest& request, std::int64_t max_content) {
  std::size_t at = 0;
  if (!request.head) {
    auto nl = out.find('\n');
    if (nl == std::string::npos) return false;
    at = nl + 1;
  }
  return static_cast<std::int64_t>(out.size() - at) > max_content;
}

FilePart parse_head_tail_output(std::string out, const HeadTailRequest& request, std::int64_t max_content) {
  auto s = split(out, request);
  auto length = static_cast<std::int64_t>(out.size() - s.content_at);
  if (length > max_content) throw part_too_large(max_content);
  FilePart part;
  part.content = out.substr(s.content_at);
  if (request.head) {
    part.start = 0;
    part.end = length;
  } else {
    // The file may have changed between stat and tail; positions never go below 0.
    part.end = std::max(s.size, length);
    part.start = part.end - length;
  }
  return part;
}

core::Failure part_too_large(std::int64_t max_content) {
  return core::Failure(core::ErrorKind::too_large,
                       fmt::format("the content asked for is over the limit of {} bytes; use a smaller count, "
                                   "view with an offset, or the transfer API",
                                   max_content));
}

FilePart byte_range(std::int64_t size, const HeadTailRequest& request) {
  const auto n = request.count.count;
  FilePart part;
  if (request.head) {
    // head -c N: the first N; head -c -N: all but the last N.
    part.end = request.skip ? std::max<std::int64_t>(size - n, 0) : std::min(n, size);
  } else {
    // tail -c N: the last N; tail -c +N: from the Nth byte on (+0 is +1).
    part.start = request.skip ? std::min(std::max<std::int64_t>(n, 1) - 1, size) : std::max<std::int64_t>(size - n, 0);
    part.end = size;
  }
  return part;
}

}  // namespace portico::filesystem
