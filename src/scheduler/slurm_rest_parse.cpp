#include "scheduler/slurm_rest_parse.hpp"

#include "scheduler/command_output.hpp"
#include "scheduler/refusal.hpp"
#include "scheduler/slurm_job_parse.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace portico::scheduler {

namespace json = boost::json;

namespace {

using core::ErrorKind;
using core::Failure;

Failure malformed(std::string_view what, std::string_view text) {
  return Failure(ErrorKind::internal, fmt::format("unexpected slurmrestd {} answer: \"{}\"", what, excerpt(text)));
}

json::value parse_document(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec || !doc.is_object()) throw malformed(what, body);
  return doc;
}

// The list `key` of the document; a reply without it is not the answer asked for.
const json::array& list_of(const json::value& doc, std::string_view key, std::string_view what) {
  const auto* v = doc.as_object().if_contains(key);
  if (!v || !v->is_array()) throw malformed(what, json::serialize(doc));
  return v->as_array();
}

const json::value* field(const json::value& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  const auto* f = v.as_object().if_contains(key);
  return f && !f->is_null() ? f : nullptr;
}

const json::value* path(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* at = &v;
  for (auto k : keys) {
    at = field(*at, k);
    if (!at) return nullptr;
  }
  return at;
}

std::string text(const json::value* v) {
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return {};
}

// Slurm's "no value" words, as the CLI parsers treat them.
std::optional<std::string> text_or_absent(const json::value* v) {
  auto t = text(v);
  if (t.empty() || t == "None" || t == "N/A" || t == "(null)") return std::nullopt;
  return t;
}

// A number: plain, or {"set", "infinite", "number"} (v0.0.39+). Absent when unset or infinite.
std::optional<double> real(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_double()) return v->as_double();
  if (v->is_object()) {
    const auto* set = field(*v, "set");
    const auto* infinite = field(*v, "infinite");
    if (set && set->is_bool() && !set->as_bool()) return std::nullopt;
    if (infinite && infinite->is_bool() && infinite->as_bool()) return std::nullopt;
    return real(field(*v, "number"));
  }
  return std::nullopt;
}

std::optional<std::int64_t> integer(const json::value* v) {
  if (v && v->is_uint64()) return static_cast<std::int64_t>(std::min<std::uint64_t>(v->as_uint64(), INT64_MAX));
  auto r = real(v);
  if (!r) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(*r));
}

// An epoch time: 0 is Slurm's "not set".
std::optional<std::int64_t> epoch(const json::value* v) {
  auto n = integer(v);
  if (!n || *n <= 0) return std::nullopt;
  return n;
}

// A limit in minutes, as seconds. NO_VAL (0xfffffffe) and INFINITE (0xffffffff) are no limit.
std::optional<std::int64_t> limit_seconds(const json::value* v) {
  auto n = integer(v);
  if (!n || *n < 0 || *n >= 0xfffffffeLL) return std::nullopt;
  return *n * 60;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A state as a list of upper-case words: "idle" -> {"IDLE"}, ["IDLE", "DRAIN"] as is.
std::vector<std::string> words(const json::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    if (!v->as_string().empty()) out.push_back(upper(std::string(v->as_string())));
  } else if (v->is_array()) {
    for (const auto& w : v->as_array())
      if (w.is_string()) out.push_back(upper(std::string(w.as_string())));
  }
  return out;
}

std::string first_word(const json::value* v) {
  auto w = words(v);
  return w.empty() ? std::string() : w.front();
}

std::vector<std::string> strings(const json::value* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& s : v->as_array())
      if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

// "a,b" -> {"a", "b"}; a list as is.
std::vector<std::string> comma_list(const json::value* v) {
  if (v && v->is_array()) return strings(v);
  std::vector<std::string> out;
  std::string_view t;
  std::string owned = text(v);
  t = owned;
  while (!t.empty()) {
    auto comma = t.find(',');
    auto item = t.substr(0, comma);
    if (!item.empty() && item != "(null)") out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    t.remove_prefix(comma + 1);
  }
  return out;
}

