#pragma once
// Scheduler for PBS Pro / OpenPBS through its command-line tools over the caller's
// CommandRunner, as argv vectors read with the parsers of pbs_parse.hpp.
//
// NO LIVE TEST: OpenPBS is not packaged in Debian and the demo site runs Slurm, so this backend
// is tested only with a fake CommandRunner that checks each argv and replays outputs written
// from the PBS Reference Guide (testdata/pbs/README.md). The status API says so (ping's
// message).
//
// Choices where PBS has no FirecREST equivalent:
// - accounts: PBS keeps no list of the accounts a user may charge (Account_Name is free text a
//   site may check in a queuejob hook, which no user command lists), so they are the configured
//   projects (clusters[].scheduler.projects) that list the user, and no command is run.
// - allocations: the configured limits; the use is what PBS still remembers, summed from
//   `qstat -f -F json -x` (every user's jobs of the account: exec nodes x elapsed time), since
//   the server's accounting logs are not for users to read. Jobs older than the server's
//   job_history_duration are not counted.
// - ping: `qstat -B -f -F json`; healthy when a server's server_state is Active, Idle or
//   Scheduling.
// - jobs: `qstat -f -F json -x` lists every job the server still knows, finished ones for its
//   job_history_duration; qstat cannot filter by user with -f, so user, account, name and the
//   time window are applied to the parsed list (the window against the output's own
//   timestamp, the server's clock).
// - attach: pbs_attach must run on the job's primary execution host (the first of exec_host),
//   so the login node reaches it with `ssh -o BatchMode=yes -T -- <host> pbs_attach -j <id>
//   /bin/sh -c <command>`, as the user (PBS sites let a user log in to the nodes of their own
//   running jobs). A job that is not running is 400.
// - standard input: qsub has no option for a batch job's stdin, so it is refused (400).
//
// Thread-safe: the only state is the remembered version and qsub path, behind a mutex.

#include "config/config.hpp"
#include "core/error.hpp"
#include "scheduler/scheduler.hpp"

#include <mutex>
#include <optional>

namespace portico::scheduler {

class PbsCli final : public Scheduler {
 public:
  explicit PbsCli(std::vector<config::SchedulerProject> projects = {}) : projects_(std::move(projects)) {}

  std::string_view type() const noexcept override { return "pbs"; }

  // `qstat --version`, run once; a failed attempt is not remembered.
  boost::asio::awaitable<std::string> version(core::CommandRunner& runner) override;
  // `pbsnodes -a -F json`
  boost::asio::awaitable<std::vector<Node>> nodes(core::CommandRunner& runner) override;
  // `qstat -Q -f -F json`: queues as partitions.
  boost::asio::awaitable<std::vector<Partition>> partitions(core::CommandRunner& runner) override;
  // `pbs_rstat -f`
  boost::asio::awaitable<std::vector<Reservation>> reservations(core::CommandRunner& runner) override;
  // Empty (see above); throws Failure(bad_request) for an invalid user name.
  boost::asio::awaitable<std::vector<Account>> accounts(core::CommandRunner& runner, std::string user) override;
  // The configured projects among accounts, with the use of their jobs (above).
  boost::asio::awaitable<std::vector<AccountAllocation>> allocations(core::CommandRunner& runner,
                                                                     const std::vector<std::string>& accounts) override;
  // `qstat -B -f -F json`
  boost::asio::awaitable<Health> ping(core::CommandRunner& runner) override;

