#include "scheduler/pbs_parse.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/ascii.hpp"
#include "core/error.hpp"
#include "core/numbers.hpp"
#include "scheduler/command_output.hpp"

namespace portico::scheduler {

namespace json = boost::json;

namespace {

core::Failure malformed(std::string_view what, std::string_view text) {
  return core::Failure(core::ErrorKind::internal, "unexpected " + std::string(what) + " output: \"" + excerpt(text) + "\"");
}

const json::value* get(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::optional<std::string> text(const json::object& o, std::string_view key) {
  auto* v = get(o, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return std::nullopt;
}

std::optional<std::int64_t> integer(const json::object& o, std::string_view key) {
  auto* v = get(o, key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_string()) {
    try {
      std::size_t used = 0;
      std::string s(v->get_string());
      auto n = std::stoll(s, &used);
      if (used == s.size()) return n;
    } catch (...) {
    }
  }
  return std::nullopt;
}

const json::object* object(const json::object& o, std::string_view key) {
  auto* v = get(o, key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<std::int64_t> pbs_time(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  return parse_pbs_time(*value);
}

// "host:/path" → "/path"
std::optional<std::string> strip_host(std::optional<std::string> path) {
  if (!path) return path;
  auto colon = path->find(':');
  if (colon != std::string::npos && colon < path->find('/')) return path->substr(colon + 1);
  return path;
}

json::value parse(std::string_view json_text, std::string_view what) {
  boost::system::error_code ec;
  auto doc = json::parse(json_text, ec);
  if (ec || !doc.is_object()) throw malformed(what, json_text);
  return doc;
}

// The object under key ("Jobs", "Queue", "Server", "nodes"): PBS leaves the key out when there
// is nothing to list.
const json::object& section(const json::value& doc, std::string_view key, std::string_view what,
                            std::string_view json_text) {
  static const json::object empty;
  auto* v = get(doc.get_object(), key);
  if (!v) return empty;
  if (!v->is_object()) throw malformed(what, json_text);
  return v->get_object();
}

// "1001.pbs01" -> "1001"; a job array's "2005[].pbs01" -> "2005".
std::string short_id(std::string_view id) {
  auto s = id.substr(0, id.find('.'));
  if (s.ends_with("[]")) s.remove_suffix(2);
  return std::string(s);
}

// "16307392kb" (PBS size: b, kb, mb, gb, tb, pb; w for words) → MiB.
std::optional<std::int64_t> size_mib(const std::optional<std::string>& value) {
  if (!value || value->empty()) return std::nullopt;
  std::size_t i = 0;
  std::int64_t n = 0;
  while (i < value->size() && std::isdigit(static_cast<unsigned char>((*value)[i]))) n = n * 10 + ((*value)[i++] - '0');
  if (i == 0) return std::nullopt;
  std::string unit = value->substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double bytes = static_cast<double>(n);
  if (unit == "b" || unit.empty()) {
  } else if (unit == "kb") bytes *= 1024.0;
  else if (unit == "mb") bytes *= 1024.0 * 1024;
  else if (unit == "gb") bytes *= 1024.0 * 1024 * 1024;
  else if (unit == "tb") bytes *= 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "pb") bytes *= 1024.0 * 1024 * 1024 * 1024 * 1024;
  else return std::nullopt;
  return static_cast<std::int64_t>(bytes / (1024.0 * 1024.0));
}

// "node01/1+node02/0" (exec_host) or "(node01:ncpus=2)+(node02:ncpus=2)" (resv_nodes) →
// the hosts, each once, in order.
std::vector<std::string> hosts_of(std::string_view list) {
  std::vector<std::string> hosts;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = std::min(list.find('+', start), list.size());
    auto host = list.substr(start, end - start);
    while (!host.empty() && host.front() == '(') host.remove_prefix(1);
    host = host.substr(0, host.find_first_of("/:)"));
    if (!host.empty() && std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.emplace_back(host);
    start = end + 1;
  }
  return hosts;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ",") + w;
  return out;
}

// Applies Exit_status (or, without one, the substate) to a finished job: see the header.
void finished_status(JobStatus& status, std::optional<std::int64_t> exit, std::optional<std::int64_t> substate) {
  if (!exit) {
    status.state = substate == 91 ? "CANCELLED" : substate == 93 ? "FAILED" : "COMPLETED";
    return;
  }
  if (*exit >= 256) {
    status.state = "CANCELLED";
    status.exit_code = 0;
    status.interrupt_signal = *exit - 256;
    return;
  }
  status.exit_code = *exit;
  status.interrupt_signal = 0;
  if (*exit == 0) status.state = "COMPLETED";
  else if (*exit == -29) status.state = "TIMEOUT";                     // JOB_EXEC_KILL_WALLTIME
  else if (*exit == -27 || *exit == -26) status.state = "OUT_OF_MEMORY";  // JOB_EXEC_KILL_MEM, _VMEM
  else status.state = "FAILED";
}

constexpr std::string_view qstat_what = "qstat";

}  // namespace

std::optional<std::int64_t> parse_pbs_duration(std::string_view t) {
  std::int64_t parts[3] = {0, 0, 0};
  int n = 0;
  std::int64_t value = 0;
  bool digit = false;
  for (char c : t) {
    if (c >= '0' && c <= '9') {
      auto next = core::checked_mul_add<std::int64_t>(value, 10, c - '0');
      if (!next) return std::nullopt;
      value = *next;
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
  // Hours beyond int64 seconds are no walltime PBS printed.
  auto minutes = core::checked_mul_add<std::int64_t>(parts[0], 60, parts[1]);
  return minutes ? core::checked_mul_add<std::int64_t>(*minutes, 60, parts[2]) : std::nullopt;
}

std::optional<std::int64_t> parse_pbs_time(std::string_view value) {
  std::string s(value);
  std::tm tm{};
  // glibc's %d skips the space ctime(3) pads a one-digit day with.
  const char* end = strptime(s.c_str(), "%a %b %d %H:%M:%S %Y", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::vector<Job> parse_qstat_jobs(std::string_view json_text) {
  auto doc = parse(json_text, qstat_what);
  const auto& jobs = section(doc, "Jobs", qstat_what, json_text);
  std::string server = text(doc.get_object(), "pbs_server").value_or("");
  std::vector<Job> out;
  for (const auto& [id, value] : jobs) {
    if (!value.is_object()) throw malformed(qstat_what, json_text);
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

    std::string letters = text(j, "job_state").value_or("");
    char letter = letters.size() == 1 ? letters[0] : '?';
    job.status.state_reason = text(j, "comment");
    auto reason = [&job](const char* why) {
      if (!job.status.state_reason) job.status.state_reason = why;
    };
    switch (letter) {
      case 'Q': job.status.state = "PENDING"; break;
      case 'H': job.status.state = "PENDING"; reason("JobHeld"); break;
      case 'W': job.status.state = "PENDING"; reason("BeginTime"); break;
      case 'T': job.status.state = "PENDING"; reason("Transit"); break;
      case 'R':
      case 'B': job.status.state = "RUNNING"; break;
      case 'E': job.status.state = "COMPLETING"; break;
      case 'S':
      case 'U': job.status.state = "SUSPENDED"; break;
      case 'M': job.status.state = "COMPLETED"; reason("Moved"); break;
      case 'F':
      case 'X': finished_status(job.status, integer(j, "Exit_status"), integer(j, "substate")); break;
      default: throw malformed(qstat_what, "job_state " + letters);
    }

    if (auto exec = text(j, "exec_host")) {
      auto hosts = hosts_of(*exec);
      job.nodes = join(hosts);
      job.allocation_nodes = static_cast<std::int64_t>(hosts.size());
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

std::optional<std::int64_t> parse_pbs_json_timestamp(std::string_view json_text) {
  auto doc = parse(json_text, qstat_what);
  return integer(doc.get_object(), "timestamp");
}

std::vector<JobMetadata> parse_qstat_metadata(std::string_view json_text) {
  auto doc = parse(json_text, qstat_what);
  std::vector<JobMetadata> out;
  for (const auto& [id, value] : section(doc, "Jobs", qstat_what, json_text)) {
    if (!value.is_object()) throw malformed(qstat_what, json_text);
    const auto& j = value.get_object();
    JobMetadata m;
    m.job_id = short_id(id);
    m.standard_output = strip_host(text(j, "Output_Path"));
    m.standard_error = strip_host(text(j, "Error_Path"));
    out.push_back(std::move(m));
  }
  return out;
}

std::string parse_pbs_version(std::string_view t) {
  // "pbs_version = 23.06.06\n"
  auto line = t.substr(0, t.find('\n'));
  auto eq = line.find('=');
  if (!line.starts_with("pbs_version") || eq == std::string_view::npos) throw malformed("qstat --version", t);
  auto v = line.substr(eq + 1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.remove_suffix(1);
  if (v.empty()) throw malformed("qstat --version", t);
  return std::string(v);
}

std::string parse_qsub_output(std::string_view t) {
  auto line = t.substr(0, t.find('\n'));
  auto id = line.substr(0, line.find('.'));
  if (id.ends_with("[]")) id.remove_suffix(2);
  bool digits = !id.empty() && id.size() <= 32;
  for (char c : id) digits = digits && c >= '0' && c <= '9';
  if (!digits) throw malformed("qsub", t);
  return std::string(id);
}

std::vector<Node> parse_pbsnodes(std::string_view json_text) {
  constexpr std::string_view what = "pbsnodes";
  auto doc = parse(json_text, what);
  std::vector<Node> out;
  for (const auto& [name, value] : section(doc, "nodes", what, json_text)) {
    if (!value.is_object()) throw malformed(what, json_text);
    const auto& v = value.get_object();
    Node node;
    node.name = std::string(name);
    const json::object* available = object(v, "resources_available");
    const json::object* assigned = object(v, "resources_assigned");
    node.cpus = (available ? integer(*available, "ncpus") : std::nullopt).value_or(integer(v, "pcpus").value_or(0));
    if (assigned) node.alloc_cpus = integer(*assigned, "ncpus");
    if (node.alloc_cpus) node.idle_cpus = std::max<std::int64_t>(0, node.cpus - *node.alloc_cpus);
    std::optional<std::int64_t> total_mem = available ? size_mib(text(*available, "mem")) : std::nullopt;
    if (assigned) node.alloc_memory = size_mib(text(*assigned, "mem"));
    if (total_mem) node.free_memory = *total_mem - node.alloc_memory.value_or(0);
    if (available) node.hostname = text(*available, "host");
    node.address = text(v, "Mom");
    node.weight = integer(v, "priority");
    if (auto queue = text(v, "queue")) node.partitions.push_back(*queue);

    std::string states = text(v, "state").value_or("");
    std::size_t start = 0;
    while (start < states.size()) {
      auto end = std::min(states.find(',', start), states.size());
      std::string word = states.substr(start, end - start);
      start = end + 1;
      std::string mapped;
      if (word == "free") mapped = node.alloc_cpus.value_or(0) > 0 ? "MIXED" : "IDLE";
      else if (word == "job-busy" || word == "job-exclusive" || word == "busy") mapped = "ALLOCATED";
      else if (word == "resv-exclusive") mapped = "RESERVED";
      else if (word == "down" || word == "state-unknown" || word == "unresolvable") mapped = "DOWN";
      else if (word == "offline") mapped = "DRAIN";
      else if (word == "stale") mapped = "FUTURE";
      else if (word == "provisioning" || word == "wait-provisioning") mapped = "POWERING_UP";
      else if (word == "sleep") mapped = "POWERED_DOWN";
      else
        for (char c : word) mapped += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!mapped.empty() && std::find(node.states.begin(), node.states.end(), mapped) == node.states.end())
        node.states.push_back(mapped);
    }
    if (node.states.empty()) throw malformed(what, "node " + node.name + " without a state");
    out.push_back(std::move(node));
  }
  return out;
}

std::vector<Partition> parse_qstat_queues(std::string_view json_text) {
  constexpr std::string_view what = "qstat -Q";
  auto doc = parse(json_text, what);
  std::vector<Partition> out;
  for (const auto& [name, value] : section(doc, "Queue", what, json_text)) {
    if (!value.is_object()) throw malformed(what, json_text);
    const auto& q = value.get_object();
    Partition p;
    p.name = std::string(name);
    bool enabled = text(q, "enabled") == "True";
    bool started = text(q, "started") == "True";
    p.state = enabled && started ? "UP" : started ? "DRAIN" : enabled ? "DOWN" : "INACTIVE";
    for (const char* key : {"resources_available", "resources_max"}) {
      if (const auto* r = object(q, key)) {
        if (!p.cpus) p.cpus = integer(*r, "ncpus");
        if (!p.total_nodes) p.total_nodes = integer(*r, "nodect");
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Reservation> parse_pbs_rstat(std::string_view t) {
  constexpr std::string_view what = "pbs_rstat -f";
  struct Block {
    std::string id;
    std::vector<std::pair<std::string, std::string>> attributes;
  };
  std::vector<Block> blocks;
  std::size_t pos = 0;
  while (pos < t.size()) {
    auto end = std::min(t.find('\n', pos), t.size());
    auto line = t.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto body = line;
    while (!body.empty() && (body.front() == ' ' || body.front() == '\t')) body.remove_prefix(1);
    if (body.empty()) continue;
    if (body.starts_with("Resv ID:")) {
      auto id = body.substr(8);
      while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
      if (id.empty()) throw malformed(what, line);
      blocks.push_back({std::string(id), {}});
      continue;
    }
    if (blocks.empty()) throw malformed(what, line);
    auto eq = body.find(" = ");
    bool attribute = eq != std::string_view::npos && eq > 0 &&
                     std::all_of(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(eq),
                                 [](char c) { return core::ascii_alnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; });
    if (attribute) {
      blocks.back().attributes.emplace_back(std::string(body.substr(0, eq)), std::string(body.substr(eq + 3)));
    } else if (!blocks.back().attributes.empty()) {
      blocks.back().attributes.back().second += std::string(body);  // a wrapped long value
    } else {
      throw malformed(what, line);
    }
  }
  std::vector<Reservation> out;
  for (const auto& b : blocks) {
    auto attr = [&b](std::string_view key) -> std::optional<std::string> {
      for (const auto& [k, v] : b.attributes)
        if (k == key) return v;
      return std::nullopt;
    };
    Reservation r;
    r.name = attr("queue").value_or(short_id(b.id));
    // A reservation is asked for by this name (qsub -q): one without a name is no reservation.
    if (r.name.empty()) throw malformed(what, "Resv ID: " + b.id);
    r.node_list = join(hosts_of(attr("resv_nodes").value_or("")));
    r.start_time = pbs_time(attr("reserve_start"));
    r.end_time = pbs_time(attr("reserve_end"));
    auto state = attr("reserve_state");
    if (state) r.state = *state == "RESV_RUNNING" ? "ACTIVE" : "INACTIVE";
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<PbsServer> parse_qstat_servers(std::string_view json_text) {
  constexpr std::string_view what = "qstat -B";
  auto doc = parse(json_text, what);
  std::vector<PbsServer> out;
  for (const auto& [name, value] : section(doc, "Server", what, json_text)) {
    if (!value.is_object()) throw malformed(what, json_text);
    PbsServer s;
    s.name = std::string(name);
    s.state = text(value.get_object(), "server_state").value_or("");
    s.up = s.state == "Active" || s.state == "Idle" || s.state == "Scheduling";
    out.push_back(std::move(s));
  }
  if (out.empty()) throw malformed(what, json_text);
  return out;
}

}  // namespace portico::scheduler
