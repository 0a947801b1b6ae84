#pragma once
// A scheduler job as the compute API reports it (FirecREST's JobModel and JobMetadataModel), as
// plain values. The API layers map these to their wire formats; nothing here knows JSON. A
// field is std::optional when the scheduler may not know it (a pending job has no start time,
// a running one no exit code).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portico::scheduler {

struct JobStatus {
  std::string state;                           // Slurm's base state: PENDING, RUNNING, COMPLETED, CANCELLED, ...
  std::optional<std::string> state_reason;     // Slurm's Reason: JobHeldUser, Resources, ...
  std::optional<std::int64_t> exit_code;       // of the script or step; "3:0" -> 3
  std::optional<std::int64_t> interrupt_signal;  // the signal that ended it; "0:9" -> 9
};

struct JobTime {
  std::optional<std::int64_t> elapsed;    // seconds
  std::optional<std::int64_t> start;      // seconds since the epoch
  std::optional<std::int64_t> end;        // seconds since the epoch
  std::optional<std::int64_t> suspended;  // seconds
  std::optional<std::int64_t> limit;      // seconds; absent when unlimited or the partition's
};

// One step of a job: "123.batch", "123.extern", "123.0".
struct JobTask {
  std::string id;
  std::string name;
  JobStatus status;
  JobTime time;
};

struct Job {
  std::string job_id;
  std::string name;
  JobStatus status;
  std::vector<JobTask> tasks;
  JobTime time;
  std::optional<std::string> account;
  std::int64_t allocation_nodes = 0;
  std::string cluster;
  std::optional<std::string> group;
  std::string nodes;                  // Slurm hostlist expression; empty while pending
  std::string partition;
  std::optional<std::int64_t> priority;
  std::optional<std::string> kill_request_user;  // who cancelled it: a user name, or a uid Slurm did not name
  std::optional<std::string> user;
  std::string working_directory;
};

struct JobMetadata {
  std::string job_id;
  std::optional<std::string> script;
  std::optional<std::string> standard_input;
  std::optional<std::string> standard_output;
  std::optional<std::string> standard_error;
};

}  // namespace portico::scheduler
