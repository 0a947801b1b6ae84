#include <boost/json.hpp>

#include <chrono>
#include <utility>

#include "api/firecrest/api.hpp"
#include "api/firecrest/compute_body.hpp"
#include "api/firecrest/handler_util.hpp"
#include "api/firecrest/models.hpp"
#include "core/ascii.hpp"
#include "core/error.hpp"
#include "filesystem/paths.hpp"

// /compute/{system}/jobs...: submit, list, get, metadata, cancel, attach.
namespace portico::api::firecrest {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Response;
using http::Verb;

namespace {

// Job ids are letters and digits (the contract's ^[a-zA-Z0-9]+$); anything else is refused
// before it reaches a command.
std::string job_id_of(const Call& c) {
  auto id = std::string(http::param(c.params, "job_id").value_or(""));
  bool ok = !id.empty() && id.size() <= 64;
  for (unsigned char ch : id) ok = ok && core::ascii_alnum(ch);
  if (!ok) throw core::validation_error("path", "job_id", "must be letters and digits");
  return id;
}

std::optional<std::string> non_empty(std::optional<std::string> v) {
  if (v && v->empty()) return std::nullopt;  // the client always sends account= : empty means no filter
  return v;
}

// FirecREST's time_window (JobsTimeWindow in FirecREST v2): how far back finished jobs are
// listed. Only its five values are accepted, as FirecREST does; absent or empty keeps its
// default, the last 24 hours.
std::chrono::seconds time_window_of(const std::optional<std::string>& value) {
  using namespace std::chrono_literals;
  if (!value || value->empty()) return 24h;
  static constexpr std::pair<std::string_view, std::chrono::seconds> windows[] = {
      {"1h", 1h}, {"8h", 8h}, {"24h", 24h}, {"3d", 72h}, {"7d", 168h}};
  for (const auto& [name, seconds] : windows)
    if (*value == name) return seconds;
  throw core::validation_error("query", "time_window", "must be one of 1h, 8h, 24h, 3d, 7d");
}

}  // namespace

void add_compute_routes(Api& api) {
  api.add(Verb::post, "/compute/{system_name}/jobs", {[](Call& c) -> asio::awaitable<Response> {
            auto& cluster = *c.cluster;
            ConfinePath confine = [&cluster](std::string_view path, std::string_view field) {
              return filesystem::confine(path, cluster.config().file_systems, "body", field);
            };
            auto job = parse_job_submission(c.request.body(), confine, cluster.config().max_script_bytes);
            require_up(cluster, status::ServiceType::scheduler);
            auto runner = cluster.runner(c.identity->username, &c.ctx.backend_calls);
            auto id = co_await cluster.scheduler().submit(runner, job);
            co_return json_response(http::Status::created, json::object{{"jobId", id}});
          }});

  api.add(Verb::get, "/compute/{system_name}/jobs", {[](Call& c) -> asio::awaitable<Response> {
            scheduler::Scheduler::JobFilter filter;
            filter.all_users = truthy(query_param(c.query, "allusers"));
            filter.account = non_empty(query_param(c.query, "account"));
            filter.name = non_empty(query_param(c.query, "name"));
            filter.time_window = time_window_of(query_param(c.query, "time_window"));
            // Slurm reads a comma as a list of several; the value arrives quoted otherwise.
            for (const auto* value : {&filter.account, &filter.name})
              if (*value && (*value)->find_first_of(std::string_view(",\n\0", 3)) != std::string::npos)
                throw core::validation_error("query", value == &filter.account ? "account" : "name",
                                             "must be one name, without commas or line breaks");
            require_up(*c.cluster, status::ServiceType::scheduler);
            auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
            auto jobs = co_await c.cluster->scheduler().jobs(runner, c.identity->username, filter);
            json::array out;
            for (const auto& j : jobs) out.push_back(to_json(j));
            co_return json_response(http::Status::ok, json::object{{"jobs", std::move(out)}});
          }});

  api.add(Verb::get, "/compute/{system_name}/jobs/{job_id}", {[](Call& c) -> asio::awaitable<Response> {
            auto id = job_id_of(c);
            require_up(*c.cluster, status::ServiceType::scheduler);
            auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
            auto job = co_await c.cluster->scheduler().job(runner, id);
            if (!job) throw core::Failure(core::ErrorKind::not_found, "Job not found: " + id);
            co_return json_response(http::Status::ok, json::object{{"jobs", json::array{to_json(*job)}}});
          }});

  api.add(Verb::get, "/compute/{system_name}/jobs/{job_id}/metadata", {[](Call& c) -> asio::awaitable<Response> {
            auto id = job_id_of(c);
            require_up(*c.cluster, status::ServiceType::scheduler);
            auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
            auto metadata = co_await c.cluster->scheduler().metadata(runner, id);
            co_return json_response(http::Status::ok, json::object{{"jobs", json::array{to_json(metadata)}}});
          }});

  api.add(Verb::delete_, "/compute/{system_name}/jobs/{job_id}", {[](Call& c) -> asio::awaitable<Response> {
            auto id = job_id_of(c);
            require_up(*c.cluster, status::ServiceType::scheduler);
            auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
            co_await c.cluster->scheduler().cancel(runner, id);
            co_return empty_response(http::Status::no_content);
          }});

  api.add(Verb::put, "/compute/{system_name}/jobs/{job_id}/attach", {[](Call& c) -> asio::awaitable<Response> {
            auto id = job_id_of(c);
            boost::system::error_code ec;
            auto body = json::parse(c.request.body(), ec);
            const json::value* command = ec || !body.is_object() ? nullptr : body.as_object().if_contains("command");
            if (!command || !command->is_string() || command->get_string().empty() ||
                std::string_view(command->get_string()).find('\0') != std::string_view::npos)
              throw core::validation_error("body", "command", "is required: the shell command to run in the job");
            std::string shell_command(command->get_string());
            require_up(*c.cluster, status::ServiceType::scheduler);
            auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
            co_await c.cluster->scheduler().attach(runner, id, std::move(shell_command));
            co_return empty_response(http::Status::no_content);
          }});
}

}  // namespace portico::api::firecrest
