#include "scheduler/pbs_parse.hpp"

#include <boost/json.hpp>

#include <ctime>

#include "core/error.hpp"
#include "scheduler/command_output.hpp"

namespace portico::scheduler {

namespace json = boost::json;

namespace {

const json::value* get(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::optional<std::string> text(const json::object& o, std::string_view key) {
  auto* v = get(o, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  return std::nullopt;
}

std::optional<std::int64_t> integer(const json::object& o, std::string_view key) {
  auto* v = get(o, key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_string()) {
    try {
      return std::stoll(std::string(v->get_string()));
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

const json::object* object(const json::object& o, std::string_view key) {
  auto* v = get(o, key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

// "Tue Nov 25 09:59:01 2025" (ctime(3) layout) as UTC epoch seconds.
std::optional<std::int64_t> pbs_time(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  std::tm tm{};
  const char* end = strptime(value->c_str(), "%a %b %d %H:%M:%S %Y", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string state_name(char letter) {
  switch (letter) {
    case 'Q': return "QUEUED";
    case 'R': return "RUNNING";
    case 'H': return "HELD";
    case 'W': return "WAITING";
    case 'E': return "EXITING";
    case 'S': return "SUSPENDED";
    case 'U': return "SUSPENDED";
    case 'T': return "TRANSIT";
    case 'M': return "MOVED";
    case 'B': return "BEGUN";
    case 'X': return "EXPIRED";
    case 'F': return "FINISHED";
  }
  return std::string(1, letter);
}

// "host:/path" → "/path"
std::optional<std::string> strip_host(std::optional<std::string> path) {
  if (!path) return path;
  auto colon = path->find(':');
  if (colon != std::string::npos && colon < path->find('/')) return path->substr(colon + 1);
  return path;
}

const json::object& jobs_of(const json::value& doc, std::string_view json_text) {
  if (!doc.is_object())
    throw core::Failure(core::ErrorKind::internal, "unexpected qstat output: \"" + excerpt(json_text) + "\"");
  auto* jobs = object(doc.get_object(), "Jobs");
  static const json::object empty;
  return jobs ? *jobs : empty;  // qstat prints no "Jobs" key when there are none
}

json::value parse(std::string_view json_text) {
  boost::system::error_code ec;
  auto doc = json::parse(json_text, ec);
  if (ec) throw core::Failure(core::ErrorKind::internal, "unexpected qstat output: \"" + excerpt(json_text) + "\"");
  return doc;
}

std::string short_id(std::string_view id) { return std::string(id.substr(0, id.find('.'))); }

}  // namespace

std::optional<std::int64_t> parse_pbs_duration(std::string_view t) {
  std::int64_t parts[3] = {0, 0, 0};
  int n = 0;
  std::int64_t value = 0;
  bool digit = false;
  for (char c : t) {
    if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      digit = true;
    } else if (c == ':' && digit && n < 2) {
      parts[n++] = value;
      value = 0;
      digit = false;
    } else {
      return std::nullopt;
    }
  }
  if (!digit || n != 2) return std::nullopt;
  parts[2] = value;
  return parts[0] * 3600 + parts[1] * 60 + parts[2];
}

std::vector<Job> parse_qstat_jobs(std::string_view json_text) {
  auto doc = parse(json_text);
  const auto& jobs = jobs_of(doc, json_text);
  std::string server = text(doc.get_object(), "pbs_server").value_or("");
  std::vector<Job> out;
  for (const auto& [id, value] : jobs) {
    if (!value.is_object()) continue;
    const auto& j = value.get_object();
    Job job;
    job.job_id = short_id(id);
    job.name = text(j, "Job_Name").value_or("");
    job.cluster = text(j, "server").value_or(server);
    job.partition = text(j, "queue").value_or("");
    job.account = text(j, "Account_Name");
    job.priority = integer(j, "Priority");
    job.group = text(j, "egroup");
    job.user = text(j, "euser");
    if (!job.user)
      if (auto owner = text(j, "Job_Owner")) job.user = owner->substr(0, owner->find('@'));

    std::string letter = text(j, "job_state").value_or("?");
    job.status.state = state_name(letter.empty() ? '?' : letter[0]);
    job.status.state_reason = text(j, "comment");
    if (auto exit = integer(j, "Exit_status")) {
      if (*exit >= 256) {
        job.status.exit_code = 0;
        job.status.interrupt_signal = *exit - 256;
      } else {
        job.status.exit_code = *exit;
        job.status.interrupt_signal = 0;
      }
      if (letter == "F")
        job.status.state = *exit == 0 ? "COMPLETED" : *exit >= 256 ? "CANCELLED" : "FAILED";
    }

    if (auto exec = text(j, "exec_host")) {
      // "node01/1+node02/0" → "node01,node02", each host once.
      std::string nodes;
      std::size_t count = 0;
      std::size_t start = 0;
      while (start <= exec->size()) {
        auto end = std::min(exec->find('+', start), exec->size());
        auto host = exec->substr(start, end - start);
        host = host.substr(0, host.find('/'));
        if (!host.empty() && ("," + nodes + ",").find("," + host + ",") == std::string::npos) {
          nodes += (nodes.empty() ? "" : ",") + host;
          ++count;
        }
        start = end + 1;
      }
      job.nodes = nodes;
      job.allocation_nodes = static_cast<std::int64_t>(count);
    }
    if (const auto* resources = object(j, "Resource_List")) {
      if (auto nodect = integer(*resources, "nodect"); nodect && job.allocation_nodes == 0) job.allocation_nodes = *nodect;
      if (auto limit = text(*resources, "walltime")) job.time.limit = parse_pbs_duration(*limit);
    }
    if (const auto* used = object(j, "resources_used"))
      if (auto walltime = text(*used, "walltime")) job.time.elapsed = parse_pbs_duration(*walltime);
    job.time.start = pbs_time(text(j, "stime"));
    job.time.end = pbs_time(text(j, "obittime"));

    std::optional<std::string> workdir;
    if (const auto* vars = object(j, "Variable_List")) workdir = text(*vars, "PBS_O_WORKDIR");
    job.working_directory = workdir.value_or(text(j, "jobdir").value_or(""));
    out.push_back(std::move(job));
  }
  return out;
}

std::vector<JobMetadata> parse_qstat_metadata(std::string_view json_text) {
  auto doc = parse(json_text);
  std::vector<JobMetadata> out;
  for (const auto& [id, value] : jobs_of(doc, json_text)) {
    if (!value.is_object()) continue;
    const auto& j = value.get_object();
    JobMetadata m;
    m.job_id = short_id(id);
    m.standard_output = strip_host(text(j, "Output_Path"));
    m.standard_error = strip_host(text(j, "Error_Path"));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace portico::scheduler