bool truthy(const json::value* v) {
  if (!v) return false;
  if (v->is_bool()) return v->as_bool();
  if (v->is_int64()) return v->as_int64() != 0;
  if (v->is_uint64()) return v->as_uint64() != 0;
  return false;
}

// An exit code as {code, signal}: a raw wait status (v0.0.38 /slurm), or an object
// {status, return_code, signal: {id | signal_id, name}}.
std::optional<std::pair<std::int64_t, std::int64_t>> exit_code(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_object()) {
    auto status = first_word(field(*v, "status"));
    if (status == "PENDING" || status.empty()) return std::nullopt;
    auto code = integer(field(*v, "return_code")).value_or(0);
    std::int64_t signal = 0;
    if (const auto* s = field(*v, "signal")) {
      signal = integer(field(*s, "id")).value_or(integer(field(*s, "signal_id")).value_or(0));
    }
    return std::pair{code, signal};
  }
  auto raw = integer(v);
  if (!raw || *raw < 0 || *raw >= 0xfffffffeLL) return std::nullopt;
  auto exit = exit_code_from_wait_status(*raw);
  return std::pair{exit.code, exit.signal};
}


// The "node" count of tres.requested of an accounting record.
std::optional<std::int64_t> requested_nodes(const json::value& job) {
  const auto* requested = path(job, {"tres", "requested"});
  if (!requested || !requested->is_array()) return std::nullopt;
  for (const auto& t : requested->as_array())
    if (text(field(t, "type")) == "node") return integer(field(t, "count"));
  return std::nullopt;
}

}  // namespace

std::vector<RestError> parse_rest_errors(std::string_view body) {
  std::vector<RestError> out;
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec) return out;
  const auto* errors = field(doc, "errors");
  if (!errors || !errors->is_array()) return out;
  for (const auto& e : errors->as_array()) {
    RestError r;
    r.error = text(field(e, "error"));
    r.description = text(field(e, "description"));
    r.number = integer(field(e, "error_number")).value_or(integer(field(e, "error_code")).value_or(0));
    r.source = text(field(e, "source"));
    if (!r.error.empty() || !r.description.empty()) out.push_back(std::move(r));
  }
  return out;
}

std::optional<core::Failure> rest_refusal(const std::vector<RestError>& errors) {
  for (const auto& e : errors) {
    // The phrases of refusal.hpp, which reads "error: <text>" lines of the CLI tools.
    for (const auto* text : {&e.error, &e.description}) {
      if (text->empty()) continue;
      if (auto refusal = slurm_refusal("error: " + *text)) return refusal;
    }
  }
  return std::nullopt;
}

std::string parse_rest_release(std::string_view body) {
  auto doc = parse_document(body, "meta");
  for (auto key : {"Slurm", "slurm"}) {
    const auto* slurm = path(doc, {"meta", key});
    if (!slurm) continue;
    auto release = text(field(*slurm, "release"));
    if (!release.empty()) return release;
    if (const auto* v = field(*slurm, "version")) {
      auto major = integer(field(*v, "major"));
      auto minor = integer(field(*v, "minor"));
      auto micro = integer(field(*v, "micro"));
      if (major && minor && micro) return fmt::format("{}.{:02}.{}", *major, *minor, *micro);
    }
  }
  throw malformed("meta", body);
}

std::vector<ControllerPing> parse_rest_pings(std::string_view body) {
  auto doc = parse_document(body, "ping");
  std::vector<ControllerPing> out;
  for (const auto& p : list_of(doc, "pings", "ping")) {
    ControllerPing ping;
    ping.host = text(field(p, "hostname"));
    ping.mode = text(field(p, "mode"));
    if (const auto* responding = field(p, "responding"); responding && responding->is_bool()) {
      ping.up = responding->as_bool();  // v0.0.41
    } else {
      auto word = text(field(p, "ping"));   // v0.0.38
      if (word.empty()) word = text(field(p, "pinged"));  // v0.0.39, v0.0.40
      ping.up = upper(word) == "UP";
    }
    out.push_back(std::move(ping));
  }
  return out;
}

