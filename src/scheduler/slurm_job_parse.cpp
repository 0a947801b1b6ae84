#include "scheduler/slurm_job_parse.hpp"

#include "core/error.hpp"
#include "core/numbers.hpp"
#include "scheduler/command_output.hpp"
#include "scheduler/slurm_parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <tuple>
#include <utility>

namespace portico::scheduler {

namespace {

using core::ErrorKind;
using core::Failure;

Failure malformed(std::string_view what, std::string_view text) {
  return Failure(ErrorKind::internal, fmt::format("unexpected {} output: \"{}\"", what, excerpt(text)));
}

// Splits text into records of exactly `count` fields separated by job_field_separator. Free
// text (a job name, a working directory) may hold newlines, so a line joins the record before
// it as long as that record has room for its separators: the rest of a name after a newline
// has none and stays with its record, while the next record's line has count - 1 and cannot
// fit. Blank lines between records are skipped.
std::vector<std::vector<std::string_view>> split_records(std::string_view text, std::size_t count,
                                                         std::string_view what) {
  std::vector<std::vector<std::string_view>> records;
  std::size_t begin = std::string_view::npos;  // start of the record being read
  std::size_t end = 0;                         // its end so far
  std::size_t separators = 0;                  // its separators so far
  auto finish = [&] {
    auto record = text.substr(begin, end - begin);
    if (separators != count - 1) throw malformed(what, record);
    std::vector<std::string_view> fields;
    fields.reserve(count);
    while (true) {
      auto sep = record.find(job_field_separator);
      fields.push_back(record.substr(0, sep));
      if (sep == std::string_view::npos) break;
      record.remove_prefix(sep + 1);
    }
    records.push_back(std::move(fields));
    begin = std::string_view::npos;
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto line_end = std::min(text.find('\n', pos), text.size());
    auto line = text.substr(pos, line_end - pos);
    auto k = static_cast<std::size_t>(std::count(line.begin(), line.end(), job_field_separator));
    if (begin != std::string_view::npos && separators + k <= count - 1) {
      end = line_end;
      separators += k;
    } else {
      if (begin != std::string_view::npos) finish();
      if (!line.empty()) {
        begin = pos;
        end = line_end;
        separators = k;
      }
    }
    pos = line_end + 1;
  }
  if (begin != std::string_view::npos) finish();
  return records;
}

// Slurm's ways of printing "no value" in these fields.
bool is_unset(std::string_view v) {
  // squeue prints NONE as the end of a running job without a time limit.
  return v.empty() || v == "N/A" || v == "(null)" || v == "None" || v == "NONE" || v == "Unknown" || v == "INVALID";
}

std::optional<std::string> text_or_absent(std::string_view v) {
  if (is_unset(v)) return std::nullopt;
  return std::string(v);
}

std::optional<std::int64_t> parse_int(std::string_view v) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
  return n;
}

std::optional<std::int64_t> int_or_absent(std::string_view v, std::string_view key, std::string_view what) {
  if (is_unset(v)) return std::nullopt;
  auto n = parse_int(v);
  if (!n) throw malformed(what, fmt::format("{}={}", key, v));
  return n;
}

// An epoch time under SLURM_TIME_FORMAT=%s. A formatted date means the variable did not reach
// the tool, and guessing its time zone would be silently wrong.
std::optional<std::int64_t> epoch_or_absent(std::string_view v, std::string_view key, std::string_view what) {
  return int_or_absent(v, key, what);
}

std::optional<std::int64_t> duration_or_absent(std::string_view v) {
  if (is_unset(v)) return std::nullopt;
  return parse_slurm_duration(v);
}

// A time limit: absent when the job has none of its own.
bool is_no_limit(std::string_view v) {
  return is_unset(v) || v == "UNLIMITED" || v == "Partition_Limit" || v == "NOT_SET" || v == "INFINITE";
}

// "CANCELLED by 1001" -> {"CANCELLED", "1001"}; "COMPLETED" -> {"COMPLETED", ""}.
std::pair<std::string, std::string> split_state(std::string_view v, std::string_view what) {
  auto space = v.find(' ');
  if (space == std::string_view::npos) {
    if (v.empty()) throw malformed(what, "empty state");
    return {std::string(v), {}};
  }
  auto state = v.substr(0, space);
  auto rest = v.substr(space + 1);
  if (state.empty() || !rest.starts_with("by ")) throw malformed(what, v);
  return {std::string(state), std::string(rest.substr(3))};
}

// Field positions of sacct_job_format.
enum SacctField : std::size_t {
  sa_job_id, sa_state, sa_reason, sa_exit_code, sa_elapsed_raw, sa_start, sa_end, sa_suspended,
  sa_timelimit_raw, sa_account, sa_nnodes, sa_cluster, sa_group, sa_node_list, sa_partition,
  sa_priority, sa_uid, sa_user, sa_work_dir, sa_job_name, sa_count
};

// Field positions of squeue_job_format.
enum SqueueField : std::size_t {
  sq_job_id, sq_state, sq_reason, sq_account, sq_nodes, sq_partition, sq_priority, sq_user,
  sq_group, sq_node_list, sq_start, sq_end, sq_time_used, sq_time_limit, sq_work_dir, sq_name,
  sq_count
};

constexpr std::string_view sacct_what = "sacct";
constexpr std::string_view squeue_what = "squeue";

JobStatus sacct_status(const std::vector<std::string_view>& f, std::string& killer) {
  JobStatus status;
  std::tie(status.state, killer) = split_state(f[sa_state], sacct_what);
  status.state_reason = text_or_absent(f[sa_reason]);
  if (!is_unset(f[sa_exit_code])) {
    auto exit = parse_slurm_exit_code(f[sa_exit_code]);
    status.exit_code = exit.code;
    status.interrupt_signal = exit.signal;
  }
  return status;
}

JobTime sacct_time(const std::vector<std::string_view>& f) {
  JobTime time;
  time.elapsed = int_or_absent(f[sa_elapsed_raw], "ElapsedRaw", sacct_what);
  time.start = epoch_or_absent(f[sa_start], "Start", sacct_what);
  time.end = epoch_or_absent(f[sa_end], "End", sacct_what);
  time.suspended = duration_or_absent(f[sa_suspended]);
  if (!is_no_limit(f[sa_timelimit_raw])) {
    auto minutes = int_or_absent(f[sa_timelimit_raw], "TimelimitRaw", sacct_what);
    if (minutes) {
      // TimelimitRaw is in minutes.
      auto seconds = *minutes >= 0 ? core::checked_mul_add<std::int64_t>(*minutes, 60, 0) : std::nullopt;
      if (!seconds) throw malformed(sacct_what, fmt::format("TimelimitRaw={}", *minutes));
      time.limit = seconds;
    }
  }
  return time;
}

}  // namespace

