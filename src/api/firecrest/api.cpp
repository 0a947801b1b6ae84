#include "api/firecrest/api.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <spdlog/spdlog.h>

#include "api/firecrest/errors.hpp"
#include "api/firecrest/models.hpp"
#include "portico/version.hpp"
#include "scheduler/userinfo.hpp"

namespace portico::api::firecrest {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorKind;
using core::Failure;
using http::Response;
using http::Verb;

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return std::nullopt;
  for (auto p : boost::urls::params_view(*parsed))
    if (p.key == name) return std::string(p.value);
  return std::nullopt;
}

namespace {

Response json_response(http::Status status, const json::value& body) {
  Response res{status, 11};
  res.set(http::bhttp::field::content_type, "application/json");
  res.body() = json::serialize(body);
  return res;
}

// Dependent endpoints answer 503 at once when the health checker already knows the backend is down.
void require_up(cluster::Cluster& cluster, status::ServiceType type) {
  if (!cluster.health().is_down(type)) return;
  std::string message;
  for (const auto& s : cluster.health().snapshot()->services)
    if (s.type == type && !s.healthy) message = s.message;
  throw Failure(ErrorKind::unavailable,
                std::string("the ") + status::to_string(type) + " service of system '" + cluster.name() + "' is down: " + message);
}

}  // namespace

Api::Api(const config::Config& config, const auth::Authenticator& authenticator, cluster::Clusters& clusters,
         observe::Metrics& metrics)
    : config_(config), authenticator_(authenticator), clusters_(clusters), metrics_(metrics) {
  add(Verb::get, "/status/liveness", {[this](Call&) -> asio::awaitable<Response> {
        json::object runs;
        std::optional<std::chrono::system_clock::time_point> latest;
        for (const auto& c : clusters_.all()) {
          auto s = c->health().snapshot();
          runs[c->name()] = s->last_run ? json::value(iso8601(*s->last_run)) : json::value(nullptr);
          if (s->last_run && (!latest || *s->last_run > *latest)) latest = s->last_run;
        }
        json::value last = latest ? json::value(std::chrono::duration_cast<std::chrono::seconds>(latest->time_since_epoch()).count())
                                  : json::value(nullptr);
        co_return json_response(http::Status::ok, json::object{{"healthcheckRuns", std::move(runs)}, {"lastUpdate", last}});
      },
      false});

  add(Verb::get, "/status/systems", {[this](Call&) -> asio::awaitable<Response> {
        std::string body = "{\"systems\":[";
        for (const auto& c : clusters_.all()) {
          if (body.back() != '[') body += ',';
          body += system_entry(*c);
        }
        body += "]}";
        Response res{http::Status::ok, 11};
        res.set(http::bhttp::field::content_type, "application/json");
        res.body() = std::move(body);
        co_return res;
      }});

  add(Verb::get, "/status/{system_name}/nodes", {[](Call& c) -> asio::awaitable<Response> {
        require_up(*c.cluster, status::ServiceType::scheduler);
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        auto nodes = co_await c.cluster->scheduler().nodes(runner);
        json::array out;
        for (const auto& n : nodes) out.push_back(to_json(n));
        co_return json_response(http::Status::ok, json::object{{"nodes", std::move(out)}});
      }});

  add(Verb::get, "/status/{system_name}/partitions", {[](Call& c) -> asio::awaitable<Response> {
        require_up(*c.cluster, status::ServiceType::scheduler);
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        auto partitions = co_await c.cluster->scheduler().partitions(runner);
        json::array out;
        for (const auto& p : partitions) out.push_back(to_json(p));
        co_return json_response(http::Status::ok, json::object{{"partitions", std::move(out)}});
      }});

  add(Verb::get, "/status/{system_name}/reservations", {[](Call& c) -> asio::awaitable<Response> {
        require_up(*c.cluster, status::ServiceType::scheduler);
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        auto reservations = co_await c.cluster->scheduler().reservations(runner);
        json::array out;
        for (const auto& r : reservations) out.push_back(to_json(r));
        co_return json_response(http::Status::ok, json::object{{"reservations", std::move(out)}});
      }});

  add(Verb::get, "/status/{system_name}/userinfo", {[](Call& c) -> asio::awaitable<Response> {
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        // `id` and the accounts query are independent: run them side by side on two channels,
        // each to its end (no sibling cancellation: a failure of one leaves the other alone).
        // The accounts come from the scheduler's database; when it is down, userinfo still
        // answers with what `id` said rather than failing the whole call.
        auto executor = co_await asio::this_coro::executor;
        auto accounts_of = [&]() -> asio::awaitable<std::vector<scheduler::Account>> {
          if (c.cluster->health().is_down(status::ServiceType::scheduler)) co_return std::vector<scheduler::Account>{};
          co_return co_await c.cluster->accounts(c.identity->username, runner);
        };
        auto [order, id_error, info, accounts_error, accounts] =
            co_await asio::experimental::make_parallel_group(
                asio::co_spawn(executor, scheduler::userinfo(runner), asio::deferred),
                asio::co_spawn(executor, accounts_of(), asio::deferred))
                .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
        if (id_error) std::rethrow_exception(id_error);
        if (accounts_error) std::rethrow_exception(accounts_error);
        co_return json_response(http::Status::ok, to_json(info, accounts));
      }});
}

