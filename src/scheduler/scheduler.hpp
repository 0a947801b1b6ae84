#pragma once
// The seam between Portico and a cluster's batch scheduler: what the status API asks of it.
// One implementation per scheduler kind (slurm_cli.hpp runs the Slurm CLI over the caller's
// CommandRunner); the compute API extends this interface with job operations.
//
// Every method runs as the user whose CommandRunner it is given, so the scheduler applies
// that user's view and permissions. REQUIRES: the runner outlives the returned awaitable.
// Methods throw core::Failure: whatever the runner throws (SSH unreachable, ...), or the
// kinds of command_output.hpp's successful_output() for a failed command, or internal for
// output the implementation cannot parse. Implementations are safe to call from several
// coroutines and threads at once.
//
// Usage:
//   scheduler::SlurmCli slurm;
//   std::vector<scheduler::Node> nodes = co_await slurm.nodes(runner_for_alice);

#include "core/command.hpp"
#include "scheduler/accounting.hpp"
#include "scheduler/job_model.hpp"
#include "scheduler/model.hpp"
#include "scheduler/submission.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::scheduler {

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // The FirecREST SchedulerType: "slurm" or "pbs".
  virtual std::string_view type() const noexcept = 0;

  // The scheduler's release, e.g. "22.05.8". Asked once, then remembered.
  virtual boost::asio::awaitable<std::string> version(core::CommandRunner& runner) = 0;

  virtual boost::asio::awaitable<std::vector<Node>> nodes(core::CommandRunner& runner) = 0;
  virtual boost::asio::awaitable<std::vector<Partition>> partitions(core::CommandRunner& runner) = 0;
  virtual boost::asio::awaitable<std::vector<Reservation>> reservations(core::CommandRunner& runner) = 0;

  // The accounts user may charge. user must be a valid Unix name (core::valid_unix_name);
  // otherwise throws core::Failure(bad_request).
  virtual boost::asio::awaitable<std::vector<Account>> accounts(core::CommandRunner& runner, std::string user) = 0;

  // Each of `accounts` (as accounts() named them) with its allocation, its use and those of
  // its users (accounting.hpp); an account the scheduler does not know is left out.
  // REQUIRES: accounts outlives the awaitable (callers co_await at once).
  virtual boost::asio::awaitable<std::vector<AccountAllocation>> allocations(core::CommandRunner& runner,
                                                                             const std::vector<std::string>& accounts) = 0;

  // Whether the scheduler answers, how fast, and what it said. A scheduler that is down or
  // answers strangely is an unhealthy Health, not an exception; only the runner's own
  // failures (the cluster cannot be reached at all) propagate.
  virtual boost::asio::awaitable<Health> ping(core::CommandRunner& runner) = 0;

  // ---- jobs. Aggregates (JobSubmission, JobFilter) are taken by reference, as g++ 12 has
  // miscompiled aggregates passed by value into coroutines; callers co_await at once.
  // Job ids are plain alphanumeric words (the API checks them before they get here).
  // Refusals of the scheduler are 4xx Failures with its own words (refusal.hpp).

  // Submits the job and returns its id as soon as the scheduler accepted it.
  virtual boost::asio::awaitable<std::string> submit(core::CommandRunner& runner, const JobSubmission& job) = 0;

  struct JobFilter {
    bool all_users = false;              // honoured as far as the scheduler lets the user see
    std::optional<std::string> account;
    std::optional<std::string> name;
    // How far back finished jobs are listed (FirecREST's time_window: 1h, 8h, 24h, 3d, 7d).
    // Pending and running jobs are listed whatever it is.
    std::chrono::seconds time_window = std::chrono::hours(24);
  };
  // Pending and running jobs and those finished within filter.time_window.
  virtual boost::asio::awaitable<std::vector<Job>> jobs(core::CommandRunner& runner, std::string user, const JobFilter& filter) = 0;
  // One job, also while it is pending; nullopt when the scheduler does not know it.
  virtual boost::asio::awaitable<std::optional<Job>> job(core::CommandRunner& runner, std::string job_id) = 0;
  virtual boost::asio::awaitable<JobMetadata> metadata(core::CommandRunner& runner, std::string job_id) = 0;
  virtual boost::asio::awaitable<void> cancel(core::CommandRunner& runner, std::string job_id) = 0;
  // Lets a job submitted with JobSubmission::hold start.
  virtual boost::asio::awaitable<void> release(core::CommandRunner& runner, std::string job_id) = 0;
  // Changes a pending job (name, account, partition, time limit). A running job is
  // core::Failure(conflict) when the scheduler says so (callers check the state first); a field
  // the backend cannot change is core::Failure(not_implemented) naming it, and nothing changes.
  virtual boost::asio::awaitable<void> update(core::CommandRunner& runner, std::string job_id, const JobUpdate& update) = 0;
  // Runs a shell command inside the job's allocation, alongside it.
  virtual boost::asio::awaitable<void> attach(core::CommandRunner& runner, std::string job_id, std::string command) = 0;
};

}  // namespace portico::scheduler
