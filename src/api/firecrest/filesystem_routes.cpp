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
#include "core/shell.hpp"
#include "filesystem/archive.hpp"
#include "filesystem/errors.hpp"
#include "filesystem/head_tail.hpp"
#include "filesystem/ls_parse.hpp"
#include "filesystem/paths.hpp"
#include "filesystem/stat_parse.hpp"
#include "filesystem/validate.hpp"

// /filesystem/{system}/ops/...: ls, stat, checksum, head, tail, view, file, mkdir, symlink,
// chmod, chown, rm, compress, extract.
// Every path is confined before any command runs; every command is an argv
// run as the caller under LC_ALL=C (filesystem/errors.cpp matches English messages), with "--"
// before path operands.
namespace portico::api::firecrest {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Response;
using http::Verb;

namespace {

// The most `view` returns at once: the client switches to the transfer API at 1 MiB.
constexpr std::int64_t max_view_bytes = 1024 * 1024;

std::vector<std::string> with_c_locale(std::initializer_list<std::string> argv) {
  std::vector<std::string> out{"env", "LC_ALL=C"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// JSON strings must be UTF-8, and file names and contents need not be: each byte sequence that is
// not well-formed UTF-8 becomes U+FFFD (as Python's errors="replace" does), so the reply stays
// valid JSON. Valid UTF-8 passes through unchanged.
//
// The bytes at in[i...] (i < in.size()): {length, true} for a well-formed sequence, or
// {length, false} for the maximal broken prefix that one U+FFFD replaces (Unicode's "maximal
// subpart" practice, as Python does).
std::pair<std::size_t, bool> utf8_sequence(std::string_view in, std::size_t i) {
  auto b = static_cast<unsigned char>(in[i]);
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b < 0x80) return {1, true};
  if (b >= 0xC2 && b <= 0xDF) len = 2;
  else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return {1, false};
  }
  std::size_t good = 1;  // the lead byte and the continuation bytes that fit
  for (std::size_t k = 1; good == k && k < len && i + k < in.size(); ++k) {
    auto cb = static_cast<unsigned char>(in[i + k]);
    if (k == 1 ? (cb >= lo && cb <= hi) : (cb >= 0x80 && cb <= 0xBF)) ++good;
  }
  return {good, good == len};
}

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    auto [len, ok] = utf8_sequence(in, i);
    out.append(ok ? in.substr(i, len) : replacement);
    i += len;
  }
  return out;
}

