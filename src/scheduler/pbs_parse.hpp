#pragma once
// Pure parsers of PBS Pro / OpenPBS output in its JSON form (`qstat -f -F json`, with `-x` for
// finished jobs). OpenPBS is not packaged in Debian: these are tested against golden files
// written from the documented format (testdata/pbs/README.md), not against a live PBS.
//
// Thread safety: pure functions of their arguments.

#include <string_view>
#include <vector>

#include "scheduler/job_model.hpp"

namespace portico::scheduler {

// Every job of `qstat -f -F json [-x]`. Job ids lose their ".server" suffix (FirecREST ids are
// letters and digits); the server becomes the job's cluster. States: the letter's name
// (Q QUEUED, R RUNNING, H HELD, W WAITING, E EXITING, S SUSPENDED, ...), and a finished job (F)
// is COMPLETED (exit 0), FAILED (other exit) or CANCELLED (killed by a signal: Exit_status
// 256+signal). Times are read as UTC: PBS prints the server's local time without a zone.
// Throws core::Failure(internal) on output that is not this JSON.
std::vector<Job> parse_qstat_jobs(std::string_view json_text);

// The metadata PBS keeps of one job (paths without their "host:" prefix; no script).
std::vector<JobMetadata> parse_qstat_metadata(std::string_view json_text);

// "HH:MM:SS" (hours may exceed 24) to seconds; nullopt otherwise.
std::optional<std::int64_t> parse_pbs_duration(std::string_view text);

}  // namespace portico::scheduler
