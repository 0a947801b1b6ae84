// The compute operations (launchJob, updateJob, getJob, getJobs, cancelJob), v1 and v2 from the
// same handlers: the request's JSON becomes a scheduler::psij::JobSpec (job_spec.hpp), the core
// (scheduler/psij.hpp) turns it into the cluster's submission, and the reply is written here.
// Jobs act as the token's user through the cluster's Scheduler, so a job submitted through
// FirecREST is visible here and the reverse. Idempotency-Key (launchJob, updateJob) is kept in
// the store per user.
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

#include "api/iri/api.hpp"
#include "api/iri/errors.hpp"
#include "api/iri/handler_util.hpp"
#include "api/iri/job_spec.hpp"
#include "core/ascii.hpp"
#include "core/time.hpp"
#include "filesystem/paths.hpp"
#include "scheduler/psij.hpp"

namespace portico::api::iri {

namespace asio = boost::asio;
namespace json = boost::json;
namespace psij = scheduler::psij;
using core::ErrorKind;
using core::Failure;
using http::Verb;

namespace {

constexpr std::size_t kMaxIdempotencyKey = 255;
constexpr std::int64_t kInFlightLimit = 15 * 60;  // seconds: longer than any request runs

json::value parse_body(const Call& c, bool optional) {
  const auto& body = c.request.body();
  if (optional && body.find_first_not_of(" \t\r\n") == std::string::npos) return nullptr;
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  if (ec) throw core::validation_error("body", "body", "is not JSON: " + ec.message());
  return value;
}

// ---- the cluster of a compute resource --------------------------------------------------------

struct Target {
  cluster::Cluster* cluster = nullptr;
  std::string user;
};

std::string_view header(const http::Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

asio::awaitable<Target> target_of(Api& api, Call& c) {
  auto id = path_param(c, "resource_id");
  const auto* r = api.model().resource(id);
  cluster::Cluster* cl = nullptr;
  if (r && r->compute_endpoint && api.clusters()) cl = api.clusters()->find(r->cluster);
  if (!cl) throw not_found("compute resource", id);
  Target t{cl, c.identity->username};
  co_await cl->authorize(t.user, c.identity->scopes, &c.ctx.backend_calls);
  co_return t;
}

void require_scheduler(cluster::Cluster& cluster) {
  if (!cluster.health().is_down(status::ServiceType::scheduler)) return;
  throw Failure(ErrorKind::unavailable, "the scheduler of " + cluster.name() + " is down");
}

std::string job_id_of(const Call& c) {
  auto id = path_param(c, "job_id");
  bool ok = !id.empty() && id.size() <= 64;
  for (unsigned char ch : id) ok = ok && core::ascii_alnum(ch);
  if (!ok) throw core::validation_error("path", "job_id", "must be letters and digits");
  return id;
}

psij::Site site_of(const cluster::Cluster& cluster, const std::string& user) {
  const auto& cfg = cluster.config();
  psij::Site site;
  site.scheduler = cfg.scheduler.type == config::SchedulerType::pbs ? "pbs" : "slurm";
  site.custom_attributes = cfg.compute.custom_attributes;
  site.container_command = cfg.compute.container_command;
  site.mount_words = cfg.compute.mount_words;
  const config::FileSystem* chosen = cfg.file_systems.empty() ? nullptr : &cfg.file_systems.front();
  for (const auto& fs : cfg.file_systems)
    if (fs.default_work_dir) {
      chosen = &fs;
      break;
    }
  if (chosen) site.default_directory = chosen->path + "/" + user;
  const auto* systems = &cfg.file_systems;
  site.confine = [systems](std::string_view path, std::string_view field) {
    return filesystem::confine(path, *systems, "body", field);
  };
  return site;
}

// ---- the reply's Job ----------------------------------------------------------------------

json::object spec_json(const psij::JobSpec& spec) {
  json::object o;
  if (spec.name) o["name"] = *spec.name;
  if (spec.directory) o["directory"] = *spec.directory;
  json::object attributes;
  if (spec.attributes.duration) attributes["duration"] = *spec.attributes.duration;
  if (spec.attributes.queue_name) attributes["queue_name"] = *spec.attributes.queue_name;
  if (spec.attributes.account) attributes["account"] = *spec.attributes.account;
  if (!attributes.empty()) o["attributes"] = std::move(attributes);
  if (spec.resources.node_count) o["resources"] = json::object{{"node_count", *spec.resources.node_count}};
  return o;
}

json::object status_json(const psij::Status& s, const scheduler::Job* job) {
  json::object o;
  o["state"] = s.state;
  o["time"] = s.time ? json::value(static_cast<double>(*s.time)) : json::value(nullptr);
  o["message"] = s.message.empty() ? json::value(nullptr) : json::value(s.message);
  o["exit_code"] = s.exit_code ? json::value(*s.exit_code) : json::value(nullptr);
  json::object meta;
  if (job) {
    meta["native_id"] = job->job_id;
    meta["native_state"] = job->status.state;
    if (job->status.state_reason) meta["reason"] = *job->status.state_reason;
    if (job->status.interrupt_signal) meta["signal"] = *job->status.interrupt_signal;
    if (!job->cluster.empty()) meta["cluster"] = job->cluster;
    if (!job->partition.empty()) meta["partition"] = job->partition;
    if (job->account) meta["account"] = *job->account;
    if (!job->nodes.empty()) meta["nodes"] = job->nodes;
    if (job->user) meta["user"] = *job->user;
    if (job->time.start) meta["start_time"] = *job->time.start;
    if (job->time.end) meta["end_time"] = *job->time.end;
    if (job->time.limit) meta["time_limit"] = *job->time.limit;
  }
  o["meta_data"] = std::move(meta);
  return o;
}

// The stored specification of a job when it is the user's, else nullopt.
std::optional<json::value> stored_spec(Api& api, const std::string& cluster, const std::string& job_id,
                                       const std::string& user) {
  if (!api.store()) return std::nullopt;
  auto record = api.store()->job_spec(cluster, job_id);
  if (!record || record->user != user) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(record->spec, ec);
  if (ec) return std::nullopt;
  return v;
}

json::object job_json(Api& api, const cluster::Cluster& cluster, const scheduler::Job& job, const std::string& user,
                      bool include_spec) {
  json::object o;
  o["id"] = job.job_id;
  o["status"] = status_json(psij::status_of(job), &job);
  if (include_spec) {
    auto stored = stored_spec(api, cluster.name(), job.job_id, user);
    o["job_spec"] = stored ? std::move(*stored) : json::value(spec_json(psij::spec_from_job(job)));
  }
  return o;
}

bool owned_by(const scheduler::Job& job, const std::string& user) { return job.user && *job.user == user; }

// The user's job, or 404 (also for another user's job: its existence is not the caller's).
asio::awaitable<scheduler::Job> own_job(cluster::Cluster& cluster, core::CommandRunner& runner, const std::string& id,
                                        const std::string& user) {
  auto job = co_await cluster.scheduler().job(runner, id);
  if (!job || !owned_by(*job, user)) throw not_found("job", id);
  co_return std::move(*job);
}


// ---- problems with headers, and Idempotency-Key ---------------------------------------------

std::string instance_of(const Call& c) {
  std::string_view target(c.request.target().data(), c.request.target().size());
  auto at = target.find("/api/v");
  std::string rest(at == std::string_view::npos ? target : target.substr(at + 7));
  return c.links.base + rest;
}

Reply problem_reply(const Call& c, const Failure& failure, http::Status status, std::string slug, std::string title) {
  auto res = problem_response(failure, c.links.base + "/problems", instance_of(c));
  auto body = json::parse(res.body()).as_object();
  body["status"] = static_cast<int>(status);
  if (!slug.empty()) body["type"] = c.links.base + "/problems/" + slug;
  if (!title.empty()) body["title"] = title;
  Reply r{std::move(body), 0, status};
  r.headers.emplace_back("Content-Type", "application/problem+json");
  return r;
}

// Failures that prove nothing was done: the key is released so a retry may run.
bool nothing_done(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::validation:
    case ErrorKind::bad_request:
    case ErrorKind::unauthorized:
    case ErrorKind::forbidden:
    case ErrorKind::not_found:
    case ErrorKind::method_not_allowed:
    case ErrorKind::conflict:
    case ErrorKind::too_large:
    case ErrorKind::not_implemented:
    case ErrorKind::unavailable:
    case ErrorKind::rate_limited: return true;
    default: return false;
  }
}

// Runs `run` once per (user, Idempotency-Key): the same key and request give the first reply
// again (Idempotency-Key-Reply: hit), another request with the key 422, and a request while
// the first is still running 409 with Retry-After. The key is recorded before `run` starts, so
// a client retrying after a timeout never submits twice.
asio::awaitable<Reply> idempotent(Api& api, Call& c, const std::string& user, const std::string& operation,
                                  std::function<asio::awaitable<Reply>()> run) {
  auto it = c.request.find("Idempotency-Key");
  if (it == c.request.end() || !api.store()) co_return co_await run();
  std::string key(it->value().data(), it->value().size());
  bool printable = std::all_of(key.begin(), key.end(), [](char ch) { return ch > ' ' && ch < 0x7f; });
  if (key.empty() || key.size() > kMaxIdempotencyKey || !printable)
    throw core::validation_error("header", "Idempotency-Key",
                                 "must be 1 to 255 printable characters, got " + std::to_string(key.size()));
  std::string canonical;
  {
    boost::system::error_code ec;
    auto v = json::parse(c.request.body(), ec);
    canonical = ec ? c.request.body() : json::serialize(v);
  }
  std::string target(c.request.target().data(), c.request.target().size());
  target = target.substr(0, target.find('?'));
  const std::int64_t now = core::now_millis() / 1000;
  store::IdempotencyRecord claim{user, key, operation + " " + target + "\n" + canonical, true, 0, "", now,
                                 now + api.config().facility.idempotency_ttl.count()};
  auto held = api.store()->claim_idempotency_key(claim);
  if (held) {
    if (held->fingerprint != claim.fingerprint) {
      Failure f(ErrorKind::validation, "Idempotency-Key: this key was used for another request", {},
                {{"header", "Idempotency-Key", "was used for another request"}});
      co_return problem_reply(c, f, http::Status::unprocessable_entity, "unprocessable-content", "Unprocessable content");
    }
    if (held->in_flight && now - held->created > kInFlightLimit) {
      // No request lasts this long: the one that claimed the key ended without an answer (a
      // restart of Portico). Its job may exist, so the key never submits again.
      Failure f(ErrorKind::conflict,
                "the request with this Idempotency-Key ended without an answer; its job may exist: list the jobs, "
                "then retry with a new key",
                {}, {{"header", "Idempotency-Key", "its request ended without an answer"}});
      co_return problem_reply(c, f, http::Status::conflict, "", "");
    }
    if (held->in_flight) {
      Failure f(ErrorKind::conflict, "the request with this Idempotency-Key is still running", {},
                {{"header", "Idempotency-Key", "its request is still running"}});
      auto r = problem_reply(c, f, http::Status::conflict, "", "");
      r.headers.emplace_back("Retry-After", "2");
      co_return r;
    }
    boost::system::error_code ec;
    Reply r{json::parse(held->response, ec), 0, static_cast<http::Status>(held->status)};
    if (held->status >= 400) r.headers.emplace_back("Content-Type", "application/problem+json");
    r.headers.emplace_back("Idempotency-Key-Reply", "hit");
    co_return r;
  }
  std::exception_ptr error;
  std::optional<Reply> reply;
  try {
    reply = co_await run();
  } catch (const Failure& f) {
    error = std::current_exception();
    if (nothing_done(f.kind())) {
      api.store()->release_idempotency_key(user, key);
    } else {
      // Perhaps done (a timeout after the scheduler had the job): the key keeps this answer.
      Failure uncertain(f.kind(), std::string(f.what()) +
                                      " (the outcome is unknown: list the jobs before retrying with a new key)");
      auto res = problem_response(uncertain, c.links.base + "/problems", instance_of(c));
      api.store()->finish_idempotency_key(user, key, static_cast<int>(res.result_int()), res.body());
    }
  } catch (...) {
    error = std::current_exception();
    api.store()->finish_idempotency_key(user, key, 500, R"({"type":"about:blank","status":500,"title":"Internal error","instance":""})");
  }
  if (error) std::rethrow_exception(error);
  api.store()->finish_idempotency_key(user, key, static_cast<int>(reply->status), json::serialize(reply->body));
  co_return std::move(*reply);
}

// ---- updateJob: what may change ---------------------------------------------------------------

// The top-level and attributes members of `body` that differ from `before` and that updateJob
// cannot change: each a 501 (nothing changes).
std::vector<std::string> unchangeable(const json::object& body, const json::object& before) {
  std::vector<std::string> out;
  auto differs = [](const json::object& a, const json::object& b, std::string_view key) {
    const auto* x = a.if_contains(key);
    const auto* y = b.if_contains(key);
    bool xa = x && !x->is_null(), ya = y && !y->is_null();
    return xa != ya || (xa && *x != *y);
  };
  for (const auto& [key, value] : body) {
    if (key == "name" || key == "attributes") continue;
    if (differs(body, before, key)) out.push_back(std::string(key));
  }
  const json::object empty;
  const auto* a = body.if_contains("attributes");
  const auto* b = before.if_contains("attributes");
  const json::object& ao = a && a->is_object() ? a->as_object() : empty;
  const json::object& bo = b && b->is_object() ? b->as_object() : empty;
  for (const auto& [key, value] : ao) {
    if (key == "duration" || key == "queue_name" || key == "account") continue;
    if (differs(ao, bo, key)) out.push_back("attributes." + std::string(key));
  }
  return out;
}

}  // namespace

void add_compute_routes(Api& api) {
  Api* self = &api;

  auto launch = [self](Call& c) -> asio::awaitable<Reply> {
    auto t = co_await target_of(*self, c);
    std::function<asio::awaitable<Reply>()> run = [self, &c, t]() -> asio::awaitable<Reply> {
      auto body = parse_body(c, false);
      psij::JobSpec spec = read_job_spec(body, c.version);
      // v2: the project may come from X-IRI-Facility-Project instead (not both).
      auto project = header(c.request, "X-IRI-Facility-Project");
      if (c.version == Version::v2 && !project.empty()) {
        if (spec.attributes.account)
          throw core::validation_error("header", "X-IRI-Facility-Project",
                                       "give the account either here or in attributes.account, not both");
        spec.attributes.account = std::string(project);
      }
      auto site = site_of(*t.cluster, t.user);
      scheduler::JobSubmission job = psij::to_submission(spec, site);
      // v2 names the project in exactly one place: a submission without one is refused rather
      // than charged to the user's default account behind their back.
      if (c.version == Version::v2 && !spec.attributes.account)
        throw core::validation_error("body", "attributes.account",
                                     "is required: give the project in attributes.account or in the "
                                     "X-IRI-Facility-Project header");
      require_scheduler(*t.cluster);
      auto runner = t.cluster->runner(t.user, &c.ctx.backend_calls);
      auto id = co_await t.cluster->scheduler().submit(runner, job);
      if (self->store())
        self->store()->put_job_spec({t.cluster->name(), id, t.user, json::serialize(body), core::now_millis() / 1000});
      json::object status{{"state", "queued"},
                          {"time", static_cast<double>(core::now_millis()) / 1000.0},
                          {"message", "submitted"},
                          {"exit_code", nullptr},
                          {"meta_data", json::object{{"native_id", id}}}};
      co_return Reply{json::object{{"id", id}, {"status", std::move(status)}, {"job_spec", std::move(body)}}};
    };
    co_return co_await idempotent(*self, c, t.user, "launchJob", std::move(run));
  };

  auto update = [self](Call& c) -> asio::awaitable<Reply> {
    auto t = co_await target_of(*self, c);
    auto id = job_id_of(c);
    std::function<asio::awaitable<Reply>()> run = [self, &c, t, id]() -> asio::awaitable<Reply> {
      auto body = parse_body(c, false);
      psij::JobSpec spec = read_job_spec(body, c.version);
      if (spec.attributes.duration && *spec.attributes.duration < 1)
        throw core::validation_error("body", "attributes.duration", "must be a positive integer");
      require_scheduler(*t.cluster);
      auto runner = t.cluster->runner(t.user, &c.ctx.backend_calls);
      auto job = co_await own_job(*t.cluster, runner, id, t.user);
      auto stored = stored_spec(*self, t.cluster->name(), id, t.user);
      json::object before = stored && stored->is_object() ? stored->as_object() : spec_json(psij::spec_from_job(job));
      auto fixed = unchangeable(body.as_object(), before);
      if (!fixed.empty()) {
        std::string list;
        for (const auto& f : fixed) list += (list.empty() ? "" : ", ") + f;
        throw Failure(ErrorKind::not_implemented, "only name, attributes.duration, attributes.queue_name and "
                                                  "attributes.account of a pending job can be changed, not " + list);
      }
      if (psij::status_of(job).state != "queued" && psij::status_of(job).state != "held")
        throw Failure(ErrorKind::conflict, "job " + id + " is " + psij::status_of(job).state +
                                               ": only a pending job can be changed");
      auto change = psij::update_of(spec);
      if (!change.empty()) co_await t.cluster->scheduler().update(runner, id, change);
      if (stored && stored->is_object()) {
        auto merged = stored->as_object();
        if (body.as_object().contains("name")) merged["name"] = body.as_object().at("name");
        if (const auto* a = body.as_object().if_contains("attributes"); a && a->is_object()) {
          if (!merged["attributes"].is_object()) merged["attributes"] = json::object{};
          for (auto key : {"duration", "queue_name", "account"})
            if (a->as_object().contains(key)) merged["attributes"].as_object()[key] = a->as_object().at(key);
        }
        self->store()->put_job_spec({t.cluster->name(), id, t.user, json::serialize(merged), core::now_millis() / 1000});
      }
      auto now = co_await own_job(*t.cluster, runner, id, t.user);
      co_return Reply{job_json(*self, *t.cluster, now, t.user, true)};
    };
    co_return co_await idempotent(*self, c, t.user, "updateJob", std::move(run));
  };

  auto get_job = [self](Call& c) -> asio::awaitable<Reply> {
    auto t = co_await target_of(*self, c);
    auto id = job_id_of(c);
    require_scheduler(*t.cluster);
    auto runner = t.cluster->runner(t.user, &c.ctx.backend_calls);
    auto job = co_await own_job(*t.cluster, runner, id, t.user);
    if (!c.query.flag("historical", true) && psij::is_final(psij::status_of(job))) throw not_found("active job", id);
    co_return Reply{job_json(*self, *t.cluster, job, t.user, c.query.flag("include_spec", false))};
  };

  auto get_jobs = [self](Call& c) -> asio::awaitable<Reply> {
    auto t = co_await target_of(*self, c);
    auto filters = parse_body(c, true);
    std::optional<std::string> name, state, account, queue;
    if (!filters.is_null()) {
      if (!filters.is_object()) throw core::validation_error("body", "body", "must be an object of filters or null");
      for (const auto& [key, value] : filters.as_object()) {
        std::string k(key);
        if (k != "name" && k != "state" && k != "account" && k != "queue_name")
          throw core::validation_error("body", k.substr(0, 64), "is not a filter (name, state, account, queue_name)");
        if (!value.is_string() || value.as_string().empty())
          throw core::validation_error("body", k, "must be a non-empty string");
        std::string v(value.as_string());
        (k == "name" ? name : k == "state" ? state : k == "account" ? account : queue) = v;
      }
    }
    require_scheduler(*t.cluster);
    auto runner = t.cluster->runner(t.user, &c.ctx.backend_calls);
    const bool historical = c.query.flag("historical", false);
    scheduler::Scheduler::JobFilter filter;
    filter.account = account;
    filter.name = name;
    filter.time_window = historical ? std::chrono::seconds(7 * 24 * 3600) : std::chrono::seconds(60);
    auto jobs = co_await t.cluster->scheduler().jobs(runner, t.user, filter);
    std::vector<const scheduler::Job*> matched;
    for (const auto& j : jobs) {
      if (!owned_by(j, t.user)) continue;
      auto s = psij::status_of(j);
      if (!historical && psij::is_final(s)) continue;
      if (state && s.state != *state) continue;
      if (queue && j.partition != *queue) continue;
      if (name && j.name != *name) continue;
      if (account && j.account != *account) continue;
      matched.push_back(&j);
    }
    auto number = [](const std::string& id) {
      std::int64_t n = 0;
      for (char ch : id) n = ch >= '0' && ch <= '9' ? n * 10 + (ch - '0') : n;
      return n;
    };
    std::sort(matched.begin(), matched.end(),
              [&](const scheduler::Job* a, const scheduler::Job* b) { return number(a->job_id) > number(b->job_id); });
    const auto offset = c.query.integer("offset", 0);
    const auto limit = c.query.integer("limit", 100);
    const bool include_spec = c.query.flag("include_spec", false);
    json::array out;
    for (std::size_t i = static_cast<std::size_t>(offset); i < matched.size() && static_cast<std::int64_t>(out.size()) < limit; ++i)
      out.push_back(job_json(*self, *t.cluster, *matched[i], t.user, include_spec));
    co_return Reply{std::move(out)};
  };

  auto cancel = [self](Call& c) -> asio::awaitable<Reply> {
    auto t = co_await target_of(*self, c);
    auto id = job_id_of(c);
    require_scheduler(*t.cluster);
    auto runner = t.cluster->runner(t.user, &c.ctx.backend_calls);
    auto job = co_await own_job(*t.cluster, runner, id, t.user);
    if (!psij::is_final(psij::status_of(job))) co_await t.cluster->scheduler().cancel(runner, id);
    co_return Reply{nullptr, 0, http::Status::no_content};
  };

  auto route = [](std::string id, std::string summary, std::vector<Param> params, std::string response, bool list,
                  std::string request, std::function<asio::awaitable<Reply>(Call&)> handler) {
    Route r{std::move(id), "compute", std::move(summary), std::move(params), std::move(response), list, true, false,
            std::move(request), nullptr};
    r.async_handler = std::move(handler);
    return r;
  };
  api.add(Versions::both, Verb::post, "/compute/job/{resource_id}",
          route("launchJob", "Submit a PSI/J job", {}, "Job", false, "JobSpec", launch));
  api.add(Versions::both, Verb::put, "/compute/job/{resource_id}/{job_id}",
          route("updateJob", "Change a pending job", {}, "Job", false, "JobSpec", update));
  api.add(Versions::both, Verb::get, "/compute/status/{resource_id}/{job_id}",
          route("getJob", "One job of the caller",
                {boolean_param("historical", "Whether a finished job is found.", true),
                 boolean_param("include_spec", "Whether the job's specification is included.")},
                "Job", false, "", get_job));
  api.add(Versions::both, Verb::post, "/compute/status/{resource_id}",
          route("getJobs", "The caller's jobs",
                {offset_param(), limit_param(),
                 boolean_param("historical", "Whether finished jobs are listed."),
                 boolean_param("include_spec", "Whether each job's specification is included.")},
                "Job", true, "", get_jobs));
  api.add(Versions::both, Verb::delete_, "/compute/cancel/{resource_id}/{job_id}",
          route("cancelJob", "Cancel a job", {}, "", false, "", cancel));
}

}  // namespace portico::api::iri
