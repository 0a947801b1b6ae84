#include "scheduler/command_output.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <array>

namespace portico::scheduler {

namespace {

std::string_view first_line(std::string_view text) {
  while (!text.empty() && (text.front() == '\n' || text.front() == '\r')) text.remove_prefix(1);
  return text.substr(0, text.find_first_of("\r\n"));
}

// What Slurm's tools print when the daemon behind them does not answer (slurm_strerror texts
// and sacctmgr's database complaint). Only these make the failure a 424 rather than a 500.
bool says_unreachable(std::string_view err) {
  constexpr std::array markers{
      std::string_view{"Unable to contact slurm controller"},
      std::string_view{"Problem talking to the database"},
      std::string_view{"Connection refused"},
      std::string_view{"Socket timed out"},
      std::string_view{"Zero Bytes were transmitted or received"},
  };
  for (auto marker : markers)
    if (err.find(marker) != std::string_view::npos) return true;
  return false;
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max_chars) {
  std::string out;
  for (char c : text.substr(0, max_chars)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

const std::string& successful_output(const core::CommandResult& result, std::string_view what) {
  using core::ErrorKind;
  using core::Failure;
  if (result.timed_out) throw Failure(ErrorKind::timeout, fmt::format("{} timed out", what));
  if (!result.signal.empty())
    throw Failure(ErrorKind::internal, fmt::format("{} was killed by signal {}", what, result.signal));
  if (result.exit_status != 0) {
    std::string err = excerpt(first_line(result.err), 200);
    auto kind = says_unreachable(result.err) ? ErrorKind::backend_unreachable : ErrorKind::internal;
    throw Failure(kind, fmt::format("{} failed with exit status {}: {}", what, result.exit_status, err),
                  excerpt(result.err, 2000));
  }
  if (result.out_truncated)
    throw Failure(ErrorKind::too_large, fmt::format("the output of {} exceeds the configured limit", what));
  return result.out;
}

}  // namespace portico::scheduler
