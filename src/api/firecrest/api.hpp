#pragma once
// The FirecREST v2 API: routes, authentication and authorization of each call, and thin
// handlers over the cores. Every answer, errors included, is in the FirecREST format and
// carries F7T-AppVersion; authenticated ones also F7T-AuthUsername.
// Thread-safety: handle() runs concurrently on the server's threads; the Api is immutable
// after construction.

#include <boost/asio/awaitable.hpp>

#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "auth/authenticator.hpp"
#include "cluster/cluster.hpp"
#include "http/query.hpp"
#include "http/router.hpp"
#include "http/types.hpp"
#include "limits/rate_limits.hpp"
#include "observe/metrics.hpp"
#include "transfer/transfers.hpp"

namespace portico::api::firecrest {

class Api;

// What a handler gets: the request, the caller, and the cluster named in the path.
struct Call {
  http::Request& request;
  http::RequestContext& ctx;
  http::Params params;
  std::string_view query;               // the raw query string, without '?'
  std::optional<auth::Identity> identity;
  cluster::Cluster* cluster = nullptr;  // set for routes with {system_name}
  Api* api = nullptr;
};

struct Route {
  std::function<boost::asio::awaitable<http::Response>(Call&)> handler;
  bool authenticated = true;
  // The handler reads the request body itself as it arrives (RequestContext::body): uploads.
  bool streams_body = false;
};

// The headers every FirecREST answer carries (F7T-AppVersion, F7T-Timestamp, F7T-AuthUsername),
// for handlers that send their response themselves (RequestContext::writer).
void set_firecrest_headers(http::bhttp::response_header<>& header, const http::RequestContext& ctx);

class Api {
 public:
  Api(const config::Config& config, const auth::Authenticator& authenticator, cluster::Clusters& clusters,
      observe::Metrics& metrics, transfer::Transfers& transfers);

  // Registers a route; during construction only (the add_*_routes functions below).
  void add(http::Verb verb, std::string pattern, Route route);
  cluster::Clusters& clusters() { return clusters_; }
  transfer::Transfers& transfers() { return transfers_; }
  const config::Config& config() const { return config_; }
  // One entry of GET /status/systems, kept per health round.
  std::string system_entry(const cluster::Cluster& cluster) const;

  // The routes served, for the generated OpenAPI document.
  const http::Router<Route>& router() const { return router_; }

  // Whether the route of this request streams its body (path: without the API root).
  bool streams_body(http::Verb verb, std::string_view path) const;

  // path: the request path with the API root removed.
  boost::asio::awaitable<http::Response> handle(http::Request& request, http::RequestContext& ctx, std::string_view path,
                                                std::string_view query);

  // The server's own refusals (malformed, too large) in this API's format.
  http::Response reject(http::Status status, const std::string& message, const http::RequestContext& ctx) const;
  // A refusal before routing (the per-address rate limit) in this API's format.
  http::Response reject(const core::Failure& failure, const http::RequestContext& ctx) const;

  // The per-user rate limits, charged once the token is verified; before serving (none: no limits).
  void set_rate_limits(limits::RateLimits* limits) { rate_limits_ = limits; }

 private:
  http::Response finish(http::Response response, const http::RequestContext& ctx) const;
  http::Response failure_response(std::exception_ptr error, const http::RequestContext& ctx) const;

  // GET /status/systems changes only when a health round ends: its JSON is kept per cluster,
  // keyed by the health snapshot it was made from.
  struct SystemEntry {
    std::shared_ptr<const status::ClusterHealth> health;
    std::string version;
    std::string json;
  };
  mutable std::mutex systems_mutex_;
  mutable std::map<std::string, SystemEntry> systems_;

  const config::Config& config_;
  const auth::Authenticator& authenticator_;
  cluster::Clusters& clusters_;
  observe::Metrics& metrics_;
  transfer::Transfers& transfers_;
  limits::RateLimits* rate_limits_ = nullptr;
  http::Router<Route> router_;
};

// The routes of each part of the API, each in its own file.
void add_status_routes(Api& api);    // status_routes.cpp
void add_compute_routes(Api& api);   // compute_routes.cpp
void add_filesystem_routes(Api& api);  // filesystem_routes.cpp
void add_stream_routes(Api& api);      // stream_routes.cpp: download, upload
void add_transfer_routes(Api& api);    // transfer_routes.cpp: transfer jobs and S3 staging

using http::query_param;

}  // namespace portico::api::firecrest
