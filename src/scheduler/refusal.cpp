#include "scheduler/refusal.hpp"

#include <array>

#include "scheduler/command_output.hpp"

namespace portico::scheduler {

namespace {

bool contains(std::string_view text, std::string_view needle) { return text.find(needle) != std::string_view::npos; }

// The first line that carries an error, without the "sbatch: error: " prefix.
std::string message_of(std::string_view stderr_text) {
  std::string_view line;
  for (std::size_t start = 0; start < stderr_text.size();) {
    auto end = std::min(stderr_text.find('\n', start), stderr_text.size());
    auto l = stderr_text.substr(start, end - start);
    if (contains(l, "error") || contains(l, "denied") || contains(l, "Invalid")) {
      line = l;
      break;
    }
    start = end + 1;
  }
  if (line.empty()) line = stderr_text.substr(0, stderr_text.find('\n'));
  if (auto p = line.find("error: "); p != std::string_view::npos) line.remove_prefix(p + 7);
  return excerpt(line, 300);
}

}  // namespace

std::optional<core::Failure> slurm_refusal(std::string_view err) {
  using core::ErrorKind;
  // Order matters: the more specific phrases first.
  static constexpr std::array<std::pair<std::string_view, ErrorKind>, 13> phrases{{
      {"Invalid job id specified", ErrorKind::not_found},
      {"Job is no longer pending execution", ErrorKind::conflict},  // scontrol update of a running job
      {"Access/permission denied", ErrorKind::forbidden},
      {"Invalid account", ErrorKind::forbidden},
      {"not permitted", ErrorKind::forbidden},
      {"Job violates accounting/QOS policy", ErrorKind::forbidden},
      {"QOSMax", ErrorKind::forbidden},
      {"Invalid qos specification", ErrorKind::forbidden},
      {"nvalid partition", ErrorKind::bad_request},
      {"Requested reservation is invalid", ErrorKind::bad_request},
      {"Invalid feature specification", ErrorKind::bad_request},
      {"Requested node configuration is not available", ErrorKind::bad_request},
      {"Batch job submission failed", ErrorKind::bad_request},
  }};
  for (const auto& [phrase, kind] : phrases) {
    if (!contains(err, phrase)) continue;
    if (kind == ErrorKind::not_found) return core::Failure(kind, "Job not found: " + message_of(err));
    return core::Failure(kind, message_of(err));
  }
  return std::nullopt;
}

const std::string& accepted_output(const core::CommandResult& result, std::string_view what) {
  if (!result.timed_out && result.exit_status != 0)
    if (auto refusal = slurm_refusal(result.err)) throw *refusal;
  return successful_output(result, what);
}

}  // namespace portico::scheduler
