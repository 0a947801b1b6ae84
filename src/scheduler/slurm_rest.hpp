#pragma once
// Scheduler for Slurm through slurmrestd (config `scheduler: {type: slurm_rest}`), in "hybrid"
// mode: what slurmrestd does as sbatch/squeue/sacct would, it does here; what it cannot do goes
// to the Slurm CLI over the same CommandRunner (a SlurmCli held inside):
//   - REST: ping/version, nodes, partitions, reservations, accounts (slurmdb associations),
//     submit of an inline script, jobs and job (slurmctld for live jobs merged with slurmdbd
//     for finished ones, as SlurmCli merges squeue and sacct), cancel;
//   - CLI: submit by path (slurmrestd takes only script text) and inline scripts holding
//     #SBATCH lines (slurmrestd does not read them, sbatch does), metadata (the batch script
//     and the resolved standard streams), attach (srun inside the allocation), and, with API
//     v0.0.38 only, the exit codes of finished jobs (slurmdbd's v0.0.38 answer loses them:
//     slurm_rest_parse.hpp), read with sacct for just those jobs.
//
// Each call acts as runner.user(): Portico mints a Slurm JWT for that user (slurm_token.hpp)
// and sends it as X-SLURM-USER-TOKEN with X-SLURM-USER-NAME, so slurmrestd applies the user's
// permissions. Every HTTP call is recorded with runner.record_call() ("slurmrestd:GET
// /slurm/v0.0.38/jobs"); tokens are never logged or put in an error. slurmrestd unreachable is
// core::Failure(backend_unreachable); its refusals are 4xx Failures with its own words.
// Thread-safe: the HTTP client and minter are immutable; the remembered version is behind a mutex.

#include "net/http_client.hpp"
#include "scheduler/scheduler.hpp"
#include "scheduler/slurm_cli.hpp"
#include "scheduler/slurm_token.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace portico::scheduler {

struct SlurmRestOptions {
  std::string api_url;                     // slurmrestd's base URL, e.g. "http://127.0.0.1:6820"
  std::string api_version = "v0.0.38";    // the OpenAPI plugin version in the paths
  std::chrono::milliseconds timeout{60'000};
};

class SlurmRest final : public Scheduler {
 public:
  // REQUIRES: http is not null.
  SlurmRest(std::shared_ptr<const net::HttpClient> http, SlurmRestOptions options, SlurmTokenMinter minter);

  std::string_view type() const noexcept override { return "slurm"; }

  // meta.Slurm.release of GET /slurm/<v>/ping, asked once.
  boost::asio::awaitable<std::string> version(core::CommandRunner& runner) override;
  boost::asio::awaitable<std::vector<Node>> nodes(core::CommandRunner& runner) override;
  boost::asio::awaitable<std::vector<Partition>> partitions(core::CommandRunner& runner) override;
  boost::asio::awaitable<std::vector<Reservation>> reservations(core::CommandRunner& runner) override;
  // GET /slurmdb/<v>/associations?user=<user>
  boost::asio::awaitable<std::vector<Account>> accounts(core::CommandRunner& runner, std::string user) override;
  // Limits and descriptions from slurmdbd through slurmrestd (/slurmdb/<v>/associations and
  // /accounts); the use from the CLI's sacct: slurmrestd has no aggregated use (no shares
  // endpoint before v0.0.39, and v0.0.38's association `usage` is null), and summing the
  // accounts' whole job history out of /slurmdb/<v>/jobs would move far more than one sacct.
  boost::asio::awaitable<std::vector<AccountAllocation>> allocations(core::CommandRunner& runner,
                                                                     const std::vector<std::string>& accounts) override;
  // GET /slurm/<v>/ping: healthy when a controller is UP; slurmrestd unreachable or refusing is
  // an unhealthy Health.
  boost::asio::awaitable<Health> ping(core::CommandRunner& runner) override;

  // POST /slurm/<v>/job/submit, or sbatch for what slurmrestd cannot submit (above).
  boost::asio::awaitable<std::string> submit(core::CommandRunner& runner, const JobSubmission& job) override;
  // GET /slurm/<v>/jobs merged with GET /slurmdb/<v>/jobs?start_time=now-<time window>seconds&users=<user>,
  // both also filtered here (user unless all_users, account, name). slurmdbd's v0.0.38 has no
  // user filter at all: with v0.0.38 the CLI lists (squeue + sacct), see slurm_rest.cpp.
  boost::asio::awaitable<std::vector<Job>> jobs(core::CommandRunner& runner, std::string user, const JobFilter& filter) override;
  // GET /slurm/<v>/job/<id> merged with GET /slurmdb/<v>/job/<id>.
  boost::asio::awaitable<std::optional<Job>> job(core::CommandRunner& runner, std::string job_id) override;
  // The CLI's (scontrol show job, scontrol write batch_script).
  boost::asio::awaitable<JobMetadata> metadata(core::CommandRunner& runner, std::string job_id) override;
  // DELETE /slurm/<v>/job/<id>, after checking the job exists.
  boost::asio::awaitable<void> cancel(core::CommandRunner& runner, std::string job_id) override;
  // The CLI's (scontrol release): slurmrestd's v0.0.38 cannot release a held job.
  boost::asio::awaitable<void> release(core::CommandRunner& runner, std::string job_id) override;
  // The CLI's (scontrol update), as release.
  boost::asio::awaitable<void> update(core::CommandRunner& runner, std::string job_id, const JobUpdate& update) override;
  // The CLI's (srun --jobid --overlap).
  boost::asio::awaitable<void> attach(core::CommandRunner& runner, std::string job_id, std::string command) override;

 private:
  struct Reply {
    unsigned status = 0;
    std::string body;
  };
  // One call as runner.user(), recorded in the audit trail. Returns 2xx replies; throws the
  // refusal of a reply with errors, or internal. When tolerated_error is a substring of one of
  // a non-2xx reply's errors, that reply is returned instead (e.g. "Nothing found").
  boost::asio::awaitable<Reply> call(core::CommandRunner& runner, std::string method, std::string path,
                                     std::string query = {}, std::string body = {},
                                     std::string tolerated_error = {});
  // v0.0.38: exit codes of finished jobs from sacct (see above).
  boost::asio::awaitable<void> correct_exit_codes(core::CommandRunner& runner, std::vector<Job>& jobs);

  std::shared_ptr<const net::HttpClient> http_;
  SlurmRestOptions options_;
  SlurmTokenMinter minter_;
  SlurmCli cli_;

  std::mutex mutex_;
  std::optional<std::string> version_;
};

}  // namespace portico::scheduler
