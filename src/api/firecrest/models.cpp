#include "api/firecrest/models.hpp"

#include "scheduler/submission.hpp"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace portico::api::firecrest {

namespace json = boost::json;

namespace {

template <typename T>
json::value opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value_from(*v);
}

json::value posix(const scheduler::PosixIdentity& id) {
  // PosixIdentified.id is a string in the contract; an id without a name keeps its number.
  auto number = std::to_string(id.id);
  return json::object{{"id", number}, {"name", id.name.value_or(number)}};
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string iso8601(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::time_point_cast<std::chrono::milliseconds>(t));
}

json::value to_json(const scheduler::Node& n) {
  std::string features;
  for (const auto& f : n.features) features += (features.empty() ? "" : ",") + f;
  return json::object{
      {"name", n.name},
      {"state", strings(n.states)},
      {"partitions", strings(n.partitions)},
      {"cpus", n.cpus},
      {"cores", opt(n.cores)},
      {"sockets", opt(n.sockets)},
      {"threads", opt(n.threads)},
      {"cpuLoad", opt(n.cpu_load)},
      {"freeMemory", opt(n.free_memory)},
      {"allocMemory", opt(n.alloc_memory)},
      {"allocCpus", opt(n.alloc_cpus)},
      {"idleCpus", opt(n.idle_cpus)},
      {"features", strings(n.features)},
      {"address", opt(n.address)},
      {"hostname", opt(n.hostname)},
      {"weight", opt(n.weight)},
  };
}

json::value to_json(const scheduler::Partition& p) {
  return json::object{{"name", p.name}, {"cpus", opt(p.cpus)}, {"totalNodes", opt(p.total_nodes)}, {"partition", p.state}};
}

json::value to_json(const scheduler::Reservation& r) {
  return json::object{{"name", r.name},
                      {"nodeList", r.node_list},
                      {"startTime", r.start_time.value_or(0)},
                      {"endTime", r.end_time.value_or(0)},
                      {"features", opt(r.features)},
                      {"state", opt(r.state)}};
}

json::value to_json(const scheduler::UserInfo& info, const std::vector<scheduler::Account>& accounts) {
  json::array groups;
  for (const auto& g : info.groups) groups.push_back(posix(g));
  json::array accs;
  for (const auto& a : accounts) accs.push_back(json::object{{"name", a.name}, {"default", a.is_default}});
  return json::object{
      {"user", posix(info.user)}, {"group", posix(info.group)}, {"groups", std::move(groups)}, {"accounts", std::move(accs)}};
}

json::value to_json(const status::ServiceHealth& h) {
  json::object o{{"serviceType", status::to_string(h.type)},
                 {"lastChecked", h.last_checked.time_since_epoch().count() ? json::value(iso8601(h.last_checked)) : json::value(nullptr)},
                 {"latency", opt(h.latency_seconds)},
                 {"healthy", h.healthy},
                 {"message", h.message}};
  if (h.type == status::ServiceType::filesystem) o["path"] = h.path;
  return o;
}

namespace {

json::value status_json(const scheduler::JobStatus& s) {
  return json::object{{"state", s.state},
                      {"stateReason", opt(s.state_reason)},
                      {"exitCode", opt(s.exit_code)},
                      {"interruptSignal", opt(s.interrupt_signal)}};
}

json::value time_json(const scheduler::JobTime& t) {
  return json::object{{"elapsed", opt(t.elapsed)},
                      {"start", opt(t.start)},
                      {"end", opt(t.end)},
                      {"suspended", opt(t.suspended)},
                      {"limit", opt(t.limit)}};
}

}  // namespace

json::value to_json(const scheduler::Job& j) {
  json::array tasks;
  for (const auto& t : j.tasks)
    tasks.push_back(json::object{{"id", t.id}, {"name", t.name}, {"status", status_json(t.status)}, {"time", time_json(t.time)}});
  return json::object{
      {"jobId", j.job_id},
      {"name", j.name},
      {"status", status_json(j.status)},
      {"tasks", std::move(tasks)},
      {"time", time_json(j.time)},
      {"account", opt(j.account)},
      {"allocationNodes", j.allocation_nodes},
      {"cluster", j.cluster},
      {"group", opt(j.group)},
      {"nodes", j.nodes},
      {"partition", j.partition},
      {"priority", opt(j.priority)},
      {"killRequestUser", opt(j.kill_request_user)},
      {"user", opt(j.user)},
      {"workingDirectory", j.working_directory},
  };
}

json::value to_json(const scheduler::JobMetadata& m) {
  return json::object{{"jobId", m.job_id},
                      {"script", opt(m.script)},
                      {"standardInput", opt(m.standard_input)},
                      {"standardOutput", opt(m.standard_output)},
                      {"standardError", opt(m.standard_error)}};
}

