// What `squeue` prints (scheduler/slurm_job_parse.hpp): the job list in squeue_job_format, the
// exit codes in squeue_exit_format, and the raw/display id pairs scancel's target is read from.
// Input: one byte choosing the reader, then the output.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "scheduler/slurm_job_parse.hpp"
#include "scheduler_checks.hpp"

namespace sch = portico::scheduler;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      refused_or_ran(ErrorKind::internal, [&] {
        const auto jobs = sch::parse_squeue_jobs(text, "hpc");
        portico::fuzz::check_jobs(jobs);
        for (const auto& job : jobs) FUZZ_CHECK(job.cluster == "hpc" && job.tasks.empty());
        // Merged with an empty accounting, the live view is kept, each job once.
        std::set<std::string> ids;
        for (const auto& job : jobs) ids.insert(job.job_id);
        FUZZ_CHECK(sch::merge_jobs(jobs, {}).size() == ids.size());
      });
      break;
    case 1:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& [id, code] : sch::parse_squeue_exit_codes(text)) {
          FUZZ_CHECK(!id.empty());
          FUZZ_CHECK(code.code >= 0 && code.code <= 255 && code.signal >= 0 && code.signal <= 127);
        }
      });
      break;
    case 2: {
      // The raw id asked for: the text's first field.
      const auto raw = text.substr(0, text.find_first_of("\x1f\n"));
      refused_or_ran(ErrorKind::internal, [&] {
        if (auto target = sch::slurm_cancel_target(text, raw)) FUZZ_CHECK(!target->empty());
      });
      break;
    }
    case 3:
      refused_or_ran(ErrorKind::internal, [&] { FUZZ_CHECK(sch::parse_slurm_duration(text) >= 0); });
      break;
  }
  return 0;
}
