#include "api/iri/api.hpp"

#include <boost/asio/multiple_exceptions.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/iri/errors.hpp"
#include "facility/uuid.hpp"

namespace portico::api::iri {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorKind;
using core::Failure;
using http::Response;
using http::Verb;

namespace {

// Host names and addresses as clients and proxies may send them; anything else is ignored
// rather than echoed into links.
bool safe_host(std::string_view h) {
  return !h.empty() && h.size() <= 255 && std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view(".-:[]_").find(c) != std::string_view::npos;
  });
}

bool safe_prefix(std::string_view p) {
  return !p.empty() && p.front() == '/' && p.size() <= 200 && p.find("//") == std::string_view::npos &&
         std::all_of(p.begin(), p.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view("/._~-").find(c) != std::string_view::npos;
         });
}

std::string_view header(const http::Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

std::string_view first_value(std::string_view v) {
  auto comma = v.find(',');
  if (comma != std::string_view::npos) v = v.substr(0, comma);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

// The peer address of "address:port" (IPv6 addresses hold colons too).
std::string_view address_of(std::string_view remote) {
  auto colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

std::string allow_header(const std::vector<Verb>& verbs) {
  std::string allow;
  for (auto v : verbs) {
    std::string name(http::bhttp::to_string(v));
    if (allow.find(name) == std::string::npos) allow += (allow.empty() ? "" : ", ") + name;
  }
  return allow;
}

}  // namespace

Api::Api(const config::Config& config, const auth::Authenticator& authenticator, const facility::Model& model,
         facility::StatusBook& book, cluster::Clusters* clusters, store::Store* store)
    : config_(config),
      authenticator_(authenticator),
      model_(model),
      book_(book),
      clusters_(clusters),
      store_(store),
      root_(config.server.api_root) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
  add_facility_routes(*this);
  add_status_routes(*this);
  add_account_routes(*this);
  add_project_routes(*this);
  add_storage_routes(*this);
  add_admin_routes(*this);
  add_compute_routes(*this);
  add_filesystem_routes(*this);
  add_meta_routes(*this);
}

void Api::add(Versions versions, Verb verb, std::string pattern, Route route) {
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  const Route* r = routes_.back().get();
  for (int v = 1; v <= 2; ++v)
    if (static_cast<int>(versions) & v) routers_[v - 1].add(verb, pattern, r);
  entries_.push_back({versions, verb, std::move(pattern), *r});
}

bool Api::serves(std::string_view path) {
  for (std::string_view prefix : {"/api/v1", "/api/v2"})
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) return true;
  return false;
}

bool Api::streams_body(Verb verb, std::string_view path) const {
  if (!serves(path)) return false;
  const Version version = path.starts_with("/api/v2") ? Version::v2 : Version::v1;
  auto match = routers_[static_cast<int>(version) - 1].find(verb, path.substr(7));
  return match.route && match.route->handler->streams_body;
}

std::string Api::origin(const http::Request& request, const http::RequestContext& ctx) const {
  if (!config_.facility.public_base_url.empty()) return config_.facility.public_base_url;
  std::string scheme = config_.server.tls ? "https" : "http";
  std::string host(header(request, "Host"));
  if (!safe_host(host)) host = config_.server.host + ":" + std::to_string(config_.server.port);
  std::string prefix;
  const auto& proxies = config_.facility.trusted_proxies;
  if (std::find(proxies.begin(), proxies.end(), address_of(ctx.remote)) != proxies.end()) {
    auto proto = first_value(header(request, "X-Forwarded-Proto"));
    if (proto == "http" || proto == "https") scheme = std::string(proto);
    auto forwarded_host = first_value(header(request, "X-Forwarded-Host"));
    if (safe_host(forwarded_host)) host = std::string(forwarded_host);
    auto forwarded_prefix = first_value(header(request, "X-Forwarded-Prefix"));
    if (safe_prefix(forwarded_prefix)) {
      prefix = std::string(forwarded_prefix);
      while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    }
  }
  return scheme + "://" + host + prefix + root_;
}

Response Api::finish(Response response, const http::RequestContext& ctx) const {
  response.set("X-Request-ID", ctx.request_id);
  return response;
}

Response Api::reject(http::Status status, const std::string& message, const http::RequestContext& ctx) const {
  ErrorKind kind = ErrorKind::bad_request;
  if (status == http::Status::payload_too_large || status == http::Status::request_header_fields_too_large)
    kind = ErrorKind::too_large;
  else if (status == http::Status::request_timeout)
    kind = ErrorKind::timeout;
  auto res = reject(Failure(kind, message), ctx);
  res.result(status);
  auto body = json::parse(res.body()).as_object();
  body["status"] = static_cast<int>(status);
  res.body() = json::serialize(body);
  return res;
}

Response Api::reject(const core::Failure& failure, const http::RequestContext& ctx) const {
  std::string base = config_.facility.public_base_url.empty()
                         ? std::string(config_.server.tls ? "https" : "http") + "://" + config_.server.host + ":" +
                               std::to_string(config_.server.port) + root_
                         : config_.facility.public_base_url;
  return finish(problem_response(failure, base + "/problems", base + ctx.target), ctx);
}

