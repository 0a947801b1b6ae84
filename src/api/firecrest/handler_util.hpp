#pragma once
// Small helpers shared by the FirecREST route handlers.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "api/firecrest/api.hpp"
#include "api/firecrest/request_body.hpp"

#include "cluster/cluster.hpp"
#include "http/types.hpp"
#include "status/health.hpp"

namespace portico::api::firecrest {

// A JSON reply with the given status.
http::Response json_response(http::Status status, const boost::json::value& body);

// An empty reply (204, or another status without a body).
http::Response empty_response(http::Status status);

// Dependent endpoints answer 503 at once when the health checker already knows the backend is
// down, instead of each request waiting for its own timeout.
void require_up(cluster::Cluster& cluster, status::ServiceType type);

// "true", "True" or "1", as FirecREST's clients send flags.
bool truthy(const std::optional<std::string>& v);

// The first of `names` present in the query: its name and value.
std::optional<std::pair<std::string, std::string>> query_any(const Call& c, std::initializer_list<const char*> names);
bool query_flag(const Call& c, std::initializer_list<const char*> names);
// The confined path of the query's `path` parameter (required).
std::string query_path(const Call& c);

// The body as a JSON object, else a validation failure.
boost::json::object parse_body(const Call& c);
// request_body.hpp's readers of body paths, confined to the call's cluster.
std::string body_path(const Call& c, const boost::json::object& body, std::initializer_list<const char*> names);
std::string body_source_path(const Call& c, const boost::json::object& body);
CompressBody parse_compress_body(const Call& c, const boost::json::object& body);
ExtractBody parse_extract_body(const Call& c, const boost::json::object& body);

// A configured file system's root is never removed (query path).
void refuse_file_system_root(const Call& c, const std::string& path);

}  // namespace portico::api::firecrest
