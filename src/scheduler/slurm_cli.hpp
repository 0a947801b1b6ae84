#pragma once
// Scheduler for Slurm through its command-line tools (scontrol, sacctmgr), run over the
// caller's CommandRunner as argv vectors and read with the parsers of slurm_parse.hpp.
// Thread-safe: the only state is the remembered version, behind a mutex.

#include "scheduler/scheduler.hpp"

#include <mutex>
#include <optional>

namespace portico::scheduler {

class SlurmCli final : public Scheduler {
 public:
  std::string_view type() const noexcept override { return "slurm"; }

  // `scontrol --version`, run once; later calls answer from memory. A failed attempt is not
  // remembered, so the next call asks again.
  boost::asio::awaitable<std::string> version(core::CommandRunner& runner) override;

  // `scontrol --all --oneliner show node`
  boost::asio::awaitable<std::vector<Node>> nodes(core::CommandRunner& runner) override;
  // `scontrol --all --oneliner show partition`
  boost::asio::awaitable<std::vector<Partition>> partitions(core::CommandRunner& runner) override;
  // `env SLURM_TIME_FORMAT=%s scontrol --oneliner show reservation`
  boost::asio::awaitable<std::vector<Reservation>> reservations(core::CommandRunner& runner) override;
  // `sacctmgr --noheader --parsable2 show user name=<user> withassoc format=DefaultAccount,Account`
  boost::asio::awaitable<std::vector<Account>> accounts(core::CommandRunner& runner, std::string user) override;
  // sacctmgr's limits and sacct's node time (accounting.hpp), of this cluster (ClusterName).
  boost::asio::awaitable<std::vector<AccountAllocation>> allocations(core::CommandRunner& runner,
                                                                     const std::vector<std::string>& accounts) override;
  // Slurm's ClusterName (`scontrol show config`), asked once.
  boost::asio::awaitable<std::string> local_cluster_name(core::CommandRunner& runner) { return cluster_name(runner); }
  // `scontrol ping`: healthy when any controller is UP (the tool's own exit status rule);
  // the message is its controller lines, or why there are none.
  boost::asio::awaitable<Health> ping(core::CommandRunner& runner) override;

  // `env NAME=value... <sbatch> --parsable ...` with the script on stdin (submission.hpp);
  // sbatch's absolute path is looked up once (`command -v sbatch`).
  boost::asio::awaitable<std::string> submit(core::CommandRunner& runner, const JobSubmission& job) override;
  // squeue (pending, running) merged with sacct (`--starttime=now-<time window>seconds
  // --endtime=now`: finished in the window; steps as tasks). Jobs carry their raw ids, so each
  // task of a job array is a job of its own (slurm_job_parse.hpp).
  boost::asio::awaitable<std::vector<Job>> jobs(core::CommandRunner& runner, std::string user, const JobFilter& filter) override;
  boost::asio::awaitable<std::optional<Job>> job(core::CommandRunner& runner, std::string job_id) override;
  // `scontrol --oneliner show job` and `scontrol write batch_script <id> -`.
  boost::asio::awaitable<JobMetadata> metadata(core::CommandRunner& runner, std::string job_id) override;
  // `scancel <display id>` of the one record whose raw id is job_id, found with squeue, else
  // sacct (scancel says nothing about unknown ids, and `scancel <array id>` would cancel the
  // whole array).
  boost::asio::awaitable<void> cancel(core::CommandRunner& runner, std::string job_id) override;
  // `scontrol release <id>`
  boost::asio::awaitable<void> release(core::CommandRunner& runner, std::string job_id) override;
  // `scontrol update JobId=<id> JobName=... Account=... Partition=... TimeLimit=...`
  boost::asio::awaitable<void> update(core::CommandRunner& runner, std::string job_id, const JobUpdate& update) override;
  // `srun --jobid=<id> --overlap -- /bin/sh -c <command>`
  boost::asio::awaitable<void> attach(core::CommandRunner& runner, std::string job_id, std::string command) override;

 private:
  boost::asio::awaitable<std::string> sbatch_path(core::CommandRunner& runner);
  // Slurm names who cancelled a job by uid ("CANCELLED by 0"); the parser names the job's owner,
  // this names anyone else, with one `getent passwd` for all (slurmrestd gives names too).
  boost::asio::awaitable<void> name_cancellers(core::CommandRunner& runner, std::vector<Job>& jobs);
  // A job that has just ended is final in squeue's answer before slurmdbd records it, and
  // squeue's --format has no exit code: those jobs get theirs with one more squeue call
  // (squeue_exit_format), made only while such a job exists.
  boost::asio::awaitable<void> live_exit_codes(core::CommandRunner& runner, std::vector<Job>& jobs);
  // Slurm's ClusterName (`scontrol show config`), for jobs squeue reports: asked once.
  boost::asio::awaitable<std::string> cluster_name(core::CommandRunner& runner);

  std::mutex mutex_;
  std::optional<std::string> version_;
  std::optional<std::string> sbatch_path_;
  std::optional<std::string> cluster_name_;
};

}  // namespace portico::scheduler
