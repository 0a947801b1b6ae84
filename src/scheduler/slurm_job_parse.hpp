#pragma once
// Pure parsers of what Slurm (checked against 22.05; golden files in testdata/jobs/) says about
// jobs, and the merge of its two views: squeue knows pending and running jobs live, sacct knows
// finished ones and every job's steps. Each parser throws core::Failure(internal) quoting a
// short excerpt when the text is not what the tool prints.
//
// Why these forms and not `--json`: squeue/sacct --json in 22.05 print the data_parser v0.0.38
// schema, reshaped in 23.02 and again in 24.05, while the --format fields below have kept their
// names and meaning across releases (the same reasoning as slurm_parse.hpp).
//
// Why the 0x1F (ASCII unit separator) between fields: job names and working directories are
// free text and may hold '|', spaces, quotes and even newlines (sbatch accepts them all), so
// sacct's default '|' is ambiguous. No shell, editor or Slurm tool puts 0x1F in a name, and
// with a fixed field count a record whose name holds a newline is still recognised: lines are
// joined until the record has all its separators.
//
// Job arrays: `sbatch --array=0-2` makes one job record per task, each with its own numeric
// job id (JobIDRaw in sacct, %A in squeue), while Slurm's display id is "123_4" (or
// "123_[5-9]" for the tasks still pending together in the array's own record). The contract
// wants ids matching ^[a-zA-Z0-9]+$, so every job is reported under its raw id: each array
// task is a job of its own that GET jobs/{id} and DELETE find again. For a plain job both ids
// are the same. Careful: given the array's id (the raw id of one of its records), squeue,
// sacct, scontrol and scancel answer for or act on the whole array, so callers pick the one
// record they asked for, and cancel through its display id (slurm_cancel_target).
//
// Every command must run with SLURM_TIME_FORMAT=%s, so that times are epoch seconds and need no
// guess at the cluster's time zone; a time in any other form is a Failure, not a guess.

#include "scheduler/job_model.hpp"

#include <map>

#include <optional>
#include <string_view>
#include <vector>