asio::awaitable<Response> Api::handle(http::Request& request, http::RequestContext& ctx, std::string_view path,
                                      std::string_view query) {
  ctx.api = "iri";
  const Version version = path.starts_with("/api/v2") ? Version::v2 : Version::v1;
  const std::string origin_url = origin(request, ctx);
  Links links{origin_url + (version == Version::v2 ? "/api/v2" : "/api/v1"), version};
  const std::string instance = origin_url + std::string(path) + (query.empty() ? "" : "?" + std::string(query));
  const std::string problems = links.base + "/problems";
  try {
    auto rest = path.substr(7);
    auto match = routers_[static_cast<int>(version) - 1].find(request.method(), rest);
    if (!match.route) {
      if (!match.allowed.empty()) {
        auto allow = allow_header(match.allowed);
        ctx.route = "unknown";
        auto res = problem_response(Failure(ErrorKind::method_not_allowed, "method " + std::string(request.method_string()) +
                                                                               " is not allowed here; allowed: " + allow),
                                    problems, instance, request.version());
        res.set(http::bhttp::field::allow, allow);
        co_return finish(std::move(res), ctx);
      }
      ctx.route = "unknown";
      throw Failure(ErrorKind::not_found, "no such endpoint: " + std::string(request.method_string()) + " " +
                                              std::string(path.substr(0, 200)));
    }
    const Route& route = *match.route->handler;
    ctx.route = std::string(path.substr(0, 7)) + match.route->pattern;

    Call call{request, ctx, version, std::move(match.params), Query{}, std::nullopt, links, this};
    auto authorization = std::string(header(request, "Authorization"));
    if (route.token || route.admin || !authorization.empty()) {
      call.identity = co_await authenticator_.authenticate(std::move(authorization));
      ctx.user = call.identity->username;
      ctx.client_id = call.identity->client_id;
      if (rate_limits_) rate_limits_->charge_user(limits::Api::iri, ctx.user);
    }
    if (route.admin) {
      const auto& ops = config_.facility.operators;
      if (std::find(ops.begin(), ops.end(), call.identity->username) == ops.end())
        throw Failure(ErrorKind::forbidden, "only the facility's operators may do this");
    }
    call.query = parse_query(query, route.params);
    for (const auto& [name, value] : call.params)
      if (name.ends_with("_id") && name != "job_id" && !facility::is_uuid(value))  // job ids are the scheduler's
        throw core::validation_error("path", name, "expected a UUID, got \"" + value.substr(0, 64) + "\"");

    // A public read depends only on the model, the book's generation, the links and the target.
    const bool cacheable = request.method() == Verb::get && !route.token && !route.admin && !route.async_handler;
    std::shared_ptr<const CachedReply> cached;
    std::string key;
    if (cacheable) {
      const auto generation = book_.snapshot()->generation;
      key = links.base + std::string(path) + "?" + std::string(query);
      cached = cache_.find(key, generation);
      if (!cached) {
        Reply reply = route.handler(call);
        auto made = std::make_shared<CachedReply>();
        made->generation = generation;
        made->body = json::serialize(reply.body);
        made->last_modified = reply.last_modified;
        if (reply.last_modified > 0) made->last_modified_header = core::format_http_date(reply.last_modified);
        cached = made;
        if (reply.status == http::Status::ok) cache_.put(key, cached);
      }
    } else {
      Reply reply;
      if (route.async_handler)
        reply = co_await route.async_handler(call);
      else
        reply = route.handler(call);
      auto made = std::make_shared<CachedReply>();
      if (reply.status != http::Status::no_content)
        made->body = reply.text.empty() ? json::serialize(reply.body) : std::move(reply.text);
      made->last_modified = reply.last_modified;
      if (reply.last_modified > 0) made->last_modified_header = core::format_http_date(reply.last_modified);
      cached = made;
      if (reply.status != http::Status::ok || !reply.headers.empty()) {
        Response res{reply.status, request.version()};
        if (!made->body.empty()) {
          res.set(http::bhttp::field::content_type, "application/json");
          res.body() = made->body;
        }
        for (const auto& [name, value] : reply.headers) res.set(name, value);  // may set Content-Type
        co_return finish(std::move(res), ctx);
      }
    }
    const CachedReply& reply = *cached;

    Response res{http::Status::ok, request.version()};
    if (reply.last_modified > 0) {
      res.set(http::bhttp::field::last_modified, reply.last_modified_header);
      std::optional<core::Millis> since = call.query.time("modified_since");
      if (auto ims = core::parse_http_date(header(request, "If-Modified-Since")))
        since = since ? std::max(*since, *ims) : *ims;
      // Last-Modified has whole seconds: compare what the client could have seen.
      if (since && request.method() == Verb::get && reply.last_modified / 1000 * 1000 <= *since) {
        res.result(http::Status::not_modified);
        co_return finish(std::move(res), ctx);
      }
    }
    res.set(http::bhttp::field::content_type, "application/json");
    res.body() = reply.body;
    co_return finish(std::move(res), ctx);
  } catch (...) {
    std::exception_ptr error = std::current_exception();
    for (;;) {
      try {
        std::rethrow_exception(error);
      } catch (const asio::multiple_exceptions& many) {
        error = many.first_exception();
        continue;
      } catch (const Failure& failure) {
        if (failure.kind() == ErrorKind::internal)
          spdlog::error("request {} failed: {} ({})", ctx.request_id, failure.what(), failure.detail());
        else if (!failure.detail().empty())
          spdlog::info("request {} failed: {} ({})", ctx.request_id, failure.what(), failure.detail());
        co_return finish(problem_response(failure, problems, instance, request.version()), ctx);
      } catch (const std::exception& e) {
        spdlog::error("request {} failed unexpectedly: {}", ctx.request_id, e.what());
        Failure internal(ErrorKind::internal, "internal error (request " + ctx.request_id + ")");
        co_return finish(problem_response(internal, problems, instance, request.version()), ctx);
      }
    }
  }
}

}  // namespace portico::api::iri