// Appends `in` to `out` as a JSON string, made valid UTF-8 as valid_utf8() does and escaped as
// boost::json::serialize escapes: the same bytes as serializing a json::string of valid_utf8(in),
// without building one (the ls reply of a big directory is built this way).
void append_json_string(std::string& out, std::string_view in) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < in.size()) {
    // A run of plain printable ASCII is copied at once.
    std::size_t run = i;
    while (run < in.size()) {
      auto c = static_cast<unsigned char>(in[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(in.substr(i, run - i));
    i = run;
    if (i == in.size()) break;
    auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80) {
      auto [len, ok] = utf8_sequence(in, i);
      out.append(ok ? in.substr(i, len) : replacement);
      i += len;
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
  }
  out += '"';
}

json::value entry_json(const filesystem::LsEntry& e) {
  json::object o;
  o["name"] = valid_utf8(e.name);
  o["type"] = std::string(1, e.type);
  if (e.link_target)
    o["linkTarget"] = valid_utf8(*e.link_target);
  else
    o["linkTarget"] = nullptr;
  o["user"] = valid_utf8(e.user);
  o["group"] = valid_utf8(e.group);
  o["permissions"] = e.permissions;
  o["lastModified"] = e.last_modified;
  o["size"] = e.size;
  return o;
}

// Runs argv as the caller; returns stdout, or throws the failure its outcome means.
// errors_on_stdout: the tool reports its failures on stdout (file -E), so they are read there.
asio::awaitable<std::string> run_checked(Call& c, std::vector<std::string> argv, std::string_view what,
                                         bool errors_on_stdout = false) {
  require_up(*c.cluster, status::ServiceType::ssh);
  auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
  core::Command cmd;
  cmd.argv = std::move(argv);
  auto result = co_await runner.run(std::move(cmd));
  if (errors_on_stdout && !result.ok() && result.err.empty()) result.err = result.out;
  std::string out = filesystem::successful_output(result, what);
  co_return out;
}

// Runs `action` and, if it succeeded, `ls -ld path` in the same remote command: the reply of
// mkdir, symlink, chmod and chown is the ls entry of what they made or changed.
asio::awaitable<json::value> act_and_describe(Call& c, const std::vector<std::string>& action, std::string_view what,
                                              const std::string& path) {
  filesystem::LsOptions itself;
  itself.itself = true;
  auto out = co_await run_checked(c, core::and_then(action, filesystem::ls_command(path, itself)), what);
  auto entries = filesystem::parse_ls(out);
  if (entries.size() != 1) throw core::Failure(core::ErrorKind::internal, "unexpected ls output for one path");
  co_return entry_json(entries.front());
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
            auto argv = filesystem::ls_command(path, options);
            auto out = co_await run_checked(c, std::move(argv), "ls");
            auto entries = filesystem::parse_ls(out);
            // Written straight into the body, byte for byte what serializing entry_json() of each
            // entry gives: a json::value tree per entry was most of the CPU of a big listing.
            Response res{http::Status::ok, 11};
            res.set(http::bhttp::field::content_type, "application/json");
            std::string& body = res.body();
            body.reserve(out.size() * 2 + 64);
            body += "{\"output\":[";
            for (std::size_t i = 0; i < entries.size(); ++i) {
              const auto& e = entries[i];
              if (i) body += ',';
              body += "{\"name\":";
              append_json_string(body, e.directory.empty() ? e.name : filesystem::child_path(e.directory, e.name));
              body += ",\"type\":";
              append_json_string(body, std::string_view(&e.type, 1));
              body += ",\"linkTarget\":";
              if (e.link_target) append_json_string(body, *e.link_target);
              else body += "null";
              body += ",\"user\":";
              append_json_string(body, e.user);
              body += ",\"group\":";
              append_json_string(body, e.group);
              body += ",\"permissions\":";
              append_json_string(body, e.permissions);
              body += ",\"lastModified\":";
              append_json_string(body, e.last_modified);
              body += ",\"size\":";
              append_json_string(body, e.size);
              body += '}';
            }
            body += "]}";
            co_return res;
          }});

  api.add(Verb::get, "/filesystem/{system_name}/ops/stat", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            bool dereference = query_flag(c, {"dereference"});
            auto argv = filesystem::stat_command(path, dereference);
            auto out = co_await run_checked(c, std::move(argv), "stat");
            auto s = filesystem::parse_stat(out);
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
            auto argv = with_c_locale({"sha256sum", "--", path});
            auto out = co_await run_checked(c, std::move(argv), "sha256sum");
            // "<hash>  <name>", or "\<hash>  <escaped name>" when the name needs escaping.
            std::string_view text = out;
            if (!text.empty() && text.front() == '\\') text.remove_prefix(1);
            auto hash = std::string(text.substr(0, text.find(' ')));
            bool ok = hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](unsigned char ch) {
                        return std::isxdigit(ch) != 0;
                      });
            if (!ok) throw core::Failure(core::ErrorKind::internal, "unexpected sha256sum output");
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
              require_up(*c.cluster, status::ServiceType::ssh);
              auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
              core::Command cmd;
              cmd.argv = filesystem::head_tail_command(path, request, max_content);
              cmd.max_output = static_cast<std::size_t>(max_content) + 64;  // + tail's size line
              auto result = co_await runner.run(std::move(cmd));
              // Cut at the cap: the exit status is then SIGPIPE's, so look at the length first.
              bool cut = result.out_truncated || filesystem::head_tail_cut(result.out, request, max_content);
              if (!cut && !result.ok()) throw filesystem::command_failure(result, head ? "head" : "tail");
              auto part = filesystem::parse_head_tail_output(std::move(result.out), request, max_content);
              bool in_bytes = request.count.unit == filesystem::HeadTailCount::Unit::bytes;
              // startPosition/endPosition: the byte range [start, end) of the file that content holds.
              json::object content{{"content", valid_utf8(part.content)},
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
            auto range = filesystem::parse_view_range(offset_v, size_v, max_view_bytes, "query", "offset", "size");
            // dd reads exactly [offset, offset + size) in bytes; "if=" + an absolute path is one word.
            auto argv = with_c_locale({"dd", "if=" + path, "iflag=skip_bytes,count_bytes,fullblock", "bs=65536",
                                       "skip=" + std::to_string(range.offset), "count=" + std::to_string(range.size),
                                       "status=none"});
            auto out = co_await run_checked(c, std::move(argv), "dd");
            co_return json_response(http::Status::ok, json::object{{"output", valid_utf8(out)}});
          }});

  api.add(Verb::get, "/filesystem/{system_name}/ops/file", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            // -E: a missing or unreadable file is an error (exit status), not a "cannot open" answer.
            auto argv = with_c_locale({"file", "-E", "-b", "--", path});
            auto out = co_await run_checked(c, std::move(argv), "file", true);
            while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
            co_return json_response(http::Status::ok, json::object{{"output", valid_utf8(out)}});
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/mkdir", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto path = body_source_path(c, body);
            bool parent = body_flag(body, {"parent", "p"});
            auto argv = parent ? with_c_locale({"mkdir", "-p", "--", path}) : with_c_locale({"mkdir", "--", path});
            auto entry = co_await act_and_describe(c, argv, "mkdir", path);
            co_return json_response(http::Status::created, json::object{{"output", std::move(entry)}});
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/symlink", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto target = body_source_path(c, body);
            auto link = body_path(c, body, {"linkPath", "link_path"});
            auto argv = with_c_locale({"ln", "-s", "--", target, link});
            auto entry = co_await act_and_describe(c, argv, "ln", link);
            co_return json_response(http::Status::created, json::object{{"output", std::move(entry)}});
          }});

  api.add(Verb::put, "/filesystem/{system_name}/ops/chmod", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto path = body_source_path(c, body);
            auto mode_field = body_string(body, {"mode"});
            if (!mode_field) throw core::validation_error("body", "mode", "is required");
            auto mode = filesystem::validate_chmod_mode(mode_field->second, "body", "mode");
            auto argv = with_c_locale({"chmod", "--", mode, path});
            auto entry = co_await act_and_describe(c, argv, "chmod", path);
            co_return json_response(http::Status::ok, json::object{{"output", std::move(entry)}});
          }});

  api.add(Verb::put, "/filesystem/{system_name}/ops/chown", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto path = body_source_path(c, body);
            auto owner = body_string(body, {"owner"});
            auto group = body_string(body, {"group"});
            auto spec = filesystem::chown_spec(owner ? owner->second : "", group ? group->second : "", "body", "owner",
                                               "group");
            auto argv = with_c_locale({"chown", "--", spec, path});
            auto entry = co_await act_and_describe(c, argv, "chown", path);
            co_return json_response(http::Status::ok, json::object{{"output", std::move(entry)}});
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/compress", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto commands = parse_compress_body(c, body).commands;
            require_up(*c.cluster, status::ServiceType::ssh);
            auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
            core::Command tar;
            tar.argv = std::move(commands.tar);
            if (commands.find) {
              core::Command find;
              find.argv = std::move(*commands.find);
              auto found = co_await runner.run(std::move(find));
              if (!found.ok()) throw filesystem::archive_failure(found, "find");
              if (found.out_truncated)
                throw core::Failure(core::ErrorKind::too_large, "too many files match; use the transfer API");
              tar.stdin_data = std::move(found.out);
            }
            auto result = co_await runner.run(std::move(tar));
            if (!result.ok()) throw filesystem::archive_failure(result, "tar");
            co_return empty_response(http::Status::no_content);
          }});

  api.add(Verb::post, "/filesystem/{system_name}/ops/extract", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto extract = parse_extract_body(c, body);
            require_up(*c.cluster, status::ServiceType::ssh);
            auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
            core::Command tar;
            tar.argv = std::move(extract.tar);
            auto result = co_await runner.run(std::move(tar));
            if (!result.ok()) throw filesystem::archive_failure(result, "tar");
            co_return empty_response(http::Status::no_content);
          }});

  api.add(Verb::delete_, "/filesystem/{system_name}/ops/rm", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            refuse_file_system_root(c, path);
            auto argv = with_c_locale({"rm", "-r", "--interactive=never", "--", path});
            co_await run_checked(c, std::move(argv), "rm");
            co_return empty_response(http::Status::no_content);
          }});
}

}  // namespace portico::api::firecrest
