#pragma once
// Allocations: what each scheduler account (a project) may use and has used, and the same for
// each of its users, as plain values. Slurm's are read from its accounting (sacctmgr for the
// limits, sacct for the use) by the pure parsers below, with golden files in
// testdata/accounting/ taken from the real site.
//
// Why sacct and not sshare for the use: sshare's GrpTRESRaw/RawUsage is counted only by
// priority/multifactor, and decays with PriorityDecayHalfLife, so it is neither what was used
// nor there at all under priority/basic (the demo site's, where it stays 0 whatever runs).
// sacct's allocations (-X) of the accounts, every user, every run of a requeued job
// (--duplicates), give node-seconds exactly: NNodes x ElapsedRaw, the way GrpTRESMins=node
// counts them, a running job with the time it has run so far. slurmrestd gives the limits
// (parse_rest_allocation_limits) but no use, so the slurm_rest backend asks sacct too.

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/command.hpp"

namespace portico::scheduler {

// Node time of one association.
struct NodeTime {
  std::optional<std::int64_t> limit_minutes;  // GrpTRESMins node=...; nullopt when none is set
  std::int64_t used_seconds = 0;              // node-seconds of its jobs
};

struct UserAllocation {
  std::string user;
  NodeTime node_time;
};

// One account the caller belongs to, with every user association it has.
struct AccountAllocation {
  std::string account;
  std::string description;  // sacctmgr prints a stored ' as `
  NodeTime node_time;       // the account's own association: the project's whole allocation
  std::vector<UserAllocation> users;
};

// ---- Slurm: pure pieces, in the order they are used.

// True for a name that may go into sacctmgr's and sacct's comma lists: Slurm account names
// as sacctmgr creates them (letters, digits, '_', '-', '.'), 1..64 characters.
bool valid_account_name(std::string_view name);

// `sacctmgr --noheader --parsable2 show account withassoc where name=<a,b> format=
// Cluster,Account,Description,User,GrpTRESMins`. REQUIRES: accounts valid and not empty.
std::vector<std::string> sacctmgr_allocation_argv(const std::vector<std::string>& accounts);

// `sacct --noheader --parsable2 --allusers --allocations --duplicates --accounts=<a,b>
// --starttime=1970-01-01T00:00:00 --endtime=now --format=Account,User,NNodes,ElapsedRaw`.
std::vector<std::string> sacct_node_time_argv(const std::vector<std::string>& accounts);

// The value of `name` in a TRES list ("cpu=10,node=60000"), nullopt when absent.
std::optional<std::int64_t> tres_value(std::string_view tres, std::string_view name);

// One row of sacctmgr_allocation_argv's answer: the account's own association has no user.
struct AssociationLimit {
  std::string cluster;
  std::string account;
  std::string description;
  std::string user;
  std::optional<std::int64_t> node_minutes;
};
// Throws core::Failure(internal) for a row that is not five '|'-separated fields or whose
// GrpTRESMins is not a TRES list.
std::vector<AssociationLimit> parse_sacctmgr_allocations(std::string_view text);

// slurmrestd's equivalent of the sacctmgr rows: GET /slurmdb/<v>/associations (the limits,
// max.tres.group.minutes of type node) and GET /slurmdb/<v>/accounts (the descriptions).
// Throws core::Failure(internal) for a body that is not such a document.
std::vector<AssociationLimit> parse_rest_allocation_limits(std::string_view associations, std::string_view accounts);

// One job of sacct_node_time_argv's answer.
struct JobNodeTime {
  std::string account;
  std::string user;
  std::int64_t node_seconds = 0;
};
std::vector<JobNodeTime> parse_sacct_node_time(std::string_view text);

// The accounts (in the order given) with their limits and use: rows of other clusters than
// `cluster` are ignored ("" takes all), a user association with no job has used 0, an account
// sacctmgr does not list is left out.
std::vector<AccountAllocation> merge_allocations(const std::vector<std::string>& accounts, const std::string& cluster,
                                                 const std::vector<AssociationLimit>& limits,
                                                 const std::vector<JobNodeTime>& jobs);

// sacct_node_time_argv over the runner, parsed.
boost::asio::awaitable<std::vector<JobNodeTime>> slurm_node_time(core::CommandRunner& runner,
                                                                 const std::vector<std::string>& accounts);

// Both commands at once over the runner, parsed and merged. REQUIRES: accounts valid (empty:
// no command, no allocation).
boost::asio::awaitable<std::vector<AccountAllocation>> slurm_allocations(core::CommandRunner& runner,
                                                                         const std::vector<std::string>& accounts,
                                                                         const std::string& cluster);

}  // namespace portico::scheduler
