// What `scontrol` prints (scheduler/slurm_parse.hpp, slurm_job_parse.hpp): --oneliner records
// of nodes, partitions, reservations and jobs, `scontrol ping` and `--version`.
// Input: one byte choosing the reader, then the output.
#include <cstdint>
#include <string_view>

#include "scheduler/slurm_job_parse.hpp"
#include "scheduler/slurm_parse.hpp"
#include "scheduler_checks.hpp"

namespace sch = portico::scheduler;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 7) {
    case 0:
      refused_or_ran(ErrorKind::internal, [&] {
        const auto fields = sch::split_scontrol_record(text);
        FUZZ_CHECK(!fields.empty() || text.find_first_not_of(" \t") == std::string_view::npos);
        for (const auto& f : fields) {
          FUZZ_CHECK(!f.key.empty() && f.key[0] >= 'A' && f.key[0] <= 'Z');
          FUZZ_CHECK(sch::scontrol_value(fields, f.key) != nullptr);
        }
      });
      break;
    case 1: refused_or_ran(ErrorKind::internal, [&] { portico::fuzz::check_nodes(sch::parse_scontrol_nodes(text)); }); break;
    case 2:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& p : sch::parse_scontrol_partitions(text)) FUZZ_CHECK(!p.name.empty());
      });
      break;
    case 3:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& r : sch::parse_scontrol_reservations(text)) FUZZ_CHECK(!r.name.empty());
      });
      break;
    case 4:
      refused_or_ran(ErrorKind::internal, [&] { FUZZ_CHECK(!sch::parse_scontrol_ping(text).empty()); });
      break;
    case 5: refused_or_ran(ErrorKind::internal, [&] { sch::parse_slurm_version(text); }); break;
    case 6: {
      // The job asked for is the first record's id, as SlurmCli asks for one job.
      std::string_view id;
      if (text.starts_with("JobId=")) id = text.substr(6, text.find_first_of(" \n") - 6);
      refused_or_ran(ErrorKind::internal, [&] {
        FUZZ_CHECK(!sch::parse_scontrol_job_metadata(text, std::nullopt, id).job_id.empty());
      });
      break;
    }
  }
  return 0;
}
