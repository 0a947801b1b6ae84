#include "scheduler/submission.hpp"

#include "core/ascii.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include "scheduler/command_output.hpp"

namespace portico::scheduler {

bool valid_env_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 256) return false;
  auto first = static_cast<unsigned char>(name.front());
  if (!(std::isalpha(first) || first == '_')) return false;
  for (unsigned char c : name)
    if (!(core::ascii_alnum(c) || c == '_')) return false;
  return true;
}

core::Command sbatch_command(const JobSubmission& job, const std::string& sbatch_path) {
  core::Command command;
  auto& argv = command.argv;
  if (!job.env.empty()) {
    argv.push_back("env");
    for (const auto& [name, value] : job.env) {
      if (!valid_env_name(name)) throw core::Failure(core::ErrorKind::internal, "invalid environment variable name");
      argv.push_back(name + "=" + value);
    }
  }
  argv.push_back(sbatch_path);
  argv.push_back("--parsable");
  argv.push_back("--chdir=" + job.working_directory);
  auto option = [&argv](const char* flag, const std::optional<std::string>& value) {
    if (value && !value->empty()) argv.push_back(std::string(flag) + *value);
  };
  option("--job-name=", job.name);
  option("--account=", job.account);
  option("--partition=", job.partition);
  option("--reservation=", job.reservation);
  option("--constraint=", job.constraints);
  if (job.literal_paths) {
    // PSI/J paths are literal (FirecREST's keep sbatch's %-patterns, as FirecREST does).
    auto literal = [&argv](const char* flag, const std::optional<std::string>& value) {
      if (value && !value->empty()) argv.push_back(std::string(flag) + sbatch_literal_path(*value));
    };
    literal("--input=", job.standard_input);
    literal("--output=", job.standard_output);
    literal("--error=", job.standard_error);
  } else {
    option("--input=", job.standard_input);
    option("--output=", job.standard_output);
    option("--error=", job.standard_error);
  }
  if (job.time_limit) argv.push_back("--time=" + slurm_time_limit(*job.time_limit));
  if (job.hold) argv.push_back("--hold");
  auto count = [&argv](const char* flag, const std::optional<std::int64_t>& value) {
    if (value) argv.push_back(std::string(flag) + std::to_string(*value));
  };
  count("--nodes=", job.nodes);
  count("--ntasks=", job.tasks);
  count("--ntasks-per-node=", job.tasks_per_node);
  count("--cpus-per-task=", job.cpus_per_task);
  count("--gpus-per-task=", job.gpus_per_task);
  if (job.memory_bytes) argv.push_back("--mem=" + std::to_string((*job.memory_bytes + 1048575) / 1048576) + "M");
  if (job.exclusive) argv.push_back("--exclusive");
  if (!job.inherit_environment) argv.push_back("--export=NONE");
  for (const auto& [name, value] : job.options) {
    if (!valid_option_name(name)) throw core::Failure(core::ErrorKind::internal, "invalid scheduler option name");
    argv.push_back("--" + name + "=" + value);
  }
  if (job.script_path) {
    argv.push_back("--");
    argv.push_back(*job.script_path);
  } else {
    command.stdin_data = job.script.value_or("");
  }
  return command;
}

bool valid_option_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || !std::isalpha(static_cast<unsigned char>(name.front()))) return false;
  for (unsigned char c : name)
    if (!(core::ascii_alnum(c) || c == '_' || c == '-')) return false;
  return true;
}

std::string sbatch_literal_path(std::string_view path) {
  if (path.find('\\') != std::string_view::npos) return std::string(path);
  std::string out;
  for (char c : path) {
    out += c;
    if (c == '%') out += '%';
  }
  return out;
}

core::Command scontrol_update_command(const std::string& job_id, const JobUpdate& update) {
  core::Command command;
  command.argv = {"scontrol", "update", "JobId=" + job_id};
  if (update.name) command.argv.push_back("JobName=" + *update.name);
  if (update.account) command.argv.push_back("Account=" + *update.account);
  if (update.partition) command.argv.push_back("Partition=" + *update.partition);
  if (update.time_limit) command.argv.push_back("TimeLimit=" + slurm_time_limit(*update.time_limit));
  return command;
}

std::string slurm_time_limit(std::chrono::seconds limit) {
  auto s = std::max<std::int64_t>(limit.count(), 1);
  auto days = s / 86400;
  s %= 86400;
  char text[64];
  if (days > 0)
    std::snprintf(text, sizeof text, "%lld-%02lld:%02lld:%02lld", static_cast<long long>(days),
                  static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

std::string pbs_walltime(std::chrono::seconds limit) {
  auto s = std::max<std::int64_t>(limit.count(), 1);
  char text[64];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

std::string parse_sbatch_parsable(std::string_view output) {
  auto line = output.substr(0, output.find('\n'));
  auto id = line.substr(0, line.find(';'));
  bool digits = !id.empty();
  for (char c : id) digits = digits && c >= '0' && c <= '9';
  if (!digits)
    throw core::Failure(core::ErrorKind::internal, "sbatch answered without a job id: \"" + excerpt(output) + "\"");
  return std::string(id);
}

}  // namespace portico::scheduler