bool is_final_state(std::string_view state) {
  static constexpr std::array<std::string_view, 9> final_states = {
      "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED",
      "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT"};
  return std::find(final_states.begin(), final_states.end(), state) != final_states.end();
}

ExitCode exit_code_from_wait_status(std::int64_t status) {
  // Exit code in bits 8..15, the terminating signal in bits 0..6 (WEXITSTATUS, WTERMSIG).
  return {(status >> 8) & 0xff, status & 0x7f};
}

std::map<std::string, ExitCode, std::less<>> parse_squeue_exit_codes(std::string_view text) {
  constexpr std::string_view what = "squeue exit_code";
  std::map<std::string, ExitCode, std::less<>> codes;
  // Each line is "<id><US><status><US>": three fields, the last one empty.
  for (const auto& f : split_records(text, 3, what)) {
    auto status = parse_int(f[1]);
    if (f[0].empty() || f[0].find_first_not_of("0123456789") != std::string_view::npos || !status || *status < 0 ||
        !f[2].empty())
      throw malformed(what, f[0]);
    codes.emplace(std::string(f[0]), exit_code_from_wait_status(*status));
  }
  return codes;
}

ExitCode parse_slurm_exit_code(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) throw malformed("exit code", text);
  auto code = parse_int(text.substr(0, colon));
  auto signal = parse_int(text.substr(colon + 1));
  if (!code || !signal) throw malformed("exit code", text);
  return {*code, *signal};
}

