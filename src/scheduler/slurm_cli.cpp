#include "scheduler/slurm_cli.hpp"

#include "core/error.hpp"
#include "core/names.hpp"
#include "scheduler/command_output.hpp"
#include "scheduler/id_parse.hpp"
#include "scheduler/refusal.hpp"
#include "scheduler/slurm_job_parse.hpp"
#include "scheduler/slurm_parse.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <chrono>
#include <set>

namespace portico::scheduler {

namespace {

// squeue's and sacct's answers, asked at the same time over the pool: the job list costs the
// slower of the two instead of their sum. No job falls between them: one that ends meanwhile
// stays in squeue --states=all (slurmctld keeps it for MinJobAge) until sacct has it.
boost::asio::awaitable<std::pair<core::CommandResult, core::CommandResult>> both(core::CommandRunner& runner,
                                                                                  core::Command live,
                                                                                  core::Command accounted) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto live_run = runner.run(std::move(live));
  auto accounted_run = runner.run(std::move(accounted));
  auto results = co_await (std::move(live_run) && std::move(accounted_run));
  co_return std::pair{std::move(std::get<0>(results)), std::move(std::get<1>(results))};
}

// Each method builds its Command in a local before co_await: g++ 12 rejects a braced list of
// string literals inside a co_await expression ("array used as initializer").
core::Command command(std::vector<std::string> argv) {
  core::Command c;
  c.argv = std::move(argv);
  return c;
}

std::string describe(const std::vector<ControllerPing>& pings) {
  std::string text;
  for (const auto& p : pings) {
    if (!text.empty()) text += "; ";
    text += fmt::format("Slurmctld({}) at {} is {}", p.mode, p.host, p.up ? "UP" : "DOWN");
  }
  return text;
}

}  // namespace

boost::asio::awaitable<std::string> SlurmCli::version(core::CommandRunner& runner) {
  {
    std::lock_guard lock(mutex_);
    if (version_) co_return *version_;
  }
  core::Command cmd = command({"scontrol", "--version"});
  auto result = co_await runner.run(std::move(cmd));
  std::string version = parse_slurm_version(successful_output(result, "scontrol --version"));
  std::lock_guard lock(mutex_);
  version_ = version;
  co_return version;
}

