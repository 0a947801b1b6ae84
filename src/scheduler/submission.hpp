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
#include <map>
#include <optional>
#include <string>
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
};

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
