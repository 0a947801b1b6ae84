// What the PBS tools print (scheduler/pbs_parse.hpp): the JSON of `qstat -f -F json` (jobs,
// queues, servers), `pbsnodes -a -F json`, and the text of `pbs_rstat -f`, `qstat --version`,
// `qsub`, durations and ctime(3) times.
// Input: one byte choosing the reader, then the output.
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "scheduler/pbs_parse.hpp"
#include "scheduler_checks.hpp"

namespace sch = portico::scheduler;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 10) {
    case 0: refused_or_ran(ErrorKind::internal, [&] { portico::fuzz::check_jobs(sch::parse_qstat_jobs(text)); }); break;
    case 1: refused_or_ran(ErrorKind::internal, [&] { sch::parse_pbs_json_timestamp(text); }); break;
    case 2:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& m : sch::parse_qstat_metadata(text)) FUZZ_CHECK(!m.job_id.empty());
      });
      break;
    case 3: refused_or_ran(ErrorKind::internal, [&] { portico::fuzz::check_nodes(sch::parse_pbsnodes(text)); }); break;
    case 4:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& q : sch::parse_qstat_queues(text)) FUZZ_CHECK(!q.name.empty());
      });
      break;
    case 5: refused_or_ran(ErrorKind::internal, [&] { sch::parse_qstat_servers(text); }); break;
    case 6:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& r : sch::parse_pbs_rstat(text)) FUZZ_CHECK(!r.name.empty());
      });
      break;
    case 7:
      refused_or_ran(ErrorKind::internal, [&] { FUZZ_CHECK(!sch::parse_pbs_version(text).empty()); });
      refused_or_ran(ErrorKind::internal, [&] { FUZZ_CHECK(!sch::parse_qsub_output(text).empty()); });
      break;
    case 8:
      if (auto seconds = sch::parse_pbs_duration(text)) {
        FUZZ_CHECK(*seconds >= 0);
        // Printed back as HH:MM:SS, the duration reads the same.
        char again[64];
        std::snprintf(again, sizeof again, "%02lld:%02lld:%02lld", static_cast<long long>(*seconds / 3600),
                      static_cast<long long>(*seconds / 60 % 60), static_cast<long long>(*seconds % 60));
        FUZZ_CHECK(sch::parse_pbs_duration(again) == seconds);
      }
      break;
    case 9: sch::parse_pbs_time(text); break;
  }
  return 0;
}
