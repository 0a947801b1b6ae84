#include "scheduler/pbs_cli.hpp"

#include "core/ascii.hpp"
#include "core/error.hpp"
#include "core/shell.hpp"
#include "core/names.hpp"
#include "scheduler/command_output.hpp"
#include "scheduler/pbs_parse.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <chrono>

namespace portico::scheduler {

namespace {

using core::ErrorKind;
using core::Failure;

// Each method builds its Command in a local before co_await (g++ 12, see architecture.md).
core::Command command(std::vector<std::string> argv) {
  core::Command c;
  c.argv = std::move(argv);
  return c;
}

// Said with every health message: the backend is only tested against documented output.
constexpr std::string_view no_live_test = "PBS backend (no live test: checked only against documented PBS output)";

bool contains(std::string_view text, std::string_view needle) { return text.find(needle) != std::string_view::npos; }

// The first line of stderr, without the "qsub: " prefix.
std::string message_of(std::string_view err) {
  auto line = err.substr(0, err.find('\n'));
  for (std::string_view tool : {"qsub: ", "qdel: ", "qstat: "})
    if (line.starts_with(tool)) line.remove_prefix(tool.size());
  return excerpt(line, 300);
}

const std::string& pbs_output(const core::CommandResult& result, std::string_view what) {
  if (!result.timed_out && result.exit_status != 0)
    if (auto refusal = pbs_refusal(result.err)) throw *refusal;
  return successful_output(result, what);
}

bool is_final(std::string_view state) {
  return state == "COMPLETED" || state == "FAILED" || state == "CANCELLED" || state == "TIMEOUT" ||
         state == "OUT_OF_MEMORY";
}

// One PBS resource list item "name=value": a resource name, and a value without spaces or
// commas (those would start another item or another word for qsub).
bool valid_resource(std::string_view item) {
  auto eq = item.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) return false;
  auto name = item.substr(0, eq);
  if (!std::isalpha(static_cast<unsigned char>(name.front()))) return false;
  for (unsigned char c : name)
    if (!(core::ascii_alnum(c) || c == '_')) return false;
  for (unsigned char c : item.substr(eq + 1))
    if (c <= ' ' || c == ',' || c == 0x7f || c == '"' || c == '\'') return false;
  return true;
}

}  // namespace

std::optional<core::Failure> pbs_refusal(std::string_view err) {
  // Order matters: the more specific phrases first.
  static constexpr std::array<std::pair<std::string_view, ErrorKind>, 16> phrases{{
      {"Unknown Job Id", ErrorKind::not_found},
      {"Unauthorized Request", ErrorKind::forbidden},
      {"Bad UID for job execution", ErrorKind::forbidden},
      {"Access from host not allowed", ErrorKind::forbidden},
      {"per-user limit", ErrorKind::forbidden},
      {"User does not have permission", ErrorKind::forbidden},
      {"Unknown queue", ErrorKind::bad_request},
      {"Unknown resource", ErrorKind::bad_request},
      {"Undefined attribute", ErrorKind::bad_request},
      {"Illegal attribute or resource value", ErrorKind::bad_request},
      {"illegal -", ErrorKind::bad_request},
      {"Queue is not enabled", ErrorKind::bad_request},
      {"Job violates queue and/or server resource limits", ErrorKind::bad_request},
      {"Job has finished", ErrorKind::bad_request},
      {"Request invalid for state of job", ErrorKind::bad_request},
      {"cannot be submitted to a reservation", ErrorKind::bad_request},
  }};
  for (const auto& [phrase, kind] : phrases) {
    if (!contains(err, phrase)) continue;
    if (kind == ErrorKind::not_found) return Failure(kind, "Job not found: " + message_of(err));
    return Failure(kind, message_of(err));
  }
  return std::nullopt;
}