std::vector<Node> parse_rest_nodes(std::string_view body) {
  auto doc = parse_document(body, "nodes");
  std::vector<Node> out;
  for (const auto& n : list_of(doc, "nodes", "nodes")) {
    Node node;
    node.name = text(field(n, "name"));
    if (node.name.empty()) throw malformed("nodes", json::serialize(n));
    node.states = words(field(n, "state"));
    for (auto& flag : words(field(n, "state_flags")))  // v0.0.38 keeps the flags apart
      if (std::find(node.states.begin(), node.states.end(), flag) == node.states.end()) node.states.push_back(flag);
    node.partitions = strings(field(n, "partitions"));
    node.cpus = integer(field(n, "cpus")).value_or(0);
    node.cores = integer(field(n, "cores"));
    node.sockets = integer(field(n, "sockets"));
    node.threads = integer(field(n, "threads"));
    if (auto load = real(field(n, "cpu_load"))) node.cpu_load = *load / 100.0;
    node.free_memory = integer(field(n, "free_memory"));
    node.alloc_memory = integer(field(n, "alloc_memory"));
    node.alloc_cpus = integer(field(n, "alloc_cpus"));
    node.idle_cpus = integer(field(n, "idle_cpus"));
    node.features = comma_list(field(n, "active_features"));
    node.address = text_or_absent(field(n, "address"));
    node.hostname = text_or_absent(field(n, "hostname"));
    node.weight = integer(field(n, "weight"));
    out.push_back(std::move(node));
  }
  return out;
}

std::vector<Partition> parse_rest_partitions(std::string_view body) {
  auto doc = parse_document(body, "partitions");
  std::vector<Partition> out;
  for (const auto& p : list_of(doc, "partitions", "partitions")) {
    // v0.0.38: flat; v0.0.40+: {partition: {state: [..]}, cpus: {total}, nodes: {total}, flags}.
    auto flags = words(field(p, "flags"));
    if (flags.empty()) flags = words(path(p, {"partition", "flags"}));
    if (std::find(flags.begin(), flags.end(), "HIDDEN") != flags.end()) continue;
    Partition part;
    part.name = text(field(p, "name"));
    if (part.name.empty()) throw malformed("partitions", json::serialize(p));
    part.cpus = integer(field(p, "total_cpus"));
    if (!part.cpus) part.cpus = integer(path(p, {"cpus", "total"}));
    part.total_nodes = integer(field(p, "total_nodes"));
    if (!part.total_nodes) part.total_nodes = integer(path(p, {"nodes", "total"}));
    const auto* state = field(p, "state");
    if (!state) state = path(p, {"partition", "state"});
    part.state = first_word(state);
    out.push_back(std::move(part));
  }
  return out;
}

std::vector<Reservation> parse_rest_reservations(std::string_view body, std::int64_t now) {
  auto doc = parse_document(body, "reservations");
  std::vector<Reservation> out;
  for (const auto& r : list_of(doc, "reservations", "reservations")) {
    Reservation res;
    res.name = text(field(r, "name"));
    if (res.name.empty()) throw malformed("reservations", json::serialize(r));
    res.node_list = text(field(r, "node_list"));
    res.start_time = epoch(field(r, "start_time"));
    res.end_time = epoch(field(r, "end_time"));
    res.features = text_or_absent(field(r, "features"));
    bool active = res.start_time && *res.start_time <= now && (!res.end_time || now < *res.end_time);
    res.state = active ? "ACTIVE" : "INACTIVE";
    out.push_back(std::move(res));
  }
  return out;
}

std::vector<Account> parse_rest_associations(std::string_view body, std::string_view user) {
  auto doc = parse_document(body, "associations");
  std::vector<Account> out;
  for (const auto& a : list_of(doc, "associations", "associations")) {
    if (text(field(a, "user")) != user) continue;  // account-level associations have no user
    auto name = text(field(a, "account"));
    if (name.empty()) continue;
    bool is_default = truthy(field(a, "is_default"));
    auto found = std::find_if(out.begin(), out.end(), [&](const Account& x) { return x.name == name; });
    if (found == out.end()) out.push_back({name, is_default});
    else found->is_default = found->is_default || is_default;
  }
  return out;
}