std::string Api::system_entry(const cluster::Cluster& cluster) const {
  auto health = cluster.health().snapshot();
  auto version = cluster.scheduler_version();
  std::lock_guard lock(systems_mutex_);
  auto& entry = systems_[cluster.name()];
  if (entry.health != health || entry.version != version || entry.json.empty()) {
    entry.json = json::serialize(system_json(cluster.config(), *health, version));
    entry.health = std::move(health);
    entry.version = std::move(version);
  }
  return entry.json;
}

void Api::add(Verb verb, std::string pattern, Route route) { router_.add(verb, std::move(pattern), std::move(route)); }

Response Api::finish(Response response, const http::RequestContext& ctx) const {
  response.set("F7T-AppVersion", kFirecrestApiVersion);
  response.set("F7T-Timestamp", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                    std::chrono::system_clock::now().time_since_epoch()).count()));
  if (!ctx.user.empty()) response.set("F7T-AuthUsername", ctx.user);
  return response;
}

Response Api::reject(http::Status status, const std::string& message, const http::RequestContext& ctx) const {
  ErrorKind kind = ErrorKind::bad_request;
  if (status == http::Status::payload_too_large || status == http::Status::request_header_fields_too_large)
    kind = ErrorKind::too_large;
  else if (status == http::Status::request_timeout)
    kind = ErrorKind::timeout;
  auto res = error_response(Failure(kind, message), ctx.user);
  res.result(status);  // keep the precise status (431) the server chose
  return finish(std::move(res), ctx);
}

asio::awaitable<Response> Api::handle(http::Request& request, http::RequestContext& ctx, std::string_view path,
                                      std::string_view query) {
  ctx.api = "firecrest";
  try {
    auto match = router_.find(request.method(), path);
    if (!match.route) {
      if (!match.allowed.empty()) {
        std::string allow;
        for (auto v : match.allowed) allow += (allow.empty() ? "" : ", ") + std::string(http::bhttp::to_string(v));
        auto res = error_response(Failure(ErrorKind::method_not_allowed,
                                          "method " + std::string(request.method_string()) + " is not allowed here; allowed: " + allow),
                                  ctx.user);
        res.set(http::bhttp::field::allow, allow);
        co_return finish(std::move(res), ctx);
      }
      ctx.route = "unknown";
      throw Failure(ErrorKind::not_found, "no such endpoint: " + std::string(request.method_string()) + " " + std::string(path));
    }
    ctx.route = match.route->pattern;
    Call call{request, ctx, std::move(match.params), query, std::nullopt, nullptr};

    if (match.route->handler.authenticated) {
      auto header = request.find(http::bhttp::field::authorization);
      std::string authorization = header == request.end() ? std::string() : std::string(header->value());
      call.identity = co_await authenticator_.authenticate(std::move(authorization));
      ctx.user = call.identity->username;
      ctx.client_id = call.identity->client_id;
    }
    if (auto system = http::param(call.params, "system_name")) {
      call.cluster = clusters_.find(*system);
      if (!call.cluster) throw Failure(ErrorKind::not_found, "system '" + std::string(*system) + "' does not exist");
      ctx.system = call.cluster->name();
      std::vector<std::string> scopes;
      if (call.identity) scopes = call.identity->scopes;
      co_await call.cluster->authorize(ctx.user, scopes, &ctx.backend_calls);
    }
    auto response = co_await match.route->handler.handler(call);
    co_return finish(std::move(response), ctx);
  } catch (...) {
    co_return finish(failure_response(std::current_exception(), ctx), ctx);
  }
}

Response Api::failure_response(std::exception_ptr error, const http::RequestContext& ctx) const {
  try {
    std::rethrow_exception(error);
  } catch (const asio::multiple_exceptions& many) {
    // Concurrent backend calls that all failed: the first failure speaks for them.
    return failure_response(many.first_exception(), ctx);
  } catch (const Failure& failure) {
    if (!failure.detail().empty())
      spdlog::info("request {} failed: {} ({})", ctx.request_id, failure.what(), failure.detail());
    return error_response(failure, ctx.user);
  } catch (const std::exception& e) {
    spdlog::error("request {} failed unexpectedly: {}", ctx.request_id, e.what());
    return error_response(Failure(ErrorKind::internal, "internal error (request " + ctx.request_id + ")"), ctx.user);
  }
}

}  // namespace portico::api::firecrest
