// slurmrestd's JSON answers (scheduler/slurm_rest_parse.hpp, accounting.hpp's
// parse_rest_allocation_limits), in every shape the readers take (v0.0.38 to v0.0.41).
// Input: one byte choosing the reader, then the body; for the allocation limits, the accounts
// body follows the associations body after a NUL byte.
#include <cstdint>
#include <string_view>

#include "scheduler/accounting.hpp"
#include "scheduler/slurm_rest_parse.hpp"
#include "scheduler_checks.hpp"

namespace sch = portico::scheduler;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

namespace {
constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 11) {
    case 0: {
      // Never throws: a body that is not JSON has no errors.
      const auto errors = sch::parse_rest_errors(body);
      if (auto refusal = sch::rest_refusal(errors)) FUZZ_CHECK(!errors.empty());
      break;
    }
    case 1: refused_or_ran(ErrorKind::internal, [&] { sch::parse_rest_release(body); }); break;
    case 2: refused_or_ran(ErrorKind::internal, [&] { sch::parse_rest_pings(body); }); break;
    case 3: refused_or_ran(ErrorKind::internal, [&] { portico::fuzz::check_nodes(sch::parse_rest_nodes(body)); }); break;
    case 4:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& p : sch::parse_rest_partitions(body)) FUZZ_CHECK(!p.name.empty());
      });
      break;
    case 5: refused_or_ran(ErrorKind::internal, [&] { sch::parse_rest_reservations(body, kNow); }); break;
    case 6:
      refused_or_ran(ErrorKind::internal, [&] {
        for (const auto& a : sch::parse_rest_associations(body, "alice")) FUZZ_CHECK(!a.name.empty());
      });
      break;
    case 7: refused_or_ran(ErrorKind::internal, [&] { portico::fuzz::check_jobs(sch::parse_rest_jobs(body, kNow)); }); break;
    case 8: refused_or_ran(ErrorKind::internal, [&] { portico::fuzz::check_jobs(sch::parse_rest_db_jobs(body)); }); break;
    case 9:
      // A refusal is the scheduler's words with their own kind; otherwise an id.
      refused_or_ran([&] { FUZZ_CHECK(!sch::parse_rest_submitted_job_id(body).empty()); });
      break;
    case 10: {
      const auto nul = body.find('\0');
      const auto accounts = nul == std::string_view::npos ? std::string_view() : body.substr(nul + 1);
      refused_or_ran(ErrorKind::internal, [&] { sch::parse_rest_allocation_limits(body.substr(0, nul), accounts); });
      break;
    }
  }
  return 0;
}
