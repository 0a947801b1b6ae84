#include "api/firecrest/api.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
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


Api::Api(const config::Config& config, const auth::Authenticator& authenticator, cluster::Clusters& clusters,
         observe::Metrics& metrics, transfer::Transfers& transfers)
    : config_(config), authenticator_(authenticator), clusters_(clusters), metrics_(metrics), transfers_(transfers) {
  add_status_routes(*this);
  add_compute_routes(*this);
  add_filesystem_routes(*this);
  add_stream_routes(*this);
  add_transfer_routes(*this);
}

std::string Api::system_entry(const cluster::Cluster& cluster) const {
  auto health = cluster.health().snapshot();
  auto version = cluster.scheduler_version();
  std::lock_guard lock(systems_mutex_);
  auto& entry = systems_[cluster.name()];
  if (entry.health != health || entry.version != version || entry.json.empty()) {
    entry.json = json::serialize(system_json(cluster.config(), *health, version, config_.s3));
    entry.health = std::move(health);
    entry.version = std::move(version);
  }
  return entry.json;
}

void Api::add(Verb verb, std::string pattern, Route route) { router_.add(verb, std::move(pattern), std::move(route)); }

void set_firecrest_headers(http::bhttp::response_header<>& header, const http::RequestContext& ctx) {
  header.set("F7T-AppVersion", kFirecrestApiVersion);
  header.set("F7T-Timestamp", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                  std::chrono::system_clock::now().time_since_epoch()).count()));
  if (!ctx.user.empty()) header.set("F7T-AuthUsername", ctx.user);
}

Response Api::finish(Response response, const http::RequestContext& ctx) const {
  set_firecrest_headers(response.base(), ctx);
  return response;
}

bool Api::streams_body(Verb verb, std::string_view path) const {
  auto match = router_.find(verb, path);
  return match.route && match.route->handler.streams_body;
}

Response Api::reject(http::Status status, const std::string& message, const http::RequestContext& ctx) const {
  ErrorKind kind = ErrorKind::bad_request;
  if (status == http::Status::payload_too_large || status == http::Status::request_header_fields_too_large)
    kind = ErrorKind::too_large;
  else if (status == http::Status::request_timeout)
    kind = ErrorKind::timeout;
  auto res = reject(Failure(kind, message), ctx);
  res.result(status);  // keep the precise status (431) the server chose
  return res;
}

Response Api::reject(const core::Failure& failure, const http::RequestContext& ctx) const {
  return finish(error_response(failure, ctx.user), ctx);
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
    Call call{request, ctx, std::move(match.params), query, std::nullopt, nullptr, this};

    if (match.route->handler.authenticated) {
      auto header = request.find(http::bhttp::field::authorization);
      std::string authorization = header == request.end() ? std::string() : std::string(header->value());
      call.identity = co_await authenticator_.authenticate(std::move(authorization));
      ctx.user = call.identity->username;
      ctx.client_id = call.identity->client_id;
      if (rate_limits_) rate_limits_->charge_user(limits::Api::firecrest, ctx.user);
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
    if (failure.kind() == ErrorKind::internal)
      spdlog::error("request {} failed: {} ({})", ctx.request_id, failure.what(), failure.detail());
    else if (!failure.detail().empty())
      spdlog::info("request {} failed: {} ({})", ctx.request_id, failure.what(), failure.detail());
    return error_response(failure, ctx.user);
  } catch (const std::exception& e) {
    spdlog::error("request {} failed unexpectedly: {}", ctx.request_id, e.what());
    return error_response(Failure(ErrorKind::internal, "internal error (request " + ctx.request_id + ")"), ctx.user);
  }
}

}  // namespace portico::api::firecrest