std::vector<Job> parse_rest_jobs(std::string_view body, std::int64_t now) {
  constexpr std::string_view what = "jobs";
  auto doc = parse_document(body, what);
  std::vector<Job> out;
  for (const auto& j : list_of(doc, "jobs", what)) {
    Job job;
    job.job_id = text(field(j, "job_id"));
    if (job.job_id.empty()) throw malformed(what, json::serialize(j));
    job.name = text(field(j, "name"));
    job.status.state = first_word(field(j, "job_state"));
    if (job.status.state.empty()) throw malformed(what, json::serialize(j));
    job.status.state_reason = text_or_absent(field(j, "state_reason"));
    bool final = is_final_state(job.status.state);
    if (final) {
      if (auto exit = exit_code(field(j, "exit_code"))) {
        job.status.exit_code = exit->first;
        job.status.interrupt_signal = exit->second;
      }
    }
    job.time.start = epoch(field(j, "start_time"));
    job.time.end = epoch(field(j, "end_time"));
    job.time.limit = limit_seconds(field(j, "time_limit"));
    // Without a limit slurmctld puts a placeholder a year ahead; squeue prints NONE.
    if (!final && !job.time.limit) job.time.end.reset();
    if (job.status.state == "PENDING") {
      job.time.elapsed = 0;
    } else if (job.time.start) {
      std::int64_t until = final && job.time.end ? *job.time.end : now;
      job.time.elapsed = std::max<std::int64_t>(0, until - *job.time.start);
    }
    job.account = text_or_absent(field(j, "account"));
    job.allocation_nodes = integer(field(j, "node_count")).value_or(0);
    job.cluster = text(field(j, "cluster"));
    job.group = text_or_absent(field(j, "group_name"));
    job.nodes = text(field(j, "nodes"));
    job.partition = text(field(j, "partition"));
    job.priority = integer(field(j, "priority"));
    job.user = text_or_absent(field(j, "user_name"));
    job.working_directory = text(field(j, "current_working_directory"));
    out.push_back(std::move(job));
  }
  return out;
}

std::vector<Job> parse_rest_db_jobs(std::string_view body) {
  constexpr std::string_view what = "slurmdb jobs";
  auto doc = parse_document(body, what);
  std::vector<Job> out;
  auto status_of = [](const json::value* state, const json::value* exit) {
    JobStatus status;
    status.state = first_word(state);
    if (auto e = exit_code(exit)) {
      status.exit_code = e->first;
      status.interrupt_signal = e->second;
    }
    return status;
  };
  auto time_of = [](const json::value* t) {
    JobTime time;
    if (!t) return time;
    time.elapsed = integer(field(*t, "elapsed"));
    time.start = epoch(field(*t, "start"));
    time.end = epoch(field(*t, "end"));
    time.suspended = integer(field(*t, "suspended"));
    return time;
  };
  for (const auto& j : list_of(doc, "jobs", what)) {
    Job job;
    job.job_id = text(field(j, "job_id"));
    if (job.job_id.empty()) throw malformed(what, json::serialize(j));
    job.name = text(field(j, "name"));
    const auto* state = path(j, {"state", "current"});
    job.status = status_of(state, field(j, "exit_code"));
    if (job.status.state.empty()) throw malformed(what, json::serialize(j));
    job.status.state_reason = text_or_absent(path(j, {"state", "reason"}));
    job.time = time_of(field(j, "time"));
    job.time.limit = limit_seconds(path(j, {"time", "limit"}));
    job.account = text_or_absent(field(j, "account"));
    job.allocation_nodes = integer(field(j, "allocation_nodes")).value_or(0);
    // A job that never ran has no allocation; sacct's NNodes is then the nodes it asked for.
    if (job.allocation_nodes == 0) job.allocation_nodes = requested_nodes(j).value_or(0);
    job.cluster = text(field(j, "cluster"));
    job.group = text_or_absent(field(j, "group"));
    job.nodes = text(field(j, "nodes"));
    if (job.nodes == "None assigned") job.nodes.clear();
    job.partition = text(field(j, "partition"));
    job.priority = integer(field(j, "priority"));
    job.user = text_or_absent(field(j, "user"));
    job.working_directory = text(field(j, "working_directory"));
    job.kill_request_user = text_or_absent(field(j, "kill_request_user"));
    if (const auto* steps = field(j, "steps"); steps && steps->is_array()) {
      for (const auto& s : steps->as_array()) {
        JobTask task;
        auto id = text(path(s, {"step", "id"}));
        if (id.empty()) continue;
        // v0.0.38 names the step alone ("batch"); later versions give "<job>.batch".
        task.id = id.find('.') == std::string::npos ? job.job_id + "." + id : id;
        task.name = text(path(s, {"step", "name"}));
        task.status = status_of(field(s, "state"), field(s, "exit_code"));
        task.time = time_of(field(s, "time"));
        job.tasks.push_back(std::move(task));
      }
    }
    out.push_back(std::move(job));
  }
  return out;
}

