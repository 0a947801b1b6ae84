#pragma once
// Pure parsers of PBS Pro / OpenPBS command output: the JSON forms (`qstat -f -F json` with `-x`
// for finished jobs, `qstat -Q -f -F json`, `qstat -B -f -F json`, `pbsnodes -a -F json`) and
// the text of `pbs_rstat -f`, `qstat --version` and `qsub`. OpenPBS is not packaged in Debian:
// these are tested against golden files written from the documented format
// (testdata/pbs/README.md, which cites the Reference Guide), not against a live PBS.
//
// PBS words are mapped to the job and status models, which speak Slurm's vocabulary because
// that is what FirecREST clients poll for (COMPLETED, FAILED, ...); each mapping is written
// beside the function that does it. Times are read as UTC: PBS prints the server's local time
// (ctime(3) layout) without a zone.
//
// Every parser throws core::Failure(internal) on output that is not the documented form.
// Thread safety: pure functions of their arguments.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/job_model.hpp"
#include "scheduler/model.hpp"

namespace portico::scheduler {

// Every job of `qstat -f -F json [-x]`. Job ids lose their ".server" suffix (FirecREST ids are
// letters and digits), and a job array's "[]" ("2005[].pbs01" is listed as 2005: PbsCli asks
// for "2005[]" when PBS does not know 2005); the server becomes the job's cluster.
//
// job_state (Reference Guide, "Job States"):
//   Q queued, H held, W waiting for its execution time, T in transit -> PENDING
//     (state_reason: the scheduler's comment, else JobHeld / BeginTime / Transit)
//   R running, B array begun (some subjobs run) -> RUNNING;  E exiting -> COMPLETING
//   S, U suspended -> SUSPENDED;  M moved to another server -> COMPLETED (not ours any more)
//   F finished, X finished subjob -> by Exit_status (Reference Guide, "Job Exit Status"):
//     0 COMPLETED; 1..255 the script's exit code: FAILED; >= 256 killed by signal
//     Exit_status - 256: CANCELLED (interrupt_signal set, exit_code 0); -29 JOB_EXEC_KILL_WALLTIME
//     TIMEOUT; -27 JOB_EXEC_KILL_MEM and -26 JOB_EXEC_KILL_VMEM OUT_OF_MEMORY; any other
//     negative JOB_EXEC_* code FAILED (exit_code keeps the negative code). Without an
//     Exit_status (deleted before it ran) by substate: 91 terminated CANCELLED, 93 failed
//     FAILED, else COMPLETED.
std::vector<Job> parse_qstat_jobs(std::string_view json_text);

// The "timestamp" (epoch seconds, the server's clock) of any `-F json` output; nullopt when
// absent. The reference "now" for the time window of finished jobs.
std::optional<std::int64_t> parse_pbs_json_timestamp(std::string_view json_text);

// The metadata PBS keeps of one job (paths without their "host:" prefix; no script: PBS shows
// it to no user command).
std::vector<JobMetadata> parse_qstat_metadata(std::string_view json_text);

// "HH:MM:SS" (hours may exceed 24) to seconds; nullopt otherwise.
std::optional<std::int64_t> parse_pbs_duration(std::string_view text);

// "Tue Nov 25 09:59:01 2025" (ctime(3) layout, day of month possibly space-padded) as UTC
// epoch seconds; nullopt otherwise.
std::optional<std::int64_t> parse_pbs_time(std::string_view text);

// `qstat --version`: "pbs_version = 23.06.06" -> "23.06.06".
std::string parse_pbs_version(std::string_view text);

// `qsub` output "1234.pbs01" -> "1234"; a job array's "1234[].pbs01" -> "1234" too.
std::string parse_qsub_output(std::string_view text);

// `pbsnodes -a -F json`. state (Reference Guide, "Vnode States"; a vnode may have several,
// comma-separated) -> free IDLE (MIXED when some ncpus are assigned), job-busy, job-exclusive,
// busy ALLOCATED, resv-exclusive RESERVED, down, state-unknown, unresolvable DOWN, offline DRAIN,
// stale FUTURE, provisioning, wait-provisioning POWERING_UP, sleep POWERED_DOWN; other words
// upper-cased. cpus = resources_available.ncpus, alloc_cpus = resources_assigned.ncpus,
// memory from resources_*.mem ("kb"/"mb"/"gb"/... sizes) in MiB, partitions = the vnode's
// queue when it is tied to one, address = Mom, hostname = resources_available.host,
// weight = priority.
std::vector<Node> parse_pbsnodes(std::string_view json_text);

// `qstat -Q -f -F json`: each queue a partition. state: enabled (accepts jobs) and started
// (runs them) -> UP; started only -> DRAIN; enabled only -> DOWN; neither -> INACTIVE.
// cpus and total_nodes from resources_available (else resources_max) ncpus and nodect.
std::vector<Partition> parse_qstat_queues(std::string_view json_text);

// `pbs_rstat -f`: one block per reservation, "Resv ID: R12.server" then "name = value" lines
// (a long value continues on lines that hold no " = "). name is the reservation's queue
// (e.g. "R12"), since that is what a job is submitted to (`qsub -q R12`); node_list the hosts
// of resv_nodes; times from reserve_start/reserve_end; state RESV_RUNNING -> ACTIVE, any other
// -> INACTIVE. Empty text (no reservations) is an empty list.
std::vector<Reservation> parse_pbs_rstat(std::string_view text);

// A server of `qstat -B -f -F json` and its server_state (Active, Idle, Scheduling,
// Hot_Start, Terminating, Terminating_Delay).
struct PbsServer {
  std::string name;
  std::string state;
  bool up = false;  // Active, Idle or Scheduling: it accepts and runs jobs
};
std::vector<PbsServer> parse_qstat_servers(std::string_view json_text);

}  // namespace portico::scheduler
