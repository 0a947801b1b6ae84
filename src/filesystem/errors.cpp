#include "filesystem/errors.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace portico::filesystem {

namespace {

struct Known {
  std::string_view phrase;
  core::ErrorKind kind;
};

constexpr std::array<Known, 10> known{{
    {"No such file or directory", core::ErrorKind::not_found},
    {"Permission denied", core::ErrorKind::forbidden},
    {"Operation not permitted", core::ErrorKind::forbidden},
    {"File exists", core::ErrorKind::conflict},
    {"Not a directory", core::ErrorKind::bad_request},
    {"Is a directory", core::ErrorKind::bad_request},
    {"Directory not empty", core::ErrorKind::bad_request},
    {"invalid user", core::ErrorKind::bad_request},
    {"invalid group", core::ErrorKind::bad_request},
    {"invalid mode", core::ErrorKind::bad_request},
}};

std::string status_text(const core::CommandResult& result) {
  if (!result.signal.empty()) return "killed by signal " + result.signal;
  return fmt::format("exit status {}", result.exit_status);
}

}  // namespace

std::string message_line(std::string_view text) {
  constexpr std::size_t max_message_chars = 200;
  std::string out(text.substr(0, max_message_chars));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (text.size() > max_message_chars) out += "...";
  return out;
}

core::Failure command_failure(const core::CommandResult& result, std::string_view what) {
  std::string detail = fmt::format("{}: {}", what, status_text(result));
  if (result.timed_out || result.exit_status == 124)
    return core::Failure(core::ErrorKind::timeout, fmt::format("{} timed out (exit status:124)", what), detail);

  if (!result.signal.empty())
    return core::Failure(core::ErrorKind::internal, fmt::format("{} was killed by signal {}", what, result.signal),
                         detail);

  std::string_view err = result.err;
  std::string_view first_line;
  std::size_t start = 0;
  while (start < err.size()) {
    std::size_t end = err.find('\n', start);
    if (end == std::string_view::npos) end = err.size();
    std::string_view line = err.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    if (first_line.empty()) first_line = line;
    for (const auto& k : known)
      if (line.find(k.phrase) != std::string_view::npos)
        return core::Failure(k.kind, message_line(line), detail + ": " + message_line(line));
  }
  if (first_line.empty())
    return core::Failure(core::ErrorKind::internal, fmt::format("{} failed with {}", what, status_text(result)),
                         detail);
  return core::Failure(core::ErrorKind::internal, message_line(first_line), detail + ": " + message_line(first_line));
}

const std::string& successful_output(const core::CommandResult& result, std::string_view what) {
  if (!result.ok()) throw command_failure(result, what);
  if (result.out_truncated)
    throw core::Failure(core::ErrorKind::too_large, fmt::format("the output of {} is over the size limit", what),
                        fmt::format("{}: stdout cut at the output cap", what));
  return result.out;
}

}  // namespace portico::filesystem