core::Command pbs_submit_command(const JobSubmission& job, const std::string& qsub_path) {
  if (job.standard_input && !job.standard_input->empty())
    throw Failure(ErrorKind::bad_request, "PBS has no standard input for batch jobs: leave standardInput out");
  core::Command c;
  auto& argv = c.argv;
  argv = {"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", job.working_directory};
  if (!job.env.empty()) {
    argv.push_back("env");
    for (const auto& [name, value] : job.env) {
      if (!valid_env_name(name)) throw Failure(ErrorKind::internal, "invalid environment variable name");
      argv.push_back(name + "=" + value);
    }
  }
  argv.push_back(qsub_path);
  if (job.inherit_environment) argv.push_back("-V");
  auto option = [&argv](const char* flag, const std::optional<std::string>& value) {
    if (value && !value->empty()) {
      argv.push_back(flag);
      argv.push_back(*value);
    }
  };
  option("-N", job.name);
  option("-A", job.account);
  if (job.reservation && !job.reservation->empty()) option("-q", job.reservation);
  else option("-q", job.partition);
  if (job.constraints && !job.constraints->empty()) {
    std::string_view list = *job.constraints;
    std::size_t start = 0;
    while (start <= list.size()) {
      auto end = std::min(list.find(',', start), list.size());
      auto item = list.substr(start, end - start);
      if (!valid_resource(item))
        throw core::validation_error("body", "constraints",
                                     "on a PBS cluster: a resource list name=value[,name=value...], e.g. "
                                     "walltime=01:00:00,select=1:ncpus=2");
      argv.push_back("-l");
      argv.emplace_back(item);
      start = end + 1;
    }
  }
  for (const auto* path : {&job.standard_output, &job.standard_error})
    if (*path && (*path)->find(':') != std::string::npos)
      throw core::validation_error("body", path == &job.standard_output ? "standardOutput" : "standardError",
                                   "on a PBS cluster a path cannot hold ':' (PBS reads host:path)");
  option("-o", job.standard_output);
  option("-e", job.standard_error);
  if (job.time_limit) {
    argv.push_back("-l");
    argv.push_back("walltime=" + pbs_walltime(*job.time_limit));
  }
  if (job.hold) argv.push_back("-h");
  // PSI/J resources as one select chunk per node: select=N:ncpus=..:mpiprocs=..:ngpus=..:mem=..
  if (job.nodes || job.tasks_per_node || job.cpus_per_task || job.gpus_per_task || job.memory_bytes || job.tasks) {
    std::int64_t nodes = job.nodes.value_or(1);
    std::int64_t per_node = job.tasks_per_node.value_or(job.tasks ? (*job.tasks + nodes - 1) / nodes : 1);
    std::string select = "select=" + std::to_string(nodes) + ":ncpus=" + std::to_string(per_node * job.cpus_per_task.value_or(1)) +
                         ":mpiprocs=" + std::to_string(per_node);
    if (job.gpus_per_task) select += ":ngpus=" + std::to_string(per_node * *job.gpus_per_task);
    if (job.memory_bytes) select += ":mem=" + std::to_string((*job.memory_bytes + 1048575) / 1048576) + "mb";
    argv.push_back("-l");
    argv.push_back(select);
  }
  if (job.exclusive) {
    argv.push_back("-l");
    argv.push_back("place=excl");
  }
  for (const auto& [name, value] : job.options) {
    std::string item = name + "=" + value;
    if (!valid_resource(item))
      throw core::validation_error("body", "attributes.custom_attributes.pbs." + name,
                                   "on a PBS cluster: a resource value without spaces, commas or quotes");
    argv.push_back("-l");
    argv.push_back(item);
  }
  if (job.script_path) argv.push_back(*job.script_path);  // absolute (confined): never read as an option
  else c.stdin_data = job.script.value_or("");
  return c;
}

boost::asio::awaitable<std::string> PbsCli::version(core::CommandRunner& runner) {
  {
    std::lock_guard lock(mutex_);
    if (version_) co_return *version_;
  }
  core::Command cmd = command({"qstat", "--version"});
  auto result = co_await runner.run(std::move(cmd));
  std::string version = parse_pbs_version(successful_output(result, "qstat --version"));
  std::lock_guard lock(mutex_);
  version_ = version;
  co_return version;
}

