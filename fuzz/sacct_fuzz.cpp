// What `sacct` prints (scheduler/slurm_job_parse.hpp): jobs and their steps in sacct_job_format,
// merged with squeue's live view; and exit codes ("2:0").
// Input: one byte choosing the reader, then sacct's output; for the merge, squeue's output
// follows sacct's after a NUL byte.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "scheduler/slurm_job_parse.hpp"
#include "scheduler_checks.hpp"

namespace sch = portico::scheduler;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

namespace {

void check_merge(std::string_view text) {
  const auto nul = text.find('\0');
  const auto sacct_text = text.substr(0, nul);
  const auto squeue_text = nul == std::string_view::npos ? std::string_view() : text.substr(nul + 1);
  std::vector<sch::Job> accounted, live;
  if (!refused_or_ran(ErrorKind::internal, [&] { accounted = sch::parse_sacct_jobs(sacct_text); })) return;
  portico::fuzz::check_jobs(accounted);
  if (!refused_or_ran(ErrorKind::internal, [&] { live = sch::parse_squeue_jobs(squeue_text, "hpc"); })) return;
  std::set<std::string> ids;
  for (const auto& j : accounted) ids.insert(j.job_id);
  for (const auto& j : live) ids.insert(j.job_id);
  const auto merged = sch::merge_jobs(live, accounted);
  portico::fuzz::check_jobs(merged);
  // Every job of either view is in the list, and only those.
  std::set<std::string> merged_ids;
  for (const auto& j : merged) merged_ids.insert(j.job_id);
  FUZZ_CHECK(merged_ids == ids);
  FUZZ_CHECK(merged.size() >= accounted.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 2) {
    case 0: check_merge(text); break;
    case 1:
      refused_or_ran(ErrorKind::internal, [&] {
        const auto code = sch::parse_slurm_exit_code(text);
        const auto again = sch::parse_slurm_exit_code(std::to_string(code.code) + ":" + std::to_string(code.signal));
        FUZZ_CHECK(again.code == code.code && again.signal == code.signal);
      });
      break;
  }
  return 0;
}
