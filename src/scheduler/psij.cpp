#include "scheduler/psij.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/error.hpp"
#include "core/shell.hpp"

namespace portico::scheduler::psij {

namespace {

using core::ErrorKind;
using core::Failure;
using core::FieldError;

// The JobSpec's problems, all refused at once.
class Problems : public core::FieldErrors {
 public:
  Problems() : core::FieldErrors("body") {}
};

// Far beyond any machine, and small enough that what the backends compute from them (nodes x
// processes per node, processes x cores, memory rounded up to MiB) stays within int64.
constexpr std::int64_t kMaxCount = 1'000'000'000;
constexpr std::int64_t kMaxMemoryBytes = std::int64_t{1} << 60;  // 1 EiB per node

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

void text(Problems& p, std::string_view field, const std::optional<std::string>& value) {
  if (!value) return;
  if (value->empty()) p.add(std::string(field), "must not be empty");
  else if (has_nul(*value)) p.add(std::string(field), "must not hold a NUL byte");
}

void count(Problems& p, std::string_view field, const std::optional<std::int64_t>& value,
           std::int64_t max = kMaxCount) {
  if (value && *value < 1) p.add(std::string(field), "must be a positive integer");
  else if (value && *value > max) p.add(std::string(field), "must be at most " + std::to_string(max));
}

// A confined absolute path, or the confine function's error recorded.
std::optional<std::string> path(Problems& p, const Site& site, std::string_view field,
                                const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  // The standard streams may also be discarded.
  if (*value == "/dev/null" && field.ends_with("_path") && (field.starts_with("std"))) return *value;
  try {
    return site.confine(*value, field);
  } catch (const Failure& f) {
    if (f.fields().empty()) p.add(std::string(field), f.what());
    for (const auto& e : f.fields()) p.add(e.name, e.message);
    return std::nullopt;
  }
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

struct Checked {
  JobSubmission submission;
  std::vector<std::string> launch;  // launcher, container and executable words
  std::optional<std::string> pre_launch, post_launch;
};

Checked check(const JobSpec& spec, const Site& site) {
  Problems p;
  Checked out;
  auto& job = out.submission;

  if (!spec.executable || spec.executable->empty()) p.add("executable", "is required and must not be empty");
  else text(p, "executable", spec.executable);
  for (std::size_t i = 0; i < spec.arguments.size(); ++i)
    if (has_nul(spec.arguments[i])) p.add("arguments." + std::to_string(i), "must not hold a NUL byte");
  text(p, "name", spec.name);
  for (const auto& [name, value] : spec.environment) {
    if (!valid_env_name(name)) p.add("environment." + name.substr(0, 64), "is not a shell variable name ([A-Za-z_][A-Za-z0-9_]*)");
    else if (has_nul(value)) p.add("environment." + name, "must not hold a NUL byte");
  }

  const auto& r = spec.resources;
  count(p, "resources.node_count", r.node_count);
  count(p, "resources.process_count", r.process_count);
  count(p, "resources.processes_per_node", r.processes_per_node);
  count(p, "resources.cpu_cores_per_process", r.cpu_cores_per_process);
  count(p, "resources.gpu_cores_per_process", r.gpu_cores_per_process);
  count(p, "resources.memory", r.memory, kMaxMemoryBytes);
  // Compared only once both counts are in range, so the product fits.
  const auto counted = [](const std::optional<std::int64_t>& v) { return v && *v >= 1 && *v <= kMaxCount; };
  if (counted(r.node_count) && counted(r.processes_per_node) && r.process_count &&
      *r.process_count != *r.node_count * *r.processes_per_node)
    p.add("resources.process_count", "must be node_count x processes_per_node (" +
                                         std::to_string(*r.node_count * *r.processes_per_node) + "), got " +
                                         std::to_string(*r.process_count));
  if (!r.node_count && r.processes_per_node && r.process_count && *r.processes_per_node > 0 &&
      *r.process_count % *r.processes_per_node != 0)
    p.add("resources.process_count", "must be a multiple of processes_per_node");

  const auto& a = spec.attributes;
  count(p, "attributes.duration", a.duration, std::numeric_limits<std::int64_t>::max());
  text(p, "attributes.queue_name", a.queue_name);
  text(p, "attributes.account", a.account);
  text(p, "attributes.reservation_id", a.reservation_id);
  for (const auto& [key, value] : a.custom_attributes) {
    const std::string field = "attributes.custom_attributes." + key.substr(0, 80);
    if (std::find(site.custom_attributes.begin(), site.custom_attributes.end(), key) == site.custom_attributes.end()) {
      p.add(field, "is not allowed on this cluster");
      continue;
    }
    if (has_nul(value)) {
      p.add(field, "must not hold a NUL byte");
      continue;
    }
    auto dot = key.find('.');
    if (key.substr(0, dot) != site.scheduler) continue;  // another scheduler's attribute
    auto option = key.substr(dot + 1);
    if (!valid_option_name(option)) p.add(field, "is not a scheduler option name");
    else job.options.emplace_back(option, value);
  }

  std::string launcher = spec.launcher.value_or("single");
  if (launcher == "srun" && site.scheduler != "slurm") p.add("launcher", "srun needs a Slurm cluster");
  else if (launcher != "single" && launcher != "srun" && launcher != "mpirun")
    p.add("launcher", "must be one of single, srun, mpirun");

  auto dir = path(p, site, "directory", spec.directory);
  auto in = path(p, site, "stdin_path", spec.stdin_path);
  auto outp = path(p, site, "stdout_path", spec.stdout_path);
  auto err = path(p, site, "stderr_path", spec.stderr_path);
  out.pre_launch = path(p, site, "pre_launch", spec.pre_launch);
  out.post_launch = path(p, site, "post_launch", spec.post_launch);

  std::vector<std::string> container_words;
  if (spec.container) {
    const auto& c = *spec.container;
    if (c.image.empty() || has_nul(c.image)) p.add("container.image", "must be a non-empty image name");
    for (std::size_t i = 0; i < c.volume_mounts.size(); ++i) {
      const auto& m = c.volume_mounts[i];
      const std::string at = "container.volume_mounts." + std::to_string(i);
      auto source = path(p, site, at + ".source", m.source);
      if (m.target.empty() || m.target.front() != '/' || has_nul(m.target))
        p.add(at + ".target", "must be an absolute path");
      for (const auto* v : {&m.source, &m.target})
        if (v->find_first_of(":,") != std::string::npos)
          p.add(at + (v == &m.source ? ".source" : ".target"), "must not hold ':' or ','");
      if (!source) continue;
      for (const auto& w : site.mount_words)
        container_words.push_back(replace_all(replace_all(replace_all(w, "{source}", *source), "{target}", m.target),
                                              "{mode}", m.read_only ? "ro" : "rw"));
    }
  }
  p.raise();

  if (spec.container && site.container_command.empty())
    throw Failure(ErrorKind::not_implemented, "container: no container runtime is configured on this cluster");

  job.name = spec.name;
  job.account = a.account;
  job.partition = a.queue_name;
  job.reservation = a.reservation_id;
  job.working_directory = dir.value_or(site.default_directory);
  job.standard_input = in;
  job.standard_output = outp;
  job.standard_error = err;
  if (a.duration) job.time_limit = std::chrono::seconds(*a.duration);
  job.nodes = r.node_count;
  job.tasks = r.process_count;
  if (!job.tasks && r.node_count && r.processes_per_node) job.tasks = *r.node_count * *r.processes_per_node;
  job.tasks_per_node = r.processes_per_node;
  job.cpus_per_task = r.cpu_cores_per_process;
  job.gpus_per_task = r.gpu_cores_per_process;
  job.memory_bytes = r.memory;
  job.exclusive = r.exclusive_node_use;
  job.inherit_environment = spec.inherit_environment;
  job.literal_paths = true;

  if (launcher == "srun") out.launch.push_back("srun");
  if (launcher == "mpirun") out.launch.push_back("mpirun");
  if (spec.container) {
    for (const auto& w : site.container_command) {
      if (w == "{mounts}") {
        out.launch.insert(out.launch.end(), container_words.begin(), container_words.end());
        continue;
      }
      out.launch.push_back(replace_all(w, "{image}", spec.container->image));
    }
  }
  out.launch.push_back(*spec.executable);
  out.launch.insert(out.launch.end(), spec.arguments.begin(), spec.arguments.end());
  return out;
}

std::string script_of(const Checked& c, const JobSpec& spec) {
  std::string s = "#!/bin/bash\n# A PSI/J job submitted through Portico.\n";
  for (const auto& [name, value] : spec.environment) s += "export " + name + "=" + core::shell_quote(value) + "\n";
  if (c.pre_launch) s += "source " + core::shell_quote(*c.pre_launch) + "\n";
  s += core::command_line(c.launch) + "\n";
  s += "portico_status=$?\n";
  if (c.post_launch) s += "source " + core::shell_quote(*c.post_launch) + "\n";
  s += "exit $portico_status\n";
  return s;
}

}  // namespace

JobSubmission to_submission(const JobSpec& spec, const Site& site) {
  auto checked = check(spec, site);
  checked.submission.script = script_of(checked, spec);
  return std::move(checked.submission);
}

std::string job_script(const JobSpec& spec, const Site& site) { return to_submission(spec, site).script.value_or(""); }

Status status_of(const Job& job) {
  Status s;
  const auto& st = job.status;
  const std::string& native = st.state;
  std::string reason = st.state_reason.value_or("");
  if (reason == "None" || reason == "(null)") reason.clear();
  if (native == "PENDING" || native == "REQUEUED" || native == "REQUEUE_FED" || native == "REQUEUE_HOLD" ||
      native == "RESV_DEL_HOLD") {
    bool held = native == "REQUEUE_HOLD" || native == "RESV_DEL_HOLD" || reason.starts_with("JobHeld");
    s.state = held ? "held" : "queued";
  } else if (native == "RUNNING" || native == "COMPLETING" || native == "CONFIGURING" || native == "SUSPENDED" ||
             native == "STOPPED" || native == "SIGNALING" || native == "STAGE_OUT" || native == "RESIZING") {
    s.state = "active";
  } else if (native == "COMPLETED") {
    s.state = st.exit_code.value_or(0) == 0 ? "completed" : "failed";
  } else if (native == "CANCELLED") {
    s.state = "canceled";
  } else if (native.empty()) {
    s.state = "new";
  } else {  // FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE, PREEMPTED, ...
    s.state = "failed";
  }
  s.exit_code = st.exit_code;
  s.message = native;
  if (!reason.empty()) s.message += " (" + reason + ")";
  if (st.interrupt_signal && *st.interrupt_signal != 0) s.message += ", signal " + std::to_string(*st.interrupt_signal);
  if (s.state == "failed" && native == "COMPLETED" && st.exit_code) s.message += ", exit code " + std::to_string(*st.exit_code);
  if (is_final(s)) s.time = job.time.end;
  else if (s.state == "active") s.time = job.time.start;
  return s;
}

bool is_final(const Status& status) noexcept {
  return status.state == "completed" || status.state == "failed" || status.state == "canceled";
}

JobSpec spec_from_job(const Job& job) {
  JobSpec spec;
  if (!job.name.empty()) spec.name = job.name;
  if (!job.working_directory.empty()) spec.directory = job.working_directory;
  if (!job.partition.empty()) spec.attributes.queue_name = job.partition;
  if (job.account && !job.account->empty()) spec.attributes.account = job.account;
  if (job.time.limit && *job.time.limit > 0) spec.attributes.duration = job.time.limit;  // 0: not known
  if (job.allocation_nodes > 0) spec.resources.node_count = job.allocation_nodes;
  return spec;
}

JobUpdate update_of(const JobSpec& spec) {
  JobUpdate u;
  u.name = spec.name;
  u.account = spec.attributes.account;
  u.partition = spec.attributes.queue_name;
  if (spec.attributes.duration) u.time_limit = std::chrono::seconds(*spec.attributes.duration);
  return u;
}

}  // namespace portico::scheduler::psij
