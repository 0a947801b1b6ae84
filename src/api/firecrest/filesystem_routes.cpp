#include <boost/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/firecrest/api.hpp"
#include "api/firecrest/handler_util.hpp"
#include "core/command.hpp"
#include "core/error.hpp"
#include "core/utf8.hpp"
#include "filesystem/ls_json.hpp"
#include "filesystem/operations.hpp"
#include "filesystem/paths.hpp"
#include "filesystem/validate.hpp"

// /filesystem/{system}/ops/...: ls, stat, checksum, head, tail, view, file, mkdir, symlink,
// chmod, chown, rm, compress, extract.
// Every path is confined before any command runs; the operations themselves are
// filesystem/operations.hpp's, shared with the IRI API: this file reads FirecREST's request shapes
// and writes its reply shapes.
namespace portico::api::firecrest {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Response;
using http::Verb;

namespace {

json::value entry_json(const filesystem::LsEntry& e) {
  json::object o;
  o["name"] = core::valid_utf8(e.name);
  o["type"] = std::string(1, e.type);
  if (e.link_target)
    o["linkTarget"] = core::valid_utf8(*e.link_target);
  else
    o["linkTarget"] = nullptr;
  o["user"] = core::valid_utf8(e.user);
  o["group"] = core::valid_utf8(e.group);
  o["permissions"] = e.permissions;
  o["lastModified"] = e.last_modified;
  o["size"] = e.size;
  return o;
}

// The caller's runner, refused at once when SSH is known to be down.
cluster::UserRunner user_runner(Call& c) {
  require_up(*c.cluster, status::ServiceType::ssh);
  return c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
}

}  // namespace

void add_filesystem_routes(Api& api) {
  api.add(Verb::get, "/filesystem/{system_name}/ops/ls", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            filesystem::LsOptions options;
            options.show_hidden = query_flag(c, {"showHidden", "show_hidden"});
            options.numeric_ids = query_flag(c, {"numericUid", "numeric_uid"});
            options.recursive = query_flag(c, {"recursive"});
            options.dereference = query_flag(c, {"dereference"});
            auto runner = user_runner(c);
            auto entries = co_await filesystem::ls(runner, path, options);
            // Written straight into the body, byte for byte what serializing entry_json() of each
            // entry gives: a json::value tree per entry was most of the CPU of a big listing.
            Response res{http::Status::ok, 11};
            res.set(http::bhttp::field::content_type, "application/json");
            std::string& body = res.body();
            body.reserve(entries.size() * 192 + 64);
            body += "{\"output\":[";
            for (std::size_t i = 0; i < entries.size(); ++i) {
              if (i) body += ',';
              filesystem::append_entry_json(body, entries[i], {"linkTarget", "lastModified"});
            }
            body += "]}";
            co_return res;
          }});

  api.add(Verb::get, "/filesystem/{system_name}/ops/stat", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            bool dereference = query_flag(c, {"dereference"});
            auto runner = user_runner(c);
            auto s = co_await filesystem::stat(runner, path, dereference);
            json::object o;
            o["mode"] = s.mode;
            o["ino"] = s.ino;
            o["dev"] = s.dev;
            o["nlink"] = s.nlink;
            o["uid"] = s.uid;
            o["gid"] = s.gid;
            o["size"] = s.size;
            o["atime"] = s.atime;
            o["mtime"] = s.mtime;
            o["ctime"] = s.ctime;
            co_return json_response(http::Status::ok, json::object{{"output", std::move(o)}});
          }});

  api.add(Verb::get, "/filesystem/{system_name}/ops/checksum", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            auto runner = user_runner(c);
            auto hash = co_await filesystem::checksum(runner, path);
            co_return json_response(http::Status::ok,
                                    json::object{{"output", json::object{{"algorithm", "SHA256"}, {"checksum", hash}}}});
          }});

  for (bool head : {true, false}) {
    std::string pattern = head ? "/filesystem/{system_name}/ops/head" : "/filesystem/{system_name}/ops/tail";
    api.add(Verb::get, pattern, {[head](Call& c) -> asio::awaitable<Response> {
              auto path = query_path(c);
              auto bytes = query_param(c.query, "bytes");
              auto lines = query_param(c.query, "lines");
              std::optional<std::string_view> bytes_v, lines_v;
              if (bytes && !bytes->empty()) bytes_v = *bytes;
              if (lines && !lines->empty()) lines_v = *lines;
              filesystem::HeadTailRequest request;
              request.head = head;
              request.count = filesystem::parse_head_tail(bytes_v, lines_v, "query", "bytes", "lines");
              request.skip = head ? query_flag(c, {"skipTrailing", "skip_trailing"})
                                  : query_flag(c, {"skipHeading", "skip_heading"});
              // The cap applies to what is returned, never to the file's size.
              const auto max_content = static_cast<std::int64_t>(c.cluster->config().ssh.max_output_bytes);
              auto runner = user_runner(c);
              auto part = co_await filesystem::head_tail(runner, path, request, max_content);
              bool in_bytes = request.count.unit == filesystem::HeadTailCount::Unit::bytes;
              // startPosition/endPosition: the byte range [start, end) of the file that content holds.
              json::object content{{"content", core::valid_utf8(part.content)},
                                   {"contentType", in_bytes ? "bytes" : "lines"},
                                   {"startPosition", part.start},
                                   {"endPosition", part.end}};
              co_return json_response(http::Status::ok, json::object{{"output", std::move(content)}});
            }});
  }

  api.add(Verb::get, "/filesystem/{system_name}/ops/view", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            auto offset = query_param(c.query, "offset");
            auto size = query_param(c.query, "size");
            std::optional<std::string_view> offset_v, size_v;
            if (offset && !offset->empty()) offset_v = *offset;
            if (size && !size->empty()) size_v = *size;
            auto range =
                filesystem::parse_view_range(offset_v, size_v, filesystem::kMaxViewBytes, "query", "offset", "size");
            auto runner = user_runner(c);
            auto out = co_await filesystem::view(runner, path, range);
            co_return json_response(http::Status::ok, json::object{{"output", core::valid_utf8(out)}});
          }});

  api.add(Verb::get, "/filesystem/{system_name}/ops/file", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            auto runner = user_runner(c);
            auto out = co_await filesystem::file_type(runner, path);
            co_return json_response(http::Status::ok, json::object{{"output", core::valid_utf8(out)}});
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/mkdir", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto path = body_source_path(c, body);
            bool parent = body_flag(body, {"parent", "p"});
            auto runner = user_runner(c);
            auto entry = co_await filesystem::mkdir(runner, path, parent);
            co_return json_response(http::Status::created, json::object{{"output", entry_json(entry)}});
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/symlink", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto target = body_source_path(c, body);
            auto link = body_path(c, body, {"linkPath", "link_path"});
            auto runner = user_runner(c);
            auto entry = co_await filesystem::symlink(runner, target, link);
            co_return json_response(http::Status::created, json::object{{"output", entry_json(entry)}});
          }});

  api.add(Verb::put, "/filesystem/{system_name}/ops/chmod", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto path = body_source_path(c, body);
            auto mode_field = body_string(body, {"mode"});
            if (!mode_field) throw core::validation_error("body", "mode", "is required");
            auto mode = filesystem::validate_chmod_mode(mode_field->second, "body", "mode");
            auto runner = user_runner(c);
            auto entry = co_await filesystem::chmod(runner, path, mode);
            co_return json_response(http::Status::ok, json::object{{"output", entry_json(entry)}});
          }});

  api.add(Verb::put, "/filesystem/{system_name}/ops/chown", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto path = body_source_path(c, body);
            auto owner = body_string(body, {"owner"});
            auto group = body_string(body, {"group"});
            auto spec = filesystem::chown_spec(owner ? owner->second : "", group ? group->second : "", "body", "owner",
                                               "group");
            auto runner = user_runner(c);
            auto entry = co_await filesystem::chown(runner, path, spec);
            co_return json_response(http::Status::ok, json::object{{"output", entry_json(entry)}});
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/compress", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto commands = parse_compress_body(c, body).commands;
            auto runner = user_runner(c);
            co_await filesystem::compress(runner, std::move(commands));
            co_return empty_response(http::Status::no_content);
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/extract", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto extract = parse_extract_body(c, body);
            auto runner = user_runner(c);
            co_await filesystem::extract(runner, std::move(extract.tar));
            co_return empty_response(http::Status::no_content);
          }});

  api.add(Verb::delete_, "/filesystem/{system_name}/ops/rm", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            refuse_file_system_root(c, path);
            auto runner = user_runner(c);
            co_await filesystem::rm(runner, path);
            co_return empty_response(http::Status::no_content);
          }});
}

}  // namespace portico::api::firecrest