namespace {

// How transfers run on this cluster: the scheduler directives of transfer jobs, and the staging
// area as clients see it (public endpoint only; no credential).
json::object data_operation_json(const config::Cluster& c, const std::optional<config::S3>& s3) {
  const auto& t = c.transfer;
  json::array directives;
  if (c.scheduler.type == config::SchedulerType::pbs) {
    if (!t.partition.empty()) directives.emplace_back("-q " + t.partition);
    directives.emplace_back("-l walltime=" + scheduler::pbs_walltime(t.time_limit));
    if (!t.account.empty()) directives.emplace_back("-A " + t.account);
  } else {
    if (!t.partition.empty()) directives.emplace_back("--partition=" + t.partition);
    directives.emplace_back("--time=" + scheduler::slurm_time_limit(t.time_limit));
    if (!t.account.empty()) directives.emplace_back("--account=" + t.account);
  }
  json::value transfer = nullptr;
  if (s3)
    transfer = json::object{
        {"serviceType", "s3"},
        {"name", s3->bucket},
        {"publicUrl", s3->public_endpoint},
        {"region", s3->region},
        {"tenant", nullptr},
        {"ttl", s3->url_lifetime.count()},
        {"multipart", json::object{{"max_part_size", t.max_part_bytes},
                                   {"parallel_runs", t.parallel_parts}}},
        {"bucketLifecycleConfiguration", json::object{{"days", s3->object_lifetime_days}}},
        // Portico's own additions: how long an upload may take before it is abandoned.
        {"uploadWait", t.upload_wait.count()},
    };
  return json::object{{"max_ops_file_size", c.max_upload_bytes},
                      {"datatransfer_jobs_directives", std::move(directives)},
                      {"data_transfer", std::move(transfer)}};
}

}  // namespace

json::value system_json(const config::Cluster& c, const status::ClusterHealth& health, std::string_view scheduler_version,
                        const std::optional<config::S3>& s3) {
  auto seconds = [](auto d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); };
  json::array file_systems;
  for (const auto& fs : c.file_systems)
    file_systems.push_back(json::object{{"path", fs.path}, {"dataType", fs.data_type}, {"defaultWorkDir", fs.default_work_dir}});
  json::array services;
  for (const auto& h : health.services) services.push_back(to_json(h));

  const bool rest = c.scheduler.type == config::SchedulerType::slurm_rest;
  const bool pbs = c.scheduler.type == config::SchedulerType::pbs;
  json::object scheduler{
      {"type", pbs ? "pbs" : "slurm"},
      {"version", scheduler_version},
      {"apiUrl", rest ? json::value(c.scheduler.api_url) : json::value(nullptr)},
      {"apiVersion", rest ? json::value(c.scheduler.api_version) : json::value(nullptr)},
      {"connectionMode", rest ? "hybrid" : "ssh"},
      {"timeout", seconds(c.ssh.command_timeout)},
  };
  // An extra field (the spec's Scheduler allows more): the PBS backend has never met a live PBS.
  if (pbs)
    scheduler["note"] = "PBS backend: no live test; checked only against documented PBS output with a fake runner";
  return json::object{
      {"name", c.name},
      {"ssh", json::object{{"host", c.ssh.host},
                           {"port", c.ssh.port},
                           {"maxClients", c.ssh.max_sessions_per_connection * c.ssh.max_connections_per_user},
                           {"proxyHost", nullptr},
                           {"proxyPort", nullptr},
                           {"timeout", json::object{{"connection", seconds(c.ssh.connect_timeout)},
                                                    {"login", seconds(c.ssh.connect_timeout)},
                                                    {"commandExecution", seconds(c.ssh.command_timeout)},
                                                    {"idleTimeout", seconds(c.ssh.idle_timeout)},
                                                    {"keepAlive", seconds(c.ssh.keepalive)}}}}},
      {"scheduler", std::move(scheduler)},
      {"servicesHealth", health.last_run ? json::value(std::move(services)) : json::value(nullptr)},
      {"lastHealthCheck", health.last_run ? json::value(iso8601(*health.last_run)) : json::value(nullptr)},
      {"probing", json::object{{"intervalCheck", seconds(c.health_interval)}, {"services", nullptr}}},
      {"fileSystems", std::move(file_systems)},
      {"dataOperation", data_operation_json(c, s3)},
  };
}

json::object to_json(const transfer::TransferJob& job) {
  return json::object{{"transferJob", json::object{{"jobId", job.job_id},
                                                   {"system", job.system},
                                                   {"workingDirectory", job.working_directory},
                                                   {"logs", json::object{{"outputLog", job.output_log},
                                                                         {"errorLog", job.error_log}}}}}};
}

json::object to_json(const transfer::StagedUpload& upload) {
  auto out = to_json(upload.job);
  json::array urls;
  for (const auto& u : upload.part_urls) urls.emplace_back(u);
  json::object directives{{"transferMethod", "s3"},
                          {"partsUploadUrls", urls},
                          {"completeUploadUrl", upload.complete_url},
                          {"maxPartSize", upload.max_part_bytes}};
  out["partsUploadUrls"] = std::move(urls);
  out["completeUploadUrl"] = upload.complete_url;
  out["maxPartSize"] = upload.max_part_bytes;
  out["transferDirectives"] = std::move(directives);
  return out;
}

json::object to_json(const transfer::StagedDownload& download) {
  auto out = to_json(download.job);
  out["downloadUrl"] = download.download_url;
  out["transferDirectives"] = json::object{{"transferMethod", "s3"}, {"downloadUrl", download.download_url}};
  return out;
}

}  // namespace portico::api::firecrest