boost::asio::awaitable<std::vector<Node>> SlurmCli::nodes(core::CommandRunner& runner) {
  core::Command cmd = command({"scontrol", "--all", "--oneliner", "show", "node"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_scontrol_nodes(successful_output(result, "scontrol show node"));
}

boost::asio::awaitable<std::vector<Partition>> SlurmCli::partitions(core::CommandRunner& runner) {
  core::Command cmd = command({"scontrol", "--all", "--oneliner", "show", "partition"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_scontrol_partitions(successful_output(result, "scontrol show partition"));
}

boost::asio::awaitable<std::vector<Reservation>> SlurmCli::reservations(core::CommandRunner& runner) {
  // Epoch seconds: scontrol's default is local time of the cluster, whose zone we do not know.
  core::Command cmd = command({"env", "SLURM_TIME_FORMAT=%s", "scontrol", "--oneliner", "show", "reservation"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_scontrol_reservations(successful_output(result, "scontrol show reservation"));
}

boost::asio::awaitable<std::vector<Account>> SlurmCli::accounts(core::CommandRunner& runner, std::string user) {
  // The argv is quoted for the shell, but sacctmgr itself would read "a,b" as two users.
  if (!core::valid_unix_name(user))
    throw core::Failure(core::ErrorKind::bad_request, "invalid user name", "accounts() for " + excerpt(user));
  core::Command cmd = command({"sacctmgr", "--noheader", "--parsable2", "show", "user",
                                             "name=" + user, "withassoc", "format=DefaultAccount,Account"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_sacctmgr_user_accounts(successful_output(result, "sacctmgr show user"));
}

boost::asio::awaitable<std::vector<AccountAllocation>> SlurmCli::allocations(core::CommandRunner& runner,
                                                                              const std::vector<std::string>& accounts) {
  if (accounts.empty()) co_return std::vector<AccountAllocation>{};
  auto cluster = co_await cluster_name(runner);
  co_return co_await slurm_allocations(runner, accounts, cluster);
}

boost::asio::awaitable<Health> SlurmCli::ping(core::CommandRunner& runner) {
  auto start = std::chrono::steady_clock::now();
  core::Command cmd = command({"scontrol", "ping"});
  auto result = co_await runner.run(std::move(cmd));
  Health health;
  health.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  if (result.timed_out) {
    health.message = "scontrol ping timed out";
    co_return health;
  }
  try {
    auto pings = parse_scontrol_ping(result.out);
    for (const auto& p : pings) health.healthy = health.healthy || p.up;
    health.message = describe(pings);
  } catch (const core::Failure& e) {
    // No controller line: scontrol itself failed (not installed, no slurm.conf, ...).
    health.message = result.exit_status != 0 && !result.err.empty()
                         ? fmt::format("scontrol ping failed with exit status {}: {}", result.exit_status,
                                       excerpt(result.err, 200))
                         : e.what();
  }
  co_return health;
}

namespace {

// "ClusterName = hpc" in `scontrol show config`.
std::string parse_cluster_name(std::string_view config) {
  for (std::size_t start = 0; start < config.size();) {
    auto end = std::min(config.find('\n', start), config.size());
    auto line = config.substr(start, end - start);
    if (line.rfind("ClusterName", 0) == 0) {
      auto eq = line.find('=');
      if (eq != std::string_view::npos) {
        auto value = line.substr(eq + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.remove_suffix(1);
        return std::string(value);
      }
    }
    start = end + 1;
  }
  return {};
}

std::string sacct_delimiter() { return std::string("--delimiter=") + job_field_separator; }

}  // namespace

boost::asio::awaitable<std::string> SlurmCli::sbatch_path(core::CommandRunner& runner) {
  {
    std::lock_guard lock(mutex_);
    if (sbatch_path_) co_return *sbatch_path_;
  }
  core::Command cmd = command({"sh", "-c", "command -v sbatch"});
  auto result = co_await runner.run(std::move(cmd));
  std::string path = successful_output(result, "command -v sbatch");
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  if (path.empty() || path.front() != '/')
    throw core::Failure(core::ErrorKind::internal, "sbatch is not on the cluster's PATH");
  std::lock_guard lock(mutex_);
  sbatch_path_ = path;
  co_return path;
}

boost::asio::awaitable<std::string> SlurmCli::cluster_name(core::CommandRunner& runner) {
  {
    std::lock_guard lock(mutex_);
    if (cluster_name_) co_return *cluster_name_;
  }
  core::Command cmd = command({"scontrol", "show", "config"});
  auto result = co_await runner.run(std::move(cmd));
  auto name = parse_cluster_name(successful_output(result, "scontrol show config"));
  std::lock_guard lock(mutex_);
  cluster_name_ = name;
  co_return name;
}

boost::asio::awaitable<std::string> SlurmCli::submit(core::CommandRunner& runner, const JobSubmission& job) {
  auto path = co_await sbatch_path(runner);
  core::Command cmd = sbatch_command(job, path);
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_sbatch_parsable(accepted_output(result, "sbatch"));
}

boost::asio::awaitable<std::vector<Job>> SlurmCli::jobs(core::CommandRunner& runner, std::string user, const JobFilter& filter) {
  // --states=all: a job that has just finished stays in slurmctld (MinJobAge) while slurmdbd may
  // not have recorded its end yet; without it, such a job is in neither answer for a moment.
  std::vector<std::string> squeue = {"env", "SLURM_TIME_FORMAT=%s", "squeue", "--noheader", "--states=all",
                                     "--format=" + std::string(squeue_job_format)};
  std::vector<std::string> sacct = {"env", "SLURM_TIME_FORMAT=%s", "sacct", "--noheader", "--parsable2",
                                    sacct_delimiter(), "--format=" + std::string(sacct_job_format),
                                    // Finished jobs of the window; sacct also lists every job
                                    // still pending or running in it, whenever it started.
                                    fmt::format("--starttime=now-{}seconds", filter.time_window.count()),
                                    "--endtime=now"};
  if (filter.all_users) {
    sacct.push_back("--allusers");
  } else {
    squeue.push_back("--user=" + user);
    sacct.push_back("--user=" + user);
  }
  if (filter.account && !filter.account->empty()) {
    squeue.push_back("--account=" + *filter.account);
    sacct.push_back("--accounts=" + *filter.account);
  }
  if (filter.name && !filter.name->empty()) {
    squeue.push_back("--name=" + *filter.name);
    sacct.push_back("--name=" + *filter.name);
  }
  core::Command squeue_cmd = command(std::move(squeue));
  core::Command sacct_cmd = command(std::move(sacct));
  auto answers = co_await both(runner, std::move(squeue_cmd), std::move(sacct_cmd));
  auto& [live, done] = answers;
  auto accounted = parse_sacct_jobs(accepted_output(done, "sacct"));
  auto cluster = co_await cluster_name(runner);
  auto queued = parse_squeue_jobs(accepted_output(live, "squeue"), cluster);
  auto merged = merge_jobs(std::move(queued), std::move(accounted));
  co_await live_exit_codes(runner, merged);
  co_await name_cancellers(runner, merged);
  co_return merged;
}

boost::asio::awaitable<void> SlurmCli::live_exit_codes(core::CommandRunner& runner, std::vector<Job>& jobs) {
  std::string ids;
  std::size_t count = 0;
  for (const auto& j : jobs)
    if (!j.status.exit_code && is_final_state(j.status.state)) {
      ids += (ids.empty() ? "" : ",") + j.job_id;
      ++count;
    }
  if (count == 0) co_return;
  std::vector<std::string> argv{"squeue", "--noheader", "--states=all", "--Format=" + std::string(squeue_exit_format)};
  // After a burst, thousands may be waiting for slurmdbd: then every job slurmctld shows is
  // cheaper than a command line of ids (Linux caps one argument at 128 KiB).
  constexpr std::size_t most_ids = 400;
  if (count <= most_ids) argv.push_back("--jobs=" + ids);
  core::Command cmd = command(std::move(argv));
  auto result = co_await runner.run(std::move(cmd));
  // The jobs may have left slurmctld meanwhile (squeue then refuses the ids): no exit code.
  if (result.exit_status != 0) co_return;
  auto codes = parse_squeue_exit_codes(result.out);
  for (auto& j : jobs)
    if (auto found = codes.find(j.job_id); found != codes.end() && !j.status.exit_code) {
      j.status.exit_code = found->second.code;
      j.status.interrupt_signal = found->second.signal;
    }
}

boost::asio::awaitable<void> SlurmCli::name_cancellers(core::CommandRunner& runner, std::vector<Job>& jobs) {
  std::set<std::string> uids;
  for (const auto& j : jobs)
    if (j.kill_request_user && !j.kill_request_user->empty() &&
        j.kill_request_user->find_first_not_of("0123456789") == std::string::npos)
      uids.insert(*j.kill_request_user);
  if (uids.empty()) co_return;
  std::vector<std::string> argv{"getent", "passwd"};
  argv.insert(argv.end(), uids.begin(), uids.end());
  core::Command cmd = command(std::move(argv));
  auto result = co_await runner.run(std::move(cmd));
  // Exit status 2: some uid has no entry (it stays a number); the others are printed.
  if (result.exit_status != 0 && result.exit_status != 2) co_return;
  auto names = parse_getent_passwd(result.out);
  for (auto& j : jobs)
    if (j.kill_request_user)
      if (auto it = names.find(*j.kill_request_user); it != names.end()) j.kill_request_user = it->second;
}

boost::asio::awaitable<std::optional<Job>> SlurmCli::job(core::CommandRunner& runner, std::string job_id) {
  core::Command squeue_cmd = command({"env", "SLURM_TIME_FORMAT=%s", "squeue", "--noheader", "--states=all",
                                      "--format=" + std::string(squeue_job_format), "--jobs=" + job_id});
  core::Command sacct_cmd = command({"env", "SLURM_TIME_FORMAT=%s", "sacct", "--noheader", "--parsable2",
                                     sacct_delimiter(), "--format=" + std::string(sacct_job_format), "--jobs=" + job_id});
  auto answers = co_await both(runner, std::move(squeue_cmd), std::move(sacct_cmd));
  auto& [live, done] = answers;
  auto accounted = parse_sacct_jobs(accepted_output(done, "sacct"));
  std::vector<Job> queued;
  // squeue refuses an id it no longer knows ("Invalid job id specified"): accounting may still.
  auto cluster = co_await cluster_name(runner);
  if (live.exit_status == 0) queued = parse_squeue_jobs(live.out, cluster);
  else if (!slurm_refusal(live.err) || slurm_refusal(live.err)->kind() != core::ErrorKind::not_found)
    accepted_output(live, "squeue");
  // Given an array's id, both tools answer for all its tasks: keep the one record asked for.
  auto merged = merge_jobs(std::move(queued), std::move(accounted));
  std::erase_if(merged, [&job_id](const Job& j) { return j.job_id != job_id; });
  co_await live_exit_codes(runner, merged);
  co_await name_cancellers(runner, merged);
  if (merged.empty()) co_return std::nullopt;
  co_return std::move(merged.front());
}

boost::asio::awaitable<JobMetadata> SlurmCli::metadata(core::CommandRunner& runner, std::string job_id) {
  core::Command show = command({"env", "SLURM_TIME_FORMAT=%s", "scontrol", "--oneliner", "show", "job", job_id});
  auto shown = co_await runner.run(std::move(show));
  const auto& text = accepted_output(shown, "scontrol show job");
  core::Command script = command({"scontrol", "write", "batch_script", job_id, "-"});
  auto written = co_await runner.run(std::move(script));
  // A job submitted elsewhere or by another user may have no script the caller can read.
  if (written.exit_status == 0 && !written.out_truncated) co_return parse_scontrol_job_metadata(text, written.out, job_id);
  co_return parse_scontrol_job_metadata(text, std::nullopt, job_id);
}

boost::asio::awaitable<void> SlurmCli::cancel(core::CommandRunner& runner, std::string job_id) {
  // `scancel <array id>` would cancel every task of the array: cancel the one record by its
  // display id, found live by squeue or, once it has ended, in accounting.
  core::Command squeue_cmd = command({"squeue", "--noheader", "--format=" + std::string(squeue_id_format),
                                      "--jobs=" + job_id});
  auto live = co_await runner.run(std::move(squeue_cmd));
  std::optional<std::string> target;
  if (live.exit_status == 0) target = slurm_cancel_target(live.out, job_id);
  else if (!slurm_refusal(live.err) || slurm_refusal(live.err)->kind() != core::ErrorKind::not_found)
    accepted_output(live, "squeue");
  if (!target) {
    core::Command sacct_cmd = command({"sacct", "--noheader", "--parsable2", sacct_delimiter(),
                                       "--format=" + std::string(sacct_id_format), "--jobs=" + job_id});
    auto done = co_await runner.run(std::move(sacct_cmd));
    target = slurm_cancel_target(accepted_output(done, "sacct"), job_id);
  }
  if (!target) throw core::Failure(core::ErrorKind::not_found, "Job not found: " + job_id);
  core::Command cmd = command({"scancel", *target});
  auto result = co_await runner.run(std::move(cmd));
  accepted_output(result, "scancel");
}

boost::asio::awaitable<void> SlurmCli::release(core::CommandRunner& runner, std::string job_id) {
  core::Command cmd = command({"scontrol", "release", job_id});
  auto result = co_await runner.run(std::move(cmd));
  accepted_output(result, "scontrol release");
}

boost::asio::awaitable<void> SlurmCli::update(core::CommandRunner& runner, std::string job_id, const JobUpdate& update) {
  core::Command cmd = scontrol_update_command(job_id, update);
  auto result = co_await runner.run(std::move(cmd));
  accepted_output(result, "scontrol update");
}

boost::asio::awaitable<void> SlurmCli::attach(core::CommandRunner& runner, std::string job_id, std::string shell_command) {
  core::Command cmd = command({"srun", "--jobid=" + job_id, "--overlap", "--", "/bin/sh", "-c", shell_command});
  auto result = co_await runner.run(std::move(cmd));
  accepted_output(result, "srun --jobid");
}

}  // namespace portico::scheduler
