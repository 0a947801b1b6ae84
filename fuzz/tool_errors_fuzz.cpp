// What a failed remote command means (filesystem/errors.hpp, archive.hpp; scheduler/
// command_output.hpp, refusal.hpp) and sbatch's answer (scheduler/submission.hpp): the tools'
// stderr, which names the user's files, becomes a message for the client and the log.
// Input: one byte of outcome (exit status, signal, timeout, cut output), then stdout and stderr
// separated by a NUL byte.
#include <cstdint>
#include <string>
#include <string_view>

#include "filesystem/archive.hpp"
#include "filesystem/errors.hpp"
#include "fuzz_support.hpp"
#include "scheduler/command_output.hpp"
#include "scheduler/refusal.hpp"
#include "scheduler/submission.hpp"

using portico::core::ErrorKind;
using portico::core::Failure;

namespace {

// A message for the client and the log: one line, no control characters.
void check_message(const Failure& f) {
  for (unsigned char c : std::string_view(f.what())) FUZZ_CHECK(c >= 0x20 && c != 0x7f);
}

portico::core::CommandResult outcome(std::uint8_t bits, std::string_view out, std::string_view err) {
  portico::core::CommandResult r;
  static constexpr int statuses[] = {0, 1, 2, 124};
  r.exit_status = statuses[bits & 3];
  if (bits & 4) {
    r.exit_status = -1;
    r.signal = "KILL";
  }
  r.timed_out = bits & 8;
  r.out_truncated = bits & 16;
  r.out = std::string(out);
  r.err = std::string(err);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nul = text.find('\0');
  const auto out = text.substr(0, nul);
  const auto err = nul == std::string_view::npos ? std::string_view() : text.substr(nul + 1);
  const auto r = outcome(data[0], out, err);

  if (!r.ok()) {
    const auto failure = portico::filesystem::command_failure(r, "ls");
    check_message(failure);
    FUZZ_CHECK(failure.kind() != ErrorKind::validation);
    const auto archive = portico::filesystem::archive_failure(r, "tar");
    check_message(archive);
  }
  try {
    FUZZ_CHECK(&portico::filesystem::successful_output(r, "ls") == &r.out);
    FUZZ_CHECK(r.ok() && !r.out_truncated);
  } catch (const Failure& f) {
    check_message(f);
  }
  try {
    FUZZ_CHECK(portico::scheduler::accepted_output(r, "sbatch") == r.out);
  } catch (const Failure& f) {
    check_message(f);
  }
  if (auto refusal = portico::scheduler::slurm_refusal(err)) check_message(*refusal);
  try {
    const auto id = portico::scheduler::parse_sbatch_parsable(out);
    FUZZ_CHECK(!id.empty() && id.find_first_not_of("0123456789") == std::string::npos);
  } catch (const Failure& f) {
    FUZZ_CHECK(f.kind() == ErrorKind::internal);
    check_message(f);
  }
  const auto shown = portico::scheduler::excerpt(text, 80);
  FUZZ_CHECK(shown.size() <= 83);
  for (unsigned char c : shown) FUZZ_CHECK(c >= 0x20 && c != 0x7f);
  return 0;
}