std::int64_t parse_slurm_duration(std::string_view text) {
  std::int64_t days = 0;
  auto rest = text;
  if (auto dash = rest.find('-'); dash != std::string_view::npos) {
    auto d = parse_int(rest.substr(0, dash));
    if (!d || *d < 0) throw malformed("duration", text);
    days = *d;
    rest.remove_prefix(dash + 1);
  }
  std::vector<std::int64_t> parts;
  while (true) {
    auto colon = rest.find(':');
    auto n = parse_int(rest.substr(0, colon));
    if (!n || *n < 0) throw malformed("duration", text);
    parts.push_back(*n);
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  // Slurm prints hours:minutes:seconds, and minutes:seconds under an hour; with days, always
  // all three. A duration past int64 seconds is no duration Slurm printed.
  std::optional<std::int64_t> seconds;
  if (parts.size() == 3) {
    auto hours = core::checked_mul_add<std::int64_t>(days, 24, parts[0]);
    auto minutes = hours ? core::checked_mul_add<std::int64_t>(*hours, 60, parts[1]) : std::nullopt;
    seconds = minutes ? core::checked_mul_add<std::int64_t>(*minutes, 60, parts[2]) : std::nullopt;
  } else if (parts.size() == 2 && days == 0 && text.find('-') == std::string_view::npos) {
    seconds = core::checked_mul_add<std::int64_t>(parts[0], 60, parts[1]);
  }
  if (!seconds) throw malformed("duration", text);
  return *seconds;
}

std::vector<Job> parse_sacct_jobs(std::string_view text) {
  std::vector<Job> jobs;
  std::map<std::string, std::size_t, std::less<>> index;  // job id -> position in jobs
  for (const auto& f : split_records(text, sa_count, sacct_what)) {
    auto id = f[sa_job_id];
    if (id.empty()) throw malformed(sacct_what, "empty JobID");
    std::string killer;
    if (auto dot = id.find('.'); dot != std::string_view::npos) {
      auto parent = index.find(id.substr(0, dot));
      if (parent == index.end()) continue;
      JobTask task;
      task.id = std::string(id);
      task.name = std::string(f[sa_job_name]);
      task.status = sacct_status(f, killer);
      task.time = sacct_time(f);
      jobs[parent->second].tasks.push_back(std::move(task));
      continue;
    }
    Job job;
    job.job_id = std::string(id);
    job.name = std::string(f[sa_job_name]);
    job.status = sacct_status(f, killer);
    job.time = sacct_time(f);
    job.account = text_or_absent(f[sa_account]);
    job.allocation_nodes = int_or_absent(f[sa_nnodes], "NNodes", sacct_what).value_or(0);
    job.cluster = std::string(f[sa_cluster]);
    job.group = text_or_absent(f[sa_group]);
    // sacct says "None assigned" for a job that never got nodes.
    if (f[sa_node_list] != "None assigned") job.nodes = std::string(f[sa_node_list]);
    job.partition = std::string(f[sa_partition]);
    job.priority = int_or_absent(f[sa_priority], "Priority", sacct_what);
    job.user = text_or_absent(f[sa_user]);
    job.working_directory = std::string(f[sa_work_dir]);
    if (!killer.empty()) {
      job.kill_request_user = killer == f[sa_uid] && job.user ? *job.user : killer;
    }
    index.emplace(job.job_id, jobs.size());
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<Job> parse_squeue_jobs(std::string_view text, std::string_view cluster) {
  std::vector<Job> jobs;
  for (const auto& f : split_records(text, sq_count, squeue_what)) {
    Job job;
    job.job_id = std::string(f[sq_job_id]);
    if (job.job_id.empty()) throw malformed(squeue_what, "empty job id");
    job.name = std::string(f[sq_name]);
    std::string killer;
    std::tie(job.status.state, killer) = split_state(f[sq_state], squeue_what);
    job.status.state_reason = text_or_absent(f[sq_reason]);
    job.time.elapsed = duration_or_absent(f[sq_time_used]);
    job.time.start = epoch_or_absent(f[sq_start], "StartTime", squeue_what);
    job.time.end = epoch_or_absent(f[sq_end], "EndTime", squeue_what);
    if (!is_no_limit(f[sq_time_limit])) job.time.limit = parse_slurm_duration(f[sq_time_limit]);
    job.account = text_or_absent(f[sq_account]);
    job.allocation_nodes = int_or_absent(f[sq_nodes], "NumNodes", squeue_what).value_or(0);
    job.cluster = std::string(cluster);
    job.group = text_or_absent(f[sq_group]);
    job.nodes = std::string(f[sq_node_list]);
    job.partition = std::string(f[sq_partition]);
    job.priority = int_or_absent(f[sq_priority], "Priority", squeue_what);
    job.user = text_or_absent(f[sq_user]);
    job.working_directory = std::string(f[sq_work_dir]);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<Job> merge_jobs(std::vector<Job> from_squeue, std::vector<Job> from_sacct) {
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < from_sacct.size(); ++i) index.emplace(from_sacct[i].job_id, i);
  std::vector<Job> merged = std::move(from_sacct);
  for (auto& live : from_squeue) {
    auto found = index.find(live.job_id);
    if (found == index.end()) {
      index.emplace(live.job_id, merged.size());
      merged.push_back(std::move(live));
      continue;
    }
    Job& accounted = merged[found->second];
    if (is_final_state(accounted.status.state)) {
      // The outcome is accounting's; the description stays the controller's, which still holds
      // the job (MinJobAge): slurmdbd's first record of a job that ended at once can be a
      // placeholder for a moment (name "allocation", group root, no nodes).
      if (!live.name.empty()) accounted.name = std::move(live.name);
      if (live.user) accounted.user = std::move(live.user);
      if (live.group) accounted.group = std::move(live.group);
      if (live.account) accounted.account = std::move(live.account);
      if (!live.partition.empty()) accounted.partition = std::move(live.partition);
      if (!live.nodes.empty()) accounted.nodes = std::move(live.nodes);
      if (live.allocation_nodes > 0) accounted.allocation_nodes = live.allocation_nodes;
      if (!live.working_directory.empty()) accounted.working_directory = std::move(live.working_directory);
      continue;
    }
    // sacct's exit code of an unfinished job is a placeholder "0:0", so squeue's absent one is
    // the truth; its cluster and steps are real.
    live.tasks = std::move(accounted.tasks);
    if (live.cluster.empty()) live.cluster = std::move(accounted.cluster);
    if (!live.time.suspended) live.time.suspended = accounted.time.suspended;
    accounted = std::move(live);
  }
  return merged;
}

JobMetadata parse_scontrol_job_metadata(std::string_view show_job, std::optional<std::string_view> batch_script,
                                        std::string_view job_id) {
  constexpr std::string_view what = "scontrol show job";
  // A record runs from a line starting "JobId=" up to the next such line (a newline in a job
  // name continues the record on a line of its own).
  auto start = show_job.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || !show_job.substr(start).starts_with("JobId=")) {
    throw malformed(what, show_job);
  }
  if (!job_id.empty()) {
    // The record of job_id: "JobId=<id> " at the start of the text or of a line.
    auto head = fmt::format("JobId={} ", job_id);
    std::size_t at = show_job.substr(start).starts_with(head) ? start : std::string_view::npos;
    for (std::size_t nl = show_job.find('\n'); at == std::string_view::npos && nl != std::string_view::npos;
         nl = show_job.find('\n', nl + 1))
      if (show_job.substr(nl + 1).starts_with(head)) at = nl + 1;
    if (at == std::string_view::npos) throw malformed(what, head + "not in the output");
    start = at;
  }
  auto record = show_job.substr(start);
  for (std::size_t nl = record.find('\n'); nl != std::string_view::npos; nl = record.find('\n', nl + 1)) {
    if (record.substr(nl + 1).starts_with("JobId=")) {
      record = record.substr(0, nl);
      break;
    }
  }
  while (!record.empty() && (record.back() == '\n' || record.back() == '\r' || record.back() == ' ')) {
    record.remove_suffix(1);
  }
  auto fields = split_scontrol_record(record);
  auto last = [&](std::string_view key) -> std::optional<std::string> {
    for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
      if (it->key == key) return text_or_absent(it->value);
    }
    return std::nullopt;
  };
  JobMetadata meta;
  meta.job_id = fields.front().value;
  if (meta.job_id.empty()) throw malformed(what, record);
  meta.standard_input = last("StdIn");
  meta.standard_output = last("StdOut");
  meta.standard_error = last("StdErr");
  if (batch_script) meta.script = std::string(*batch_script);
  return meta;
}

std::optional<std::string> slurm_cancel_target(std::string_view ids, std::string_view raw_id) {
  constexpr std::string_view what = "job id list";
  for (const auto& f : split_records(ids, 2, what)) {
    if (f[0] != raw_id) continue;  // also skips steps: "123.batch" is never a plain id
    std::string display(f[1]);
    if (display.empty()) throw malformed(what, "empty job id");
    // "123_[1-2%1]": the throttle is part of the display, not of the id scancel reads.
    if (auto percent = display.find('%'); percent != std::string::npos && display.back() == ']')
      display.erase(percent, display.size() - 1 - percent);
    return display;
  }
  return std::nullopt;
}

}  // namespace portico::scheduler
