#include "api/firecrest/request_body.hpp"

#include <boost/json/parse.hpp>

#include <charconv>

#include "core/error.hpp"
#include "filesystem/paths.hpp"

namespace portico::api::firecrest {

boost::json::object parse_json_object(std::string_view body) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) throw core::validation_error("body", "body", "must be a JSON object");
  return std::move(value.as_object());
}

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

std::string body_path(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body,
                      std::initializer_list<const char*> names) {
  auto v = body_string(body, names);
  if (!v) throw core::validation_error("body", *names.begin(), "is required");
  return filesystem::confine(v->second, file_systems, "body", v->first);
}

std::string body_source_path(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body) {
  return body_path(file_systems, body, {"sourcePath", "source_path", "path"});
}

CompressBody parse_compress_body(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body) {
  CompressBody out;
  out.source = body_source_path(file_systems, body);
  out.target = body_path(file_systems, body, {"targetPath", "target_path"});
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

ExtractBody parse_extract_body(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body) {
  ExtractBody out;
  out.source = body_source_path(file_systems, body);
  out.target = body_path(file_systems, body, {"targetPath", "target_path"});
  auto compression_field = body_string(body, {"compression"});
  auto compression = filesystem::parse_compression(
      compression_field ? std::optional<std::string_view>(compression_field->second) : std::nullopt, "body",
      "compression");
  out.tar = filesystem::extract_command(out.source, out.target, compression);
  return out;
}

std::optional<std::string> body_account(const boost::json::object& body) {
  auto v = body_string(body, {"account"});
  if (!v) return std::nullopt;
  return std::move(v->second);
}

std::uint64_t transfer_file_size(const boost::json::object& directives) {
  for (const char* name : {"fileSize", "file_size"}) {
    const boost::json::value* v = directives.if_contains(name);
    if (!v || v->is_null()) continue;
    std::string field = std::string("transferDirectives.") + name;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64()) {
      if (v->get_int64() < 0) throw core::validation_error("body", field, "must not be negative");
      return static_cast<std::uint64_t>(v->get_int64());
    }
    if (v->is_string()) {
      std::string_view text = v->get_string();
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return n;
    }
    throw core::validation_error("body", field, "must be a whole number of bytes");
  }
  throw core::validation_error("body", "transferDirectives.fileSize", "is required: the size of the file in bytes");
}

}  // namespace portico::api::firecrest