  // `sh -c 'cd "$1" && shift && exec "$@"' sh <workdir> [env NAME=value...] <qsub> -V ...`,
  // the script on stdin or as qsub's last argument (pbs_submit_command).
  boost::asio::awaitable<std::string> submit(core::CommandRunner& runner, const JobSubmission& job) override;
  boost::asio::awaitable<std::vector<Job>> jobs(core::CommandRunner& runner, std::string user, const JobFilter& filter) override;
  // `qstat -f -F json -x <id>`, then `<id>[]` (a job array) when PBS does not know <id>.
  boost::asio::awaitable<std::optional<Job>> job(core::CommandRunner& runner, std::string job_id) override;
  boost::asio::awaitable<JobMetadata> metadata(core::CommandRunner& runner, std::string job_id) override;
  // `qdel <id>`, then `qdel <id>[]` when PBS does not know <id>.
  boost::asio::awaitable<void> cancel(core::CommandRunner& runner, std::string job_id) override;
  // Throws Failure(not_implemented).
  boost::asio::awaitable<void> attach(core::CommandRunner& runner, std::string job_id, std::string command) override;
  // `qrls <id>`
  boost::asio::awaitable<void> release(core::CommandRunner& runner, std::string job_id) override;
  // `qalter -N <name> -A <account> -l walltime=<limit> <id>`; the queue is not qalter's to
  // change (qmove moves jobs between queues): not_implemented.
  boost::asio::awaitable<void> update(core::CommandRunner& runner, std::string job_id, const JobUpdate& update) override;

 private:
  boost::asio::awaitable<std::string> qsub_path(core::CommandRunner& runner);
  // `qstat -f -F json -x <id>` (then `<id>[]`): its output, or nullopt when PBS knows neither.
  boost::asio::awaitable<std::optional<std::string>> qstat_job(core::CommandRunner& runner, const std::string& job_id);

  std::vector<config::SchedulerProject> projects_;
  std::mutex mutex_;
  std::optional<std::string> version_;
  std::optional<std::string> qsub_path_;
};

// The command that submits job with qsub (pure; tested by its argv). qsub_path: absolute path
// of qsub on the cluster, so that a PATH among the job's variables cannot replace it.
//
// Environment variables: qsub's `-v NAME=value,...` list is split on commas and cannot carry a
// value holding a comma, and quotes in it are interpreted by qsub. Instead each variable is
// set with `env NAME=value` in front of qsub (one argv word each, quoted once by
// core::command_line) and `-V` hands qsub's whole environment to the job: qsub builds the
// job's Variable_List from its own environ and escapes commas itself, so quotes, commas,
// `$()` and newlines arrive as they were sent. (Without variables -V is still given, so the
// job sees the submitting environment as with sbatch's default --export=ALL.)
//
// Working directory: OpenPBS qsub has no option for it (Torque's -d is not PBS Pro's), so qsub
// runs from it (`cd` in a fixed `sh -c` script; the directory is a positional argument, never
// part of the script) and the job gets it as PBS_O_WORKDIR; output files land there by default.
// PBS starts the script in the user's home directory, as it always does.
// partition -> `-q <queue>`; reservation -> `-q <reservation queue>` (PBS submits into a
// reservation through its queue, "R123"), which wins over partition; account -> `-A`;
// name -> `-N`; standard output / error -> `-o` / `-e` (a path holding ':' is refused, as PBS
// would read "a:b" as host a); constraints: a PBS resource list "name=value[,name=value]"
// ("walltime=01:00:00,select=1:ncpus=4"), each item its own `-l name=value` (Slurm's feature
// expressions have no PBS equivalent; anything else is a 400). standard input is refused.
// Throws core::Failure(bad_request) for what PBS cannot do. REQUIRES: exactly one of
// script/script_path; env names valid.
core::Command pbs_submit_command(const JobSubmission& job, const std::string& qsub_path);
// `qalter` of updateJob; throws core::Failure(not_implemented) for a queue change.
core::Command qalter_command(const std::string& job_id, const JobUpdate& update);

// The Failure for a refused PBS command (qsub, qdel, qstat), or nullopt when the stderr is not a
// refusal this function knows: "Unknown Job Id" 404 (message starting "Job not found"),
// "Unauthorized Request", "Bad UID", "Access from host not allowed" and per-user limits 403,
// unknown queue, resource or attribute, illegal values, disabled queues, resource limits,
// finished jobs and invalid job states 400. The message is qsub's own line.
std::optional<core::Failure> pbs_refusal(std::string_view stderr_text);

}  // namespace portico::scheduler
