#include "api/firecrest/handler_util.hpp"

#include <boost/json/parse.hpp>
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

boost::json::object parse_body(const Call& c) {
  boost::system::error_code ec;
  auto body = boost::json::parse(c.request.body(), ec);
  if (ec || !body.is_object()) throw core::validation_error("body", "body", "must be a JSON object");
  return std::move(body.as_object());
}

// The first of `names` present (and not null) in the body, as a string.
std::optional<std::pair<std::string, std::string>> body_string(const boost::json::object& body,
                                                               std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const boost::json::value* v = body.if_contains(name);
    if (!v || v->is_null()) continue;
    if (!v->is_string()) throw core::validation_error("body", name, "must be a string");
    return std::make_pair(std::string(name), std::string(v->get_string()));
  }
  return std::nullopt;
}

bool body_flag(const boost::json::object& body, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const boost::json::value* v = body.if_contains(name);
    if (!v || v->is_null()) continue;
    if (v->is_bool()) return v->get_bool();
    if (v->is_string()) return v->get_string() == "true" || v->get_string() == "True" || v->get_string() == "1";
    throw core::validation_error("body", name, "must be a boolean");
  }
  return false;
}

// The confined path of a body field given under one of `names` (required; first name reported).
std::string body_path(const Call& c, const boost::json::object& body, std::initializer_list<const char*> names) {
  auto v = body_string(body, names);
  if (!v) throw core::validation_error("body", *names.begin(), "is required");
  return filesystem::confine(v->second, c.cluster->config().file_systems, "body", v->first);
}

std::string body_source_path(const Call& c, const boost::json::object& body) {
  return body_path(c, body, {"sourcePath", "source_path", "path"});
}

CompressBody parse_compress_body(const Call& c, const boost::json::object& body) {
  CompressBody out;
  out.source = body_source_path(c, body);
  out.target = body_path(c, body, {"targetPath", "target_path"});
  std::optional<std::string> pattern;
  if (auto p = body_string(body, {"matchPattern", "match_pattern"}); p && !p->second.empty()) {
    if (p->second.size() > filesystem::max_path_bytes) throw core::validation_error("body", p->first, "is too long");
    if (p->second.find('\0') != std::string::npos)
      throw core::validation_error("body", p->first, "must not hold a NUL byte");
    pattern = std::move(p->second);
  }
  bool dereference = body_flag(body, {"dereference"});
  auto compression_field = body_string(body, {"compression"});
  auto compression = filesystem::parse_compression(
      compression_field ? std::optional<std::string_view>(compression_field->second) : std::nullopt, "body",
      "compression");
  // Only when "/" itself is a configured file system: the archive needs a parent to root at.
  if (out.source == "/") throw core::validation_error("body", "sourcePath", "cannot archive the root directory");
  out.commands = filesystem::compress_commands(out.source, out.target, pattern, dereference, compression);
  return out;
}

ExtractBody parse_extract_body(const Call& c, const boost::json::object& body) {
  ExtractBody out;
  out.source = body_source_path(c, body);
  out.target = body_path(c, body, {"targetPath", "target_path"});
  auto compression_field = body_string(body, {"compression"});
  auto compression = filesystem::parse_compression(
      compression_field ? std::optional<std::string_view>(compression_field->second) : std::nullopt, "body",
      "compression");
  out.tar = filesystem::extract_command(out.source, out.target, compression);
  return out;
}

void refuse_file_system_root(const Call& c, const std::string& path) {
  if (filesystem::is_file_system_root(path, c.cluster->config().file_systems))
    throw core::validation_error("query", "path", "cannot remove a file system's root");
}

}  // namespace portico::api::firecrest