boost::asio::awaitable<std::vector<Node>> PbsCli::nodes(core::CommandRunner& runner) {
  core::Command cmd = command({"pbsnodes", "-a", "-F", "json"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_pbsnodes(pbs_output(result, "pbsnodes -a"));
}

boost::asio::awaitable<std::vector<Partition>> PbsCli::partitions(core::CommandRunner& runner) {
  core::Command cmd = command({"qstat", "-Q", "-f", "-F", "json"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_qstat_queues(pbs_output(result, "qstat -Q"));
}

boost::asio::awaitable<std::vector<Reservation>> PbsCli::reservations(core::CommandRunner& runner) {
  core::Command cmd = command({"pbs_rstat", "-f"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_pbs_rstat(pbs_output(result, "pbs_rstat -f"));
}

boost::asio::awaitable<std::vector<Account>> PbsCli::accounts(core::CommandRunner&, std::string user) {
  if (!core::valid_unix_name(user))
    throw Failure(ErrorKind::bad_request, "invalid user name", "accounts() for " + excerpt(user));
  std::vector<Account> out;
  for (const auto& p : projects_)
    if (std::find(p.users.begin(), p.users.end(), user) != p.users.end()) out.push_back({p.name, out.empty()});
  co_return out;
}

boost::asio::awaitable<std::vector<AccountAllocation>> PbsCli::allocations(core::CommandRunner& runner,
                                                                            const std::vector<std::string>& accounts) {
  auto minutes = [](const std::optional<double>& hours) -> std::optional<std::int64_t> {
    if (!hours) return std::nullopt;
    return static_cast<std::int64_t>(*hours * 60 + 0.5);
  };
  std::vector<AccountAllocation> out;
  for (const auto& name : accounts)
    for (const auto& p : projects_) {
      if (p.name != name) continue;
      AccountAllocation a;
      a.account = p.name;
      a.description = p.description;
      a.node_time.limit_minutes = minutes(p.node_hours);
      for (const auto& u : p.users) a.users.push_back({u, NodeTime{minutes(p.user_node_hours), 0}});
      std::sort(a.users.begin(), a.users.end(), [](const auto& x, const auto& y) { return x.user < y.user; });
      out.push_back(std::move(a));
    }
  if (out.empty()) co_return out;
  JobFilter filter;
  filter.all_users = true;
  filter.time_window = std::chrono::hours(24 * 365 * 50);
  auto jobs = co_await this->jobs(runner, runner.user(), filter);
  for (const auto& job : jobs) {
    if (!job.account || !job.time.elapsed) continue;
    for (auto& a : out) {
      if (a.account != *job.account) continue;
      const auto used = std::max<std::int64_t>(job.allocation_nodes, 1) * *job.time.elapsed;
      a.node_time.used_seconds += used;
      for (auto& u : a.users)
        if (job.user && u.user == *job.user) u.node_time.used_seconds += used;
    }
  }
  co_return out;
}

boost::asio::awaitable<Health> PbsCli::ping(core::CommandRunner& runner) {
  auto start = std::chrono::steady_clock::now();
  core::Command cmd = command({"qstat", "-B", "-f", "-F", "json"});
  auto result = co_await runner.run(std::move(cmd));
  Health health;
  health.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  std::string said;
  if (result.timed_out) {
    said = "qstat -B timed out";
  } else if (result.exit_status != 0) {
    said = fmt::format("qstat -B failed with exit status {}: {}", result.exit_status, excerpt(result.err, 200));
  } else {
    try {
      for (const auto& server : parse_qstat_servers(result.out)) {
        health.healthy = health.healthy || server.up;
        said += fmt::format("{}server {} is {}", said.empty() ? "" : "; ", server.name, server.state);
      }
    } catch (const Failure& e) {
      said = e.what();
    }
  }
  health.message = fmt::format("{}: {}", no_live_test, said);
  co_return health;
}

boost::asio::awaitable<std::string> PbsCli::qsub_path(core::CommandRunner& runner) {
  {
    std::lock_guard lock(mutex_);
    if (qsub_path_) co_return *qsub_path_;
  }
  core::Command cmd = command({"sh", "-c", "command -v qsub"});
  auto result = co_await runner.run(std::move(cmd));
  std::string path = successful_output(result, "command -v qsub");
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  if (path.empty() || path.front() != '/') throw Failure(ErrorKind::internal, "qsub is not on the cluster's PATH");
  std::lock_guard lock(mutex_);
  qsub_path_ = path;
  co_return path;
}

boost::asio::awaitable<std::string> PbsCli::submit(core::CommandRunner& runner, const JobSubmission& job) {
  auto path = co_await qsub_path(runner);
  core::Command cmd = pbs_submit_command(job, path);
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_qsub_output(pbs_output(result, "qsub"));
}

boost::asio::awaitable<std::vector<Job>> PbsCli::jobs(core::CommandRunner& runner, std::string user, const JobFilter& filter) {
  core::Command cmd = command({"qstat", "-f", "-F", "json", "-x"});
  auto result = co_await runner.run(std::move(cmd));
  const auto& text = pbs_output(result, "qstat -f -x");
  auto all = parse_qstat_jobs(text);
  auto now = parse_pbs_json_timestamp(text);
  std::vector<Job> out;
  for (auto& j : all) {
    if (!filter.all_users && j.user != user) continue;
    if (filter.account && !filter.account->empty() && j.account != *filter.account) continue;
    if (filter.name && !filter.name->empty() && j.name != *filter.name) continue;
    // Finished before the window: left out. Without the server's timestamp or the job's end
    // time there is nothing to compare, and the job stays.
    if (is_final(j.status.state) && now && j.time.end && *j.time.end < *now - filter.time_window.count()) continue;
    out.push_back(std::move(j));
  }
  co_return out;
}

boost::asio::awaitable<std::optional<std::string>> PbsCli::qstat_job(core::CommandRunner& runner, const std::string& job_id) {
  // A job array is "<id>[]" to PBS but listed as <id> (pbs_parse.hpp): asked again that way.
  const std::array<std::string, 2> ids = {job_id, job_id + "[]"};
  for (const auto& id : ids) {
    core::Command cmd = command({"qstat", "-f", "-F", "json", "-x", id});
    auto result = co_await runner.run(std::move(cmd));
    if (!result.timed_out && result.exit_status != 0 && contains(result.err, "Unknown Job Id")) continue;
    co_return pbs_output(result, "qstat -f -x");
  }
  co_return std::nullopt;
}

boost::asio::awaitable<std::optional<Job>> PbsCli::job(core::CommandRunner& runner, std::string job_id) {
  auto text = co_await qstat_job(runner, job_id);
  if (!text) co_return std::nullopt;
  for (auto& j : parse_qstat_jobs(*text))
    if (j.job_id == job_id) co_return std::move(j);
  co_return std::nullopt;
}

boost::asio::awaitable<JobMetadata> PbsCli::metadata(core::CommandRunner& runner, std::string job_id) {
  auto text = co_await qstat_job(runner, job_id);
  if (text)
    for (auto& m : parse_qstat_metadata(*text))
      if (m.job_id == job_id) co_return std::move(m);
  throw Failure(ErrorKind::not_found, "Job not found: " + job_id);
}

boost::asio::awaitable<void> PbsCli::cancel(core::CommandRunner& runner, std::string job_id) {
  core::Command cmd = command({"qdel", job_id});
  auto result = co_await runner.run(std::move(cmd));
  if (!result.timed_out && result.exit_status != 0 && contains(result.err, "Unknown Job Id")) {
    core::Command array = command({"qdel", job_id + "[]"});
    auto second = co_await runner.run(std::move(array));
    if (second.exit_status == 0 || !contains(second.err, "Unknown Job Id")) {
      pbs_output(second, "qdel");
      co_return;
    }
  }
  pbs_output(result, "qdel");
}

boost::asio::awaitable<void> PbsCli::release(core::CommandRunner& runner, std::string job_id) {
  core::Command cmd = command({"qrls", job_id});
  auto result = co_await runner.run(std::move(cmd));
  pbs_output(result, "qrls");
}

core::Command qalter_command(const std::string& job_id, const JobUpdate& update) {
  if (update.partition)
    throw Failure(ErrorKind::not_implemented, "attributes.queue_name: a PBS job's queue cannot be changed here");
  core::Command c = command({"qalter"});
  if (update.name) c.argv.insert(c.argv.end(), {"-N", *update.name});
  if (update.account) c.argv.insert(c.argv.end(), {"-A", *update.account});
  if (update.time_limit) c.argv.insert(c.argv.end(), {"-l", "walltime=" + pbs_walltime(*update.time_limit)});
  c.argv.push_back(job_id);
  return c;
}

boost::asio::awaitable<void> PbsCli::update(core::CommandRunner& runner, std::string job_id, const JobUpdate& update) {
  core::Command cmd = qalter_command(job_id, update);
  auto result = co_await runner.run(std::move(cmd));
  pbs_output(result, "qalter");
}

boost::asio::awaitable<void> PbsCli::attach(core::CommandRunner& runner, std::string job_id, std::string shell_command) {
  auto found = co_await job(runner, job_id);
  if (!found) throw Failure(ErrorKind::not_found, "Job not found: " + job_id);
  if (found->status.state != "RUNNING")
    throw Failure(ErrorKind::bad_request, "job " + job_id + " is not running (" + found->status.state + ")");
  // pbs_attach works on the job's primary execution host, the first of exec_host.
  const auto host = found->nodes.substr(0, found->nodes.find(','));
  const bool plain_host = !host.empty() && host.front() != '-' &&
                          host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
                              std::string::npos;
  if (!plain_host) throw Failure(ErrorKind::internal, "job " + job_id + " has no usable execution host: " + host.substr(0, 100));
  // ssh joins the words after the host into one line for the remote shell: built by
  // command_line, like every other line Portico sends.
  auto remote = core::command_line({"pbs_attach", "-j", job_id, "/bin/sh", "-c", shell_command});
  core::Command cmd = command({"ssh", "-o", "BatchMode=yes", "-T", "--", host, remote});
  auto result = co_await runner.run(std::move(cmd));
  pbs_output(result, "pbs_attach");
}

}  // namespace portico::scheduler
