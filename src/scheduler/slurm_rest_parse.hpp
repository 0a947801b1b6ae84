#pragma once
// Pure readers of slurmrestd's JSON answers and the one writer of its submission body, for the
// SlurmRest scheduler. Golden files in testdata/slurmrestd/ are real v0.0.38 answers of the
// site's Slurm 22.05; the later shapes (v0.0.39 .. v0.0.41) are read too, as far as Portico
// uses them, and tested with hand-made documents:
//   - numbers: a plain integer, or {"set": bool, "infinite": bool, "number": n};
//   - states: "idle" / "RUNNING", or a list of flags ["IDLE", "DRAIN"] (base state first);
//   - exit codes: a raw wait status (768 = 3:0) in /slurm/v0.0.38, or an object
//     {status, return_code, signal: {id, name}} in /slurmdb and later versions;
//   - meta.Slurm.release (v0.0.38) or meta.slurm.release (later).
// Every reader throws core::Failure(internal), quoting a short excerpt, when the text is not
// JSON or lacks the list it is about; fields it does not know are ignored.

#include "core/error.hpp"
#include "scheduler/job_model.hpp"
#include "scheduler/model.hpp"
#include "scheduler/slurm_parse.hpp"
#include "scheduler/submission.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::scheduler {

// One entry of a reply's "errors" list.
struct RestError {
  std::string error;        // "Invalid partition name specified"
  std::string description;  // "Unable to find JobId=99999999" (may be empty)
  std::int64_t number = 0;  // Slurm's error number (error_number or error_code)
  std::string source;       // "slurm_load_job" (may be empty)
};

// The "errors" list of any reply; empty when there is none or the body is not JSON.
std::vector<RestError> parse_rest_errors(std::string_view body);

// The Failure for a reply that carries errors: the refusals refusal.hpp knows (invalid job id
// → not_found "Job not found: ...", permission/account → forbidden, partition → bad_request)
// with slurmrestd's own words; otherwise nullopt.
std::optional<core::Failure> rest_refusal(const std::vector<RestError>& errors);

// "22.05.8" from meta.Slurm.release (meta.slurm.release in later versions); built from
// meta.Slurm.version.{major,minor,micro} when there is no release string.
std::string parse_rest_release(std::string_view body);

// GET /slurm/<v>/ping: one entry per controller.
std::vector<ControllerPing> parse_rest_pings(std::string_view body);

// GET /slurm/<v>/nodes, with the meaning of parse_scontrol_nodes(): states upper case with the
// base state first, cpu_load in CPUs (slurmrestd sends hundredths), features the active ones.
std::vector<Node> parse_rest_nodes(std::string_view body);

// GET /slurm/<v>/partitions. Hidden partitions are left out, as parse_scontrol_partitions does.
std::vector<Partition> parse_rest_partitions(std::string_view body);

// GET /slurm/<v>/reservations. v0.0.38 does not say whether a reservation is active: it is
// ACTIVE while start_time <= now < end_time, else INACTIVE (what scontrol prints).
std::vector<Reservation> parse_rest_reservations(std::string_view body, std::int64_t now);

// GET /slurmdb/<v>/associations?user=<user>: the user's accounts, each once, in order; the
// association flagged is_default is the default account.
std::vector<Account> parse_rest_associations(std::string_view body, std::string_view user);

// GET /slurm/<v>/jobs or /slurm/<v>/job/<id>: jobs as slurmctld knows them, in the meaning of
// parse_squeue_jobs(): no tasks, no suspended time; an exit code only once the job is finished
// (while it runs slurmctld's is a placeholder); elapsed is counted up to `now` while running.
std::vector<Job> parse_rest_jobs(std::string_view body, std::int64_t now);

// GET /slurmdb/<v>/jobs or /slurmdb/<v>/job/<id>: jobs as accounting knows them, in the meaning
// of parse_sacct_jobs(): steps as tasks ("<id>.batch"), kill_request_user, suspended time.
std::vector<Job> parse_rest_db_jobs(std::string_view body);

// True when the exit codes of parse_rest_db_jobs() cannot be trusted for this API version:
// slurmdbd's v0.0.38 dumper reports every normal exit as {"SUCCESS", 0} and drops signals
// (a job that exited 3 is "SUCCESS", 0 there), so only COMPLETED records are right.
bool rest_db_exit_codes_unreliable(std::string_view api_version);

// POST /slurm/<v>/job/submit's reply: the new job id. Throws rest_refusal() when the reply
// carries errors, internal when it has no job id.
std::string parse_rest_submitted_job_id(std::string_view body);

// The body of POST /slurm/<api_version>/job/submit for an inline script. v0.0.38 takes the
// environment as an object and the script beside "job"; later versions take "NAME=value"
// strings and the script inside "job". The job gets the user's login environment
// (get_user_environment) under the given variables, as sbatch's --export=ALL does over SSH.
// REQUIRES: job.script set; env names valid (valid_env_name).
std::string rest_submission_body(const JobSubmission& job, std::string_view api_version);

// Whether slurmrestd would submit this job as sbatch does. It does not read #SBATCH lines of
// the script (sbatch does), and it cannot run a script file (script_path): such jobs go to sbatch.
bool rest_can_submit(const JobSubmission& job);

}  // namespace portico::scheduler