bool rest_db_exit_codes_unreliable(std::string_view api_version) { return api_version == "v0.0.38"; }

std::string parse_rest_submitted_job_id(std::string_view body) {
  if (auto refusal = rest_refusal(parse_rest_errors(body))) throw *refusal;
  auto doc = parse_document(body, "job submit");
  auto id = text(field(doc, "job_id"));
  if (id.empty()) {
    auto errors = parse_rest_errors(body);
    if (!errors.empty())
      throw Failure(ErrorKind::bad_request, "Batch job submission failed: " + excerpt(errors.front().error, 300));
    throw malformed("job submit", body);
  }
  return id;
}

std::string rest_submission_body(const JobSubmission& submission, std::string_view api_version) {
  bool v38 = api_version == "v0.0.38";
  json::object job;
  auto option = [&job](const char* key, const std::optional<std::string>& value) {
    if (value && !value->empty()) job[key] = *value;
  };
  option("name", submission.name);
  option("account", submission.account);
  option("partition", submission.partition);
  option("reservation", submission.reservation);
  option("constraints", submission.constraints);
  option("standard_input", submission.standard_input);
  option("standard_output", submission.standard_output);
  option("standard_error", submission.standard_error);
  job["current_working_directory"] = submission.working_directory;
  // Minutes, as slurmrestd takes it (rounded up: never shorter than asked).
  if (submission.time_limit) job["time_limit"] = std::max<std::int64_t>(1, (submission.time_limit->count() + 59) / 60);
  if (submission.hold) job["hold"] = true;
  if (v38) {
    // 22.05's parser takes sbatch's --get-user-env argument ("10L": up to 10 s, login shell),
    // not a boolean.
    job["get_user_environment"] = "10L";
    json::object env;
    for (const auto& [name, value] : submission.env) env[name] = value;
    job["environment"] = std::move(env);
  } else {
    job["get_user_environment"] = true;
    json::array env;
    for (const auto& [name, value] : submission.env) env.emplace_back(name + "=" + value);
    job["environment"] = std::move(env);
    job["script"] = submission.script.value_or("");
  }
  json::object body;
  if (v38) body["script"] = submission.script.value_or("");
  body["job"] = std::move(job);
  return json::serialize(body);
}

bool rest_can_submit(const JobSubmission& job) {
  if (job.script_path || !job.script) return false;
  if (job.has_psij_fields()) return false;  // resources and options: sbatch renders them (hybrid)
  const auto& s = *job.script;
  for (std::size_t start = 0; start < s.size();) {
    auto end = std::min(s.find('\n', start), s.size());
    std::string_view line(s.data() + start, end - start);
    if (line.starts_with("#SBATCH")) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace portico::scheduler
