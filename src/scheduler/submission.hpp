#pragma once
// A batch job as a user asks for it, and the sbatch command that submits it. Pure.
//
// Every value reaches sbatch as its own argv word (quoted once by core::command_line), and the
// inline script as stdin, so names, paths and environment values arrive byte for byte.
// Environment variables are set with `env NAME=value` in front of sbatch (whose default
// --export=ALL hands them to the job): unlike --export=NAME=value lists, that keeps commas,
// quotes and newlines in values intact. sbatch is then called by the absolute path the
// cluster's PATH gives (resolved once per cluster), so a job's own PATH cannot hide it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/command.hpp"

namespace portico::scheduler {

struct JobSubmission {
  std::optional<std::string> name;
  std::optional<std::string> account;
  std::optional<std::string> partition;
  std::optional<std::string> reservation;
  std::optional<std::string> constraints;
  std::string working_directory;
  std::optional<std::string> standard_input;
  std::optional<std::string> standard_output;
  std::optional<std::string> standard_error;
  std::map<std::string, std::string> env;
  std::optional<std::string> script;       // inline script, sent on stdin
  std::optional<std::string> script_path;  // a script already on the cluster
  std::optional<std::chrono::seconds> time_limit;  // wall time; absent: the partition's default
  // Submitted held: the job waits, taking no resources, until release() (transfer jobs whose
  // data has not arrived yet).
  bool hold = false;

  // ---- PSI/J jobs (psij.hpp): resources, extra options, environment inheritance. Absent:
  // the scheduler's default. Each backend renders them its own way (sbatch --nodes=..., PBS
  // -l select=...); slurmrestd submits such jobs through sbatch (hybrid mode).
  std::optional<std::int64_t> nodes;
  std::optional<std::int64_t> tasks;           // processes in all
  std::optional<std::int64_t> tasks_per_node;
  std::optional<std::int64_t> cpus_per_task;
  std::optional<std::int64_t> gpus_per_task;
  std::optional<std::int64_t> memory_bytes;    // per node
  bool exclusive = false;                      // whole nodes
  bool inherit_environment = true;             // false: the job starts from a clean environment
  bool literal_paths = false;                  // stdin/stdout/stderr paths without %-patterns
  // Extra scheduler options from the cluster's allow-list: option name ("constraint",
  // "begin"; letters, digits, '-' and '_') and value, each rendered as one argv word.
  std::vector<std::pair<std::string, std::string>> options;

  // True when any PSI/J field above differs from its default.
  bool has_psij_fields() const {
    return nodes || tasks || tasks_per_node || cpus_per_task || gpus_per_task || memory_bytes || exclusive ||
           !inherit_environment || literal_paths || !options.empty();
  }
};

// What updateJob may change of a pending job; absent fields stay as they are.
struct JobUpdate {
  std::optional<std::string> name;
  std::optional<std::string> account;
  std::optional<std::string> partition;
  std::optional<std::chrono::seconds> time_limit;
  bool empty() const { return !name && !account && !partition && !time_limit; }
};

// `scontrol update JobId=<id> JobName=... Account=... Partition=... TimeLimit=...`: each
// assignment one argv word. REQUIRES: job_id alphanumeric, !update.empty().
core::Command scontrol_update_command(const std::string& job_id, const JobUpdate& update);

// True for an option name of JobSubmission::options: [A-Za-z][A-Za-z0-9_-]*, at most 64 bytes.
bool valid_option_name(std::string_view name) noexcept;

// A path for sbatch's --input/--output/--error, kept literal: sbatch replaces %j, %u, ... in
// them unless the path holds a backslash, so '%' becomes "%%" in a path without one.
std::string sbatch_literal_path(std::string_view path);

// A time limit as Slurm's and PBS's "[D-]HH:MM:SS" (Slurm) or "HH:MM:SS" (PBS, hours may
// exceed 24): rounded up to whole seconds, at least one second.
std::string slurm_time_limit(std::chrono::seconds limit);
std::string pbs_walltime(std::chrono::seconds limit);

// True for a POSIX environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool valid_env_name(std::string_view name) noexcept;

// The command that submits the job with `sbatch --parsable`. sbatch_path: absolute path of
// sbatch on the cluster. REQUIRES: exactly one of script/script_path; env names valid.
core::Command sbatch_command(const JobSubmission& job, const std::string& sbatch_path);

// The job id in `sbatch --parsable` output ("123" or "123;cluster"); throws core::Failure
// (internal) when it is not one.
std::string parse_sbatch_parsable(std::string_view output);

}  // namespace portico::scheduler
