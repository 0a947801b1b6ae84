#pragma once
// PSI/J jobs on any Scheduler: a PSI/J-shaped job specification (executable, arguments,
// environment, resources, attributes, launcher, container) as plain values, its validation, the
// JobSubmission and batch script that run it, and the PSI/J view of a scheduler job (states
// new, queued, held, active, completed, failed, canceled). Knows no JSON and no HTTP: an API
// reads its request into JobSpec and writes PsijStatus in its own shape (the IRI compute API
// does; FirecREST may).
//
// The script is constant text around words quoted by core::shell_quote: the executable, each
// argument, each environment value, pre/post-launch paths and container words reach the job
// byte for byte, whatever they hold (quotes, $(...), backticks, newlines, leading "--").
// Scheduler options (name, account, queue, paths, counts, allowed custom attributes) are argv
// words of the submission, never script text.
//
// Thread-safety: pure functions of their arguments.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scheduler/job_model.hpp"
#include "scheduler/submission.hpp"

namespace portico::scheduler::psij {

struct VolumeMount {
  std::string source;  // on the cluster (confined)
  std::string target;  // inside the container
  bool read_only = true;
};

struct Container {
  std::string image;
  std::vector<VolumeMount> volume_mounts;
};

struct Resources {
  std::optional<std::int64_t> node_count;
  std::optional<std::int64_t> process_count;
  std::optional<std::int64_t> processes_per_node;
  std::optional<std::int64_t> cpu_cores_per_process;
  std::optional<std::int64_t> gpu_cores_per_process;
  std::optional<std::int64_t> memory;  // bytes per node
  bool exclusive_node_use = true;      // the IRI default
};

struct Attributes {
  std::optional<std::int64_t> duration;  // seconds of wall time
  std::optional<std::string> queue_name;
  std::optional<std::string> account;
  std::optional<std::string> reservation_id;
  std::vector<std::pair<std::string, std::string>> custom_attributes;  // "slurm.constraint" -> "gpu"
};

struct JobSpec {
  std::optional<std::string> executable;
  std::vector<std::string> arguments;
  std::optional<std::string> directory;
  std::optional<std::string> name;
  bool inherit_environment = true;
  std::vector<std::pair<std::string, std::string>> environment;
  std::optional<std::string> stdin_path;
  std::optional<std::string> stdout_path;
  std::optional<std::string> stderr_path;
  std::optional<Container> container;
  Resources resources;
  Attributes attributes;
  std::optional<std::string> pre_launch;   // a script sourced before the launch
  std::optional<std::string> post_launch;  // a script sourced after it
  std::optional<std::string> launcher;     // single (default), srun, mpirun
};

// What one cluster allows and where its jobs run by default.
struct Site {
  std::string scheduler = "slurm";              // "slurm" or "pbs": the prefix of its custom attributes
  std::vector<std::string> custom_attributes;   // allowed keys ("slurm.constraint")
  std::vector<std::string> container_command;   // argv template with {image}, {mounts}; empty: none
  std::vector<std::string> mount_words;         // per mount, with {source}, {target}, {mode}
  std::string default_directory;                // the job's directory when the spec names none
  // Confines a cluster path: returns it normalised, or throws core::validation_error naming
  // `field` (filesystem::confine). REQUIRED.
  std::function<std::string(std::string_view path, std::string_view field)> confine;
};

// The submission and script of a job. Counts are 1..10^9 and memory at most 2^60 bytes, so
// nothing computed from them overflows. Every problem is reported at once: throws
// core::Failure(validation) with one field per problem ("executable",
// "resources.process_count", "environment.1X", "attributes.custom_attributes.slurm.qos", ...),
// or core::Failure(not_implemented) for a container on a cluster without a runtime. Nothing
// here runs anything.
JobSubmission to_submission(const JobSpec& spec, const Site& site);

// The batch script alone (to_submission's), for tests and documentation.
std::string job_script(const JobSpec& spec, const Site& site);

// A job as PSI/J sees it.
struct Status {
  std::string state;                     // new|queued|held|active|completed|failed|canceled
  std::optional<std::int64_t> exit_code;
  std::string message;                   // the scheduler's state and reason, e.g. "PENDING (BeginTime)"
  std::optional<std::int64_t> time;      // seconds since the epoch of the state's start, when known
};

Status status_of(const Job& job);

// True for a job that has ended (completed, failed, canceled).
bool is_final(const Status& status) noexcept;

// What the scheduler knows of a job submitted by other means (FirecREST, sbatch): its name,
// directory, queue, account, duration and node count; no executable.
JobSpec spec_from_job(const Job& job);

// The JobUpdate of updateJob: name, duration, queue_name, account of `spec`.
JobUpdate update_of(const JobSpec& spec);

}  // namespace portico::scheduler::psij
