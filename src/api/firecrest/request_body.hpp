#pragma once
// The JSON bodies of FirecREST's file operations and transfers, read as FirecREST clients send
// them (camelCase or snake_case). Pure: the file systems a path must lie in are an argument,
// so the route handlers (handler_util.hpp) and the fuzz targets read bodies the same way.
// Every problem is a validation Failure naming its field.

#include <boost/json/object.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "filesystem/archive.hpp"

namespace portico::api::firecrest {

// The body as a JSON object, else a validation failure.
boost::json::object parse_json_object(std::string_view body);

// The first of `names` present (and not null) in the body, as a string: its name and value.
std::optional<std::pair<std::string, std::string>> body_string(const boost::json::object& body,
                                                               std::initializer_list<const char*> names);
bool body_flag(const boost::json::object& body, std::initializer_list<const char*> names);
// The confined path of a body field given under one of `names` (required; first name reported).
std::string body_path(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body,
                      std::initializer_list<const char*> names);
// sourcePath, source_path or path.
std::string body_source_path(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body);

// The body of compress (ops and transfer): sourcePath, targetPath, matchPattern, dereference,
// compression, as the tar and find argv that do it.
struct CompressBody {
  std::string source;
  std::string target;
  filesystem::CompressCommands commands;
};
CompressBody parse_compress_body(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body);

// The body of extract (ops and transfer): sourcePath, targetPath, compression.
struct ExtractBody {
  std::string source;
  std::string target;
  std::vector<std::string> tar;
};
ExtractBody parse_extract_body(const std::vector<config::FileSystem>& file_systems, const boost::json::object& body);

// A transfer's optional "account".
std::optional<std::string> body_account(const boost::json::object& body);

// transferDirectives.fileSize (or file_size): a whole number of bytes, as a JSON number or a
// decimal string (the published example sends a string).
std::uint64_t transfer_file_size(const boost::json::object& directives);

}  // namespace portico::api::firecrest