namespace portico::scheduler {

inline constexpr char job_field_separator = '\x1f';

// The --format value for `env SLURM_TIME_FORMAT=%s sacct --noheader --parsable2
// --delimiter=<job_field_separator> --format=<sacct_job_format> ...`.
inline constexpr std::string_view sacct_job_format =
    "JobIDRaw,State,Reason,ExitCode,ElapsedRaw,Start,End,Suspended,TimelimitRaw,Account,NNodes,"
    "Cluster,Group,NodeList,Partition,Priority,UID,User,WorkDir,JobName";

// The --format value for `env SLURM_TIME_FORMAT=%s squeue --noheader --format=<squeue_job_format>`.
// Fields: %A job id (raw: an array task's own), %T state, %r reason, %a account, %D nodes, %P partition, %Q priority,
// %u user, %g group, %N node list, %S start (expected, while pending), %e end (expected, while
// running), %M time used, %l time limit, %Z working directory, %j name. No width is given, so
// squeue neither pads nor cuts a field.
inline constexpr std::string_view squeue_job_format =
    "%A\x1f%T\x1f%r\x1f%a\x1f%D\x1f%P\x1f%Q\x1f%u\x1f%g\x1f%N\x1f%S\x1f%e\x1f%M\x1f%l\x1f%Z\x1f%j";

// sacct output in the form above, in its order. Steps ("123.batch", "123.extern", "123.0")
// become the tasks of their allocation; a step whose allocation is not in the text is left
// out. "CANCELLED by 1001" is state CANCELLED with kill_request_user the job's user name when
// 1001 is the job's own UID, else "1001" (sacct names no other user, and a pure parser cannot
// look one up). "Unknown" times, "UNLIMITED" and "Partition_Limit" limits, "None assigned"
// node lists and "None" reasons are absent values. Empty text is an empty list.
std::vector<Job> parse_sacct_jobs(std::string_view text);

// squeue output in the form above, in its order. squeue has no exit code, suspended time or
// cluster field: the first two are absent, cluster is the one given (the caller knows which
// cluster it asked). Empty text is an empty list.
std::vector<Job> parse_squeue_jobs(std::string_view text, std::string_view cluster);

// One list from both views, without duplicates: the sacct jobs in their order, then the jobs
// only squeue knows (pending jobs slurmdbd has not heard of yet) in squeue's order. For a job in
// both, squeue's live status, times and placement win while sacct still calls it unfinished
// (the accounting database lags the controller); once sacct has a final state (COMPLETED,
// FAILED, TIMEOUT, ...) sacct's outcome (state, exit code, times) wins, while the controller's
// description (name, user, group, account, partition, nodes, working directory) is kept: a job
// that ended at once can have a placeholder record in slurmdbd for a moment. Tasks always come
// from sacct, which is the only one that knows steps.
std::vector<Job> merge_jobs(std::vector<Job> from_squeue, std::vector<Job> from_sacct);

// `env SLURM_TIME_FORMAT=%s scontrol --oneliner show job <id>` and, optionally, the output of
// `scontrol write batch_script <id> -` (the script verbatim; nullopt when the job has none, as
// for salloc, or it could not be read). Takes the first job record; a name holding a newline
// continues its record on the next line. StdIn/StdOut/StdErr are read from their last
// occurrence, because Slurm prints them after every free-text field (JobName, Comment,
// Command, WorkDir), so a name such as "x StdOut=/etc/passwd" cannot stand in for them.
// Throws core::Failure(internal) when there is no job record.
JobMetadata parse_scontrol_job_metadata(std::string_view show_job,
                                        std::optional<std::string_view> batch_script = std::nullopt,
                                        std::string_view job_id = {});

// The format values for listing raw and display ids side by side:
// `squeue --noheader --format=<squeue_id_format> --jobs=<id>` and
// `sacct --noheader --parsable2 --delimiter=<job_field_separator> --format=<sacct_id_format> --jobs=<id>`.
inline constexpr std::string_view squeue_id_format = "%A\x1f%i";
inline constexpr std::string_view sacct_id_format = "JobIDRaw,JobID";

// What to give scancel to cancel exactly the job record whose raw id is raw_id, read from the
// output of either command above: its display id ("123_4"; "123_[5-9]" for the pending tasks
// an array still holds together, without a "%N" throttle, which scancel does not read), or
// nullopt when the text has no such record. Steps ("123.batch") are skipped.
std::optional<std::string> slurm_cancel_target(std::string_view ids, std::string_view raw_id);

// Whether a job in this state has ended for good (COMPLETED, FAILED, CANCELLED, TIMEOUT, ...).
bool is_final_state(std::string_view state);

// "2:0" -> {2, 0}; "0:9" -> {0, 9}: the exit code and the signal that ended it.
struct ExitCode {
  std::int64_t code = 0;
  std::int64_t signal = 0;
};
ExitCode parse_slurm_exit_code(std::string_view text);

// A raw wait status as slurmctld keeps it -> {code, signal}: 768 -> {3, 0}; 9 -> {0, 9}.
ExitCode exit_code_from_wait_status(std::int64_t status);

// The --Format value for `squeue --noheader --states=all --jobs=<ids> --Format=<squeue_exit_format>`:
// the raw job id and the job's exit code, which only slurmctld knows between a job's end and
// slurmdbd's record of it, and for which squeue's --format letters have no field. Both are
// numbers; ":0" asks for no padding, the 0x1F suffix ends each field.
inline constexpr std::string_view squeue_exit_format = "JobID:0\x1f,exit_code:0\x1f";

// Output of the command above -> raw job id -> exit code (squeue prints the wait status).
std::map<std::string, ExitCode, std::less<>> parse_squeue_exit_codes(std::string_view text);

// A duration as Slurm prints it: "[days-]hours:minutes:seconds" or "minutes:seconds" ->
// seconds ("1-02:03:04" -> 93784, "1:00" -> 60). Throws core::Failure(internal) otherwise.
std::int64_t parse_slurm_duration(std::string_view text);

}  // namespace portico::scheduler
