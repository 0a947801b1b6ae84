#include "api/firecrest/handler_util.hpp"

#include <boost/json/serialize.hpp>

#include "filesystem/paths.hpp"

#include "core/error.hpp"

namespace portico::api::firecrest {

http::Response json_response(http::Status status, const boost::json::value& body) {
  http::Response res{status, 11};
  res.set(http::bhttp::field::content_type, "application/json");
  res.body() = boost::json::serialize(body);
  return res;
}

http::Response empty_response(http::Status status) { return http::Response{status, 11}; }

void require_up(cluster::Cluster& cluster, status::ServiceType type) {
  if (!cluster.health().is_down(type)) return;
  std::string message;
  for (const auto& s : cluster.health().snapshot()->services)
    if (s.type == type && !s.healthy) message = s.message;
  throw core::Failure(core::ErrorKind::unavailable, std::string("the ") + status::to_string(type) + " service of system '" +
                                                        cluster.name() + "' is down: " + message);
}

bool truthy(const std::optional<std::string>& v) { return v && (*v == "true" || *v == "True" || *v == "1"); }

// The first of `names` present in the query: its name and value.
std::optional<std::pair<std::string, std::string>> query_any(const Call& c, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (auto v = query_param(c.query, name)) return std::make_pair(std::string(name), std::move(*v));
  return std::nullopt;
}

bool query_flag(const Call& c, std::initializer_list<const char*> names) {
  auto v = query_any(c, names);
  return v && truthy(v->second);
}

// The confined path of the query's `path` parameter (required).
std::string query_path(const Call& c) {
  auto v = query_any(c, {"path"});
  if (!v) throw core::validation_error("query", "path", "is required");
  return filesystem::confine(v->second, c.cluster->config().file_systems, "query", v->first);
}

boost::json::object parse_body(const Call& c) { return parse_json_object(c.request.body()); }

std::string body_path(const Call& c, const boost::json::object& body, std::initializer_list<const char*> names) {
  return body_path(c.cluster->config().file_systems, body, names);
}

std::string body_source_path(const Call& c, const boost::json::object& body) {
  return body_source_path(c.cluster->config().file_systems, body);
}

CompressBody parse_compress_body(const Call& c, const boost::json::object& body) {
  return parse_compress_body(c.cluster->config().file_systems, body);
}

ExtractBody parse_extract_body(const Call& c, const boost::json::object& body) {
  return parse_extract_body(c.cluster->config().file_systems, body);
}

void refuse_file_system_root(const Call& c, const std::string& path) {
  if (filesystem::is_file_system_root(path, c.cluster->config().file_systems))
    throw core::validation_error("query", "path", "cannot remove a file system's root");
}

}  // namespace portico::api::firecrest
