#pragma once
// The DOE IRI Facility API, versions 1 and 2, from one set of handlers: the version is a
// mapping at the edge (models.hpp). Routes are data (operationId, parameters, response schema),
// so the same table routes requests, validates their query strings and writes the OpenAPI
// document. Public operations need no token, but a token that is sent must be valid; admin
// operations need a configured operator. Replies carry Last-Modified, and If-Modified-Since or
// modified_since (the later) give 304. Every error is a problem (errors.hpp).
// Thread-safety: handle() runs concurrently on the server's threads; the Api is immutable
// after construction.

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <functional>
#include <optional>
#include <string>

#include "api/iri/models.hpp"
#include "api/iri/params.hpp"
#include "api/iri/response_cache.hpp"
#include "auth/authenticator.hpp"
#include "cluster/cluster.hpp"
#include "config/config.hpp"
#include "facility/model.hpp"
#include "facility/status_book.hpp"
#include "http/router.hpp"
#include "http/types.hpp"
#include "limits/rate_limits.hpp"
#include "store/store.hpp"
#include "tasks/manager.hpp"

namespace portico::transfer {
class Transfers;
}

namespace portico::api::iri {

class Api;

struct Call {
  http::Request& request;
  http::RequestContext& ctx;
  Version version;
  http::Params params;  // path parameters
  Query query;
  std::optional<auth::Identity> identity;
  Links links;
  Api* api = nullptr;
};

struct Reply {
  boost::json::value body;
  core::Millis last_modified = 0;  // 0: no Last-Modified, no 304
  http::Status status = http::Status::ok;
  std::vector<std::pair<std::string, std::string>> headers = {};  // extra reply headers
  std::string text = {};  // when not empty, the body already serialized (a big stored result), not `body`
};

struct Route {
  std::string operation_id;  // the official one; "" for Portico's own operations (not documented)
  std::string tag;
  std::string summary;
  std::vector<Param> params;    // query parameters
  std::string response_schema;  // component name of the success body
  bool list = false;            // the body is an array of response_schema
  bool token = false;           // needs a valid token
  bool admin = false;           // needs a token of a configured operator
  std::string request_schema;   // component name of the JSON body, "" for none
  std::function<Reply(Call&)> handler;
  // Instead of handler, for operations that wait on a cluster (never cached).
  std::function<boost::asio::awaitable<Reply>(Call&)> async_handler = {};
  bool streams_body = false;  // the handler reads the request body from ctx.body as it arrives (upload)
  int success_status = 200;   // as documented (201 for some submissions)
  std::string request_content_type = "application/json";
};

// Which versions serve a route.
enum class Versions { v1 = 1, v2 = 2, both = 3 };

class Api {
 public:
  Api(const config::Config& config, const auth::Authenticator& authenticator, const facility::Model& model,
      facility::StatusBook& book, cluster::Clusters* clusters = nullptr, store::Store* store = nullptr);

  void add(Versions versions, http::Verb verb, std::string pattern, Route route);

  // True for the paths this API answers: /api/v1, /api/v2 and below (path: without the API root).
  static bool serves(std::string_view path);
  // True for the routes whose handler streams the request body (the server then does not read it first).
  bool streams_body(http::Verb verb, std::string_view path) const;

  boost::asio::awaitable<http::Response> handle(http::Request& request, http::RequestContext& ctx,
                                                std::string_view path, std::string_view query);

  // The server's own refusals (too large, malformed) as problems.
  http::Response reject(http::Status status, const std::string& message, const http::RequestContext& ctx) const;
  // A refusal before routing (the per-address rate limit) as a problem.
  http::Response reject(const core::Failure& failure, const http::RequestContext& ctx) const;
  // The per-user rate limits, charged once a token is verified; before serving (none: no limits).
  void set_rate_limits(limits::RateLimits* limits) { rate_limits_ = limits; }

  // The OpenAPI 3.1 document of one version, from the route table (openapi.cpp); `server` is
  // the absolute base the document's paths are under ("" for relative).
  boost::json::object openapi(Version version, const std::string& server) const;

  const config::Config& config() const { return config_; }
  const facility::Model& model() const { return model_; }
  facility::StatusBook& book() { return book_; }
  // The clusters and the store of the authenticated operations (null in a documents-only Api).
  cluster::Clusters* clusters() const { return clusters_; }
  store::Store* store() const { return store_; }
  // The task manager of the filesystem operations (null in a documents-only Api: they answer 501).
  tasks::Manager* tasks() const { return tasks_; }
  void set_tasks(tasks::Manager* tasks) { tasks_ = tasks; }  // before serving
  // Where long filesystem tasks go as jobs; null: they run as commands however long they take.
  transfer::Transfers* transfers() const { return transfers_; }
  void set_transfers(transfer::Transfers* transfers) { transfers_ = transfers; }  // before serving

  struct Entry {
    Versions versions;
    http::Verb verb;
    std::string pattern;
    Route route;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  // The absolute URL of the request's origin and prefix: the configured public base URL, or the
  // X-Forwarded-* headers of a trusted proxy, or the Host header.
  std::string origin(const http::Request& request, const http::RequestContext& ctx) const;
  http::Response finish(http::Response response, const http::RequestContext& ctx) const;

  const config::Config& config_;
  const auth::Authenticator& authenticator_;
  const facility::Model& model_;
  facility::StatusBook& book_;
  cluster::Clusters* clusters_ = nullptr;
  store::Store* store_ = nullptr;
  tasks::Manager* tasks_ = nullptr;
  limits::RateLimits* rate_limits_ = nullptr;
  transfer::Transfers* transfers_ = nullptr;
  std::string root_;  // the configured API root without its trailing '/'
  std::array<http::Router<const Route*>, 2> routers_;
  std::vector<Entry> entries_;
  std::vector<std::unique_ptr<Route>> routes_;
  ResponseCache cache_;  // public GET replies (their content depends only on the book's generation)
};

// The routes of each part, each in its own file.
void add_facility_routes(Api& api);  // facility_routes.cpp: facility, sites
void add_status_routes(Api& api);    // status_routes.cpp: resources, incidents, events
void add_account_routes(Api& api);   // account_routes.cpp: capabilities; compute and filesystem resources
void add_project_routes(Api& api);   // project_routes.cpp: the caller's projects and allocations
void add_storage_routes(Api& api);   // storage_routes.cpp: v2 storage locations and access endpoints
void add_admin_routes(Api& api);     // admin_routes.cpp: planned incidents
void add_compute_routes(Api& api);   // compute_routes.cpp: PSI/J jobs
void add_filesystem_routes(Api& api);  // filesystem_routes.cpp: filesystem operations as tasks; the tasks
void add_meta_routes(Api& api);
// The components of the filesystem and task operations' bodies (filesystem_routes.cpp), for openapi.cpp.
void add_task_schemas(boost::json::object& schemas, Version version);      // openapi.cpp: discovery and the OpenAPI documents

}  // namespace portico::api::iri
