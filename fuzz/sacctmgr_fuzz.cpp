// What `sacctmgr` and accounting's `sacct` print (scheduler/slurm_parse.hpp, accounting.hpp):
// the user's accounts, the allocation limits (GrpTRESMins) and node time of the accounts,
// merged into allocations.
// Input: one byte choosing the reader, then the output; for the merge, the node-time output
// follows the limits after a NUL byte.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "scheduler/accounting.hpp"
#include "scheduler/slurm_parse.hpp"
#include "scheduler_checks.hpp"

namespace sch = portico::scheduler;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

namespace {

void check_allocations(std::string_view text) {
  const auto nul = text.find('\0');
  std::vector<sch::AssociationLimit> limits;
  std::vector<sch::JobNodeTime> jobs;
  if (!refused_or_ran(ErrorKind::internal, [&] { limits = sch::parse_sacctmgr_allocations(text.substr(0, nul)); }))
    return;
  if (nul != std::string_view::npos &&
      !refused_or_ran(ErrorKind::internal, [&] { jobs = sch::parse_sacct_node_time(text.substr(nul + 1)); }))
    return;
  for (const auto& j : jobs) FUZZ_CHECK(j.node_seconds >= 0);
  for (const auto& l : limits) FUZZ_CHECK(!l.node_minutes || *l.node_minutes >= 0);
  std::vector<std::string> accounts;
  for (const auto& l : limits)
    if (sch::valid_account_name(l.account)) accounts.push_back(l.account);
  const auto merged = sch::merge_allocations(accounts, "", limits, jobs);
  for (const auto& a : merged) {
    FUZZ_CHECK(std::find(accounts.begin(), accounts.end(), a.account) != accounts.end());
    FUZZ_CHECK(a.node_time.used_seconds >= 0);
    for (const auto& u : a.users) FUZZ_CHECK(u.node_time.used_seconds >= 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      refused_or_ran(ErrorKind::internal, [&] {
        std::set<std::string> names;
        for (const auto& a : sch::parse_sacctmgr_user_accounts(text)) {
          FUZZ_CHECK(!a.name.empty());
          FUZZ_CHECK(names.insert(a.name).second);  // each account once
        }
      });
      break;
    case 1: check_allocations(text); break;
    case 2: {
      // A TRES list and the name looked up in it, split at the first NUL.
      const auto nul = text.find('\0');
      refused_or_ran(ErrorKind::internal, [&] {
        const auto value = sch::tres_value(text.substr(0, nul), nul == std::string_view::npos ? "node" : text.substr(nul + 1));
        FUZZ_CHECK(!value || *value >= 0);
      });
      break;
    }
  }
  return 0;
}
