// The filesystem operations as tasks (v1: reads with query parameters, the rest with JSON
// bodies; v2: every one a POST with a JSON body) and the task operations. Each call is checked
// while the request is open (token, access rule, the resource, every field, confinement: bad
// input is a 400 and no task), then answers {task_id, task_uri} and runs as the caller through
// the same filesystem core as FirecREST's synchronous calls (filesystem/operations.hpp), on the
// task manager (tasks/manager.hpp). The task's result is the operation's output in the IRI
// shapes (snake_case fields, as the working group's reference server writes them).
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"
#include "core/bytes.hpp"
#include "core/utf8.hpp"
#include "filesystem/ls_json.hpp"
#include "filesystem/operations.hpp"
#include "filesystem/paths.hpp"
#include "tasks/manager.hpp"
#include "transfer/streams.hpp"
#include "transfer/transfers.hpp"

namespace portico::api::iri {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorKind;
using core::Failure;
using http::Verb;

namespace {

// The most `view` returns, as the documents' maximum `size`.
constexpr std::int64_t kMaxViewBytes = 5 * 1024 * 1024;

// ---- the request's fields ---------------------------------------------------------------------

// One operation's fields, from the query string (v1 reads) or from the JSON body. Type errors
// are gathered and raised together, naming each field.
class Input {
 public:
  Input(Call& c, bool from_query) : c_(c), from_query_(from_query) {
    if (from_query_) return;
    boost::system::error_code ec;
    auto body = json::parse(c.request.body(), ec);
    if (ec || !body.is_object()) throw core::validation_error("body", "body", "must be a JSON object");
    body_ = std::move(body.as_object());
  }

  const char* location() const { return from_query_ ? "query" : "body"; }

  // Refuses body members that are not fields of the operation (a misspelt field is a mistake
  // the client wants to hear of, not a default silently used).
  void only(std::initializer_list<std::string_view> known) {
    if (from_query_) return;  // parse_query refused unknown parameters already
    for (const auto& [key, _] : body_)
      if (std::find(known.begin(), known.end(), key) == known.end())
        problem(std::string(key).substr(0, 64), "is not a field of this operation");
  }

  std::optional<std::string> text(std::string_view name) {
    if (from_query_) {
      const auto* v = c_.query.get(name);
      return v ? std::optional<std::string>(*v) : std::nullopt;
    }
    const auto* v = body_.if_contains(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
      problem(name, "must be a string");
      return std::nullopt;
    }
    return std::string(v->as_string());
  }

  bool flag(std::string_view name) {
    if (from_query_) return c_.query.flag(name);
    const auto* v = body_.if_contains(name);
    if (!v || v->is_null()) return false;
    if (!v->is_bool()) {
      problem(name, "must be true or false");
      return false;
    }
    return v->as_bool();
  }

  std::optional<std::int64_t> integer(std::string_view name) {
    if (from_query_) {
      if (!c_.query.get(name)) return std::nullopt;
      return c_.query.integer(name, 0);
    }
    const auto* v = body_.if_contains(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_int64()) {
      problem(name, "must be an integer");
      return std::nullopt;
    }
    return v->as_int64();
  }

  // A path field, required, confined to `file_systems`. The reference server also takes
  // `source_path` for `path`.
  std::string path(std::string_view name, const std::vector<config::FileSystem>& file_systems) {
    auto v = text(name);
    std::string field(name);
    if (!v && name == "path" && !from_query_) {
      v = text("source_path");
      if (v) field = "source_path";
    }
    if (!v) {
      problem(name, "is required");
      raise();
    }
    raise();
    return filesystem::confine(*v, file_systems, location(), field);
  }

  void problem(std::string_view field, std::string message) { fields_.add(field, std::move(message)); }
  void raise() { fields_.raise(); }

 private:
  Call& c_;
  bool from_query_;
  json::object body_;
  core::FieldErrors fields_{location()};
};

// ---- the IRI shapes of the results ------------------------------------------------------------

json::object file_json(const filesystem::LsEntry& e) {
  return {{"name", core::valid_utf8(e.directory.empty() ? e.name : filesystem::child_path(e.directory, e.name))},
          {"type", std::string(1, e.type)},
          {"link_target", e.link_target ? json::value(core::valid_utf8(*e.link_target)) : json::value(nullptr)},
          {"user", core::valid_utf8(e.user)},
          {"group", core::valid_utf8(e.group)},
          {"permissions", e.permissions},
          {"last_modified", e.last_modified},
          {"size", e.size}};
}

// {"output": [file_json(e)...]}, written at once (filesystem/ls_json.hpp).
std::string listing(const std::vector<filesystem::LsEntry>& entries) {
  std::string out;
  out.reserve(entries.size() * 200 + 16);
  out += "{\"output\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i) out += ',';
    filesystem::append_entry_json(out, entries[i], {"link_target", "last_modified"});
  }
  out += "]}";
  return out;
}

json::object content_json(const filesystem::FilePart& part, bool bytes) {
  return {{"content", core::valid_utf8(part.content)},
          {"content_type", bytes ? "bytes" : "lines"},
          {"start_position", part.start},
          {"end_position", part.end}};
}

// A task's result: {"output": v}, serialized.
std::string output(json::value v) { return json::serialize(json::object{{"output", std::move(v)}}); }

// The entry of one path after an operation made or changed it.
asio::awaitable<std::string> describe(core::CommandRunner& runner, const std::string& path) {
  filesystem::LsOptions itself;
  itself.itself = true;
  auto entries = co_await filesystem::ls(runner, path, itself);
  if (entries.size() != 1) throw Failure(ErrorKind::internal, "unexpected ls output for one path");
  co_return output(file_json(entries.front()));
}

// ---- the operations ---------------------------------------------------------------------------

// Where a call acts: the file system resource's cluster, as the caller.
struct Target {
  cluster::Cluster* cluster = nullptr;
  std::vector<config::FileSystem> resource_fs;  // the resource's own file system
  const std::vector<config::FileSystem>* cluster_fs = nullptr;  // every file system of its cluster
  std::string user;
  std::string origin;  // the server's absolute base (before /api/vN)
};

// An operation that may outlast tasks.direct_timeout (cp, mv, rm, compress, extract): `run`
// runs as commands for that long at most; if it outlasts it, `as_job` hands it to a transfer job
// (taking over what the stopped attempt left) that the task follows; either way `result` then
// says what was made.
using JobStart = asio::awaitable<transfer::TransferJob>;
struct LongOperation {
  std::function<asio::awaitable<void>(core::CommandRunner&)> run;
  std::function<JobStart(transfer::Transfers&, cluster::Cluster&, cluster::UserRunner&)> as_job;
  std::function<asio::awaitable<std::string>(core::CommandRunner&)> result;
};

// What a validated call will do: the task's arguments (as the client gave them, confined) and
// its work, or the long operation it is.
struct Prepared {
  Prepared(json::object a, tasks::Work w) : args(std::move(a)), work(std::move(w)) {}
  Prepared(json::object a, LongOperation op) : args(std::move(a)), long_operation(std::move(op)) {}

  json::object args;
  tasks::Work work;
  std::optional<LongOperation> long_operation;
};

// The work of a long operation: directly, else (past `limit`, when transfers are available) as a
// transfer job of the caller, which a cancellation of the task cancels.
tasks::Work long_work(LongOperation op, transfer::Transfers* transfers, cluster::Cluster* cluster,
                      std::shared_ptr<cluster::UserRunner> jobs_runner, std::chrono::seconds limit) {
  return [op = std::move(op), transfers, cluster, jobs_runner, limit](tasks::StoppableRunner& r)
             -> asio::awaitable<std::string> {
    if (!transfers) {
      co_await op.run(r);
    } else {
      tasks::LimitedRunner direct(r, limit);
      std::exception_ptr failed;
      try {
        co_await op.run(direct);
      } catch (...) {
        failed = std::current_exception();
      }
      if (failed && !(direct.outlasted() && !r.stop()->stopped())) std::rethrow_exception(failed);
      if (failed) {
        auto job = co_await op.as_job(*transfers, *cluster, *jobs_runner);
        co_await transfers->follow(*cluster, *jobs_runner, job, r.stop());
      }
    }
    auto out = co_await op.result(r);
    co_return out;
  };
}

// Where cp and mv put `source` given `target`: into it when it is a directory (as cp and mv do),
// else at it. Resolved before the attempt, so that a job taking over an interrupted one
// completes the same destination rather than nesting the source in what the attempt made.
asio::awaitable<std::string> destination(core::CommandRunner& runner, const std::string& source,
                                         const std::string& target) {
  core::Command test;
  test.argv = {"test", "-d", target};
  auto result = co_await runner.run(std::move(test));
  if (result.exit_status != 0) co_return target;
  auto slash = source.find_last_of('/');
  co_return (target.back() == '/' ? target : target + "/") + source.substr(slash + 1);
}

using Prepare = std::function<Prepared(Input&, const Target&)>;

// "none", "gzip", "bzip2", "xz" (v1) or their URNs urn:doe-iri:compression:<type> (v2).
filesystem::Compression compression_of(Input& in, Version version) {
  auto text = in.text("compression");
  if (text && version == Version::v2) {
    constexpr std::string_view prefix = "urn:doe-iri:compression:";
    if (!text->starts_with(prefix))
      throw core::validation_error(in.location(), "compression",
                                   "expected urn:doe-iri:compression:none, gzip, bzip2 or xz");
    text = text->substr(prefix.size());
  }
  return filesystem::parse_compression(text ? std::optional<std::string_view>(*text) : std::nullopt, in.location(),
                                       "compression");
}

// head and tail: bytes or lines (one of them), and the skip flag of each.
filesystem::HeadTailRequest head_tail_of(Input& in, bool head) {
  filesystem::HeadTailRequest r;
  r.head = head;
  auto bytes = in.integer("bytes");
  auto lines = in.integer("lines");
  in.raise();
  std::string bytes_text = bytes ? std::to_string(*bytes) : "", lines_text = lines ? std::to_string(*lines) : "";
  r.count = filesystem::parse_head_tail(bytes ? std::optional<std::string_view>(bytes_text) : std::nullopt,
                                        lines ? std::optional<std::string_view>(lines_text) : std::nullopt,
                                        in.location(), "bytes", "lines");
  r.skip = in.flag(head ? "skipTrailing" : "skipHeading");
  return r;
}

std::string url_encoded(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

struct Op {
  std::string name;             // operationId and path segment
  std::string summary;
  http::Status status;          // of the submission (the documents give 200 or 201)
  Verb v1_verb;
  bool v1_query;                // v1 takes query parameters (else a JSON body)
  std::vector<Param> v1_params;
  std::string v1_schema;        // v1's request body component ("" for none)
  std::string v2_schema;        // v2's
  Prepare prepare;
};

Param path_query() { return Param{"path", ParamKind::text, "The path, absolute, on the resource's file system."}; }
Param count_query(std::string name, std::string description, std::int64_t max) {
  Param p{std::move(name), ParamKind::integer, std::move(description)};
  p.min = 1;
  p.max = max;
  return p;
}

std::vector<Op> operations(Version) {
  std::vector<Op> ops;
  auto add = [&](Op op) { ops.push_back(std::move(op)); };

  add({"ls", "List a directory", http::Status::ok, Verb::get, true,
       {path_query(), boolean_param("showHidden", "Include entries whose names start with a dot."),
        boolean_param("numericUid", "Numeric user and group ids."), boolean_param("recursive", "List subdirectories too."),
        boolean_param("dereference", "Describe what symbolic links point to.")},
       "", "PostLsRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path", "showHidden", "numericUid", "recursive", "dereference"});
         auto path = in.path("path", t.resource_fs);
         filesystem::LsOptions o;
         o.show_hidden = in.flag("showHidden");
         o.numeric_ids = in.flag("numericUid");
         o.recursive = in.flag("recursive");
         o.dereference = in.flag("dereference");
         in.raise();
         json::object args{{"path", path}, {"show_hidden", o.show_hidden}, {"numeric_uid", o.numeric_ids},
                           {"recursive", o.recursive}, {"dereference", o.dereference}};
         return Prepared{std::move(args), [path, o](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto entries = co_await filesystem::ls(r, path, o);
                           co_return listing(entries);
                         }};
       }});

  add({"stat", "Describe a file (stat)", http::Status::ok, Verb::get, true,
       {path_query(), boolean_param("dereference", "Describe what a symbolic link points to.")}, "", "PostStatRequest",
       [](Input& in, const Target& t) {
         in.only({"path", "source_path", "dereference"});
         auto path = in.path("path", t.resource_fs);
         bool deref = in.flag("dereference");
         in.raise();
         return Prepared{{{"path", path}, {"dereference", deref}},
                         [path, deref](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto s = co_await filesystem::stat(r, path, deref);
                           co_return output(json::object{{"mode", s.mode}, {"ino", s.ino}, {"dev", s.dev},
                                                         {"nlink", s.nlink}, {"uid", s.uid}, {"gid", s.gid},
                                                         {"size", s.size}, {"atime", s.atime}, {"ctime", s.ctime},
                                                         {"mtime", s.mtime}});
                         }};
       }});

  add({"file", "The type of a file (file)", http::Status::ok, Verb::get, true, {path_query()}, "", "PostFileRequest",
       [](Input& in, const Target& t) {
         in.only({"path", "source_path"});
         auto path = in.path("path", t.resource_fs);
         return Prepared{{{"path", path}}, [path](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto type = co_await filesystem::file_type(r, path);
                           co_return output(json::value(core::valid_utf8(type)));
                         }};
       }});

  add({"checksum", "The SHA-256 of a file", http::Status::ok, Verb::get, true, {path_query()}, "",
       "PostChecksumRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path"});
         auto path = in.path("path", t.resource_fs);
         return Prepared{{{"path", path}}, [path](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto hash = co_await filesystem::checksum(r, path);
                           co_return output(json::object{{"algorithm", "SHA-256"}, {"checksum", hash}});
                         }};
       }});

  for (bool head : {true, false}) {
    std::string skip = head ? "skipTrailing" : "skipHeading";
    add({head ? "head" : "tail", head ? "The start of a file" : "The end of a file", http::Status::ok, Verb::get, true,
         {path_query(), count_query("bytes", "How many bytes.", 1'000'000'000'000),
          count_query("lines", "How many lines.", 1'000'000'000'000),
          boolean_param(skip, head ? "All but the last bytes or lines." : "From the given byte or line on.")},
         "", head ? "PostHeadRequest" : "PostTailRequest", [head, skip](Input& in, const Target& t) {
           in.only({"path", "source_path", "bytes", "lines", skip});
           auto path = in.path("path", t.resource_fs);
           auto request = head_tail_of(in, head);
           in.raise();
           const auto cap = static_cast<std::int64_t>(t.cluster->config().ssh.max_output_bytes);
           json::object args{{"path", path}, {skip, request.skip}};
           args[request.count.unit == filesystem::HeadTailCount::Unit::bytes ? "bytes" : "lines"] = request.count.count;
           return Prepared{std::move(args), [path, request, cap](core::CommandRunner& r) -> asio::awaitable<std::string> {
                             auto part = co_await filesystem::head_tail(r, path, request, cap);
                             co_return output(
                                 content_json(part, request.count.unit == filesystem::HeadTailCount::Unit::bytes));
                           }};
         }});
  }

  add({"view", "Bytes of a file", http::Status::ok, Verb::get, true,
       {path_query(), count_query("size", "How many bytes (at most 5 MiB).", kMaxViewBytes),
        [] {
          Param p{"offset", ParamKind::integer, "From this byte on."};
          p.max = 1'000'000'000'000'000;
          return p;
        }()},
       "", "PostViewRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path", "size", "offset"});
         auto path = in.path("path", t.resource_fs);
         auto size = in.integer("size");
         auto offset = in.integer("offset");
         in.raise();
         // v2's schema gives size a default of 0: absent or 0 both mean "up to the cap".
         std::string size_text = size && *size != 0 ? std::to_string(*size) : "";
         std::string offset_text = offset ? std::to_string(*offset) : "";
         auto range = filesystem::parse_view_range(
             offset ? std::optional<std::string_view>(offset_text) : std::nullopt,
             size_text.empty() ? std::nullopt : std::optional<std::string_view>(size_text), kMaxViewBytes,
             in.location(), "offset", "size");
         return Prepared{{{"path", path}, {"offset", range.offset}, {"size", range.size}},
                         [path, range](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto bytes = co_await filesystem::view(r, path, range);
                           filesystem::FilePart part{std::move(bytes), range.offset, 0};
                           part.end = part.start + static_cast<std::int64_t>(part.content.size());
                           co_return output(content_json(part, true));
                         }};
       }});

  add({"mkdir", "Make a directory", http::Status::created, Verb::post, false, {}, "PostMakeDirRequest",
       "PostMakeDirRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path", "parent"});
         auto path = in.path("path", t.resource_fs);
         bool parent = in.flag("parent");
         in.raise();
         return Prepared{{{"path", path}, {"parent", parent}},
                         [path, parent](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto entry = co_await filesystem::mkdir(r, path, parent);
                           co_return output(file_json(entry));
                         }};
       }});

  add({"symlink", "Make a symbolic link", http::Status::created, Verb::post, false, {}, "PostFileSymlinkRequest",
       "PostFileSymlinkRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path", "link_path"});
         auto target = in.path("path", *t.cluster_fs);
         auto link = in.path("link_path", t.resource_fs);
         return Prepared{{{"path", target}, {"link_path", link}},
                         [target, link](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto entry = co_await filesystem::symlink(r, target, link);
                           co_return output(file_json(entry));
                         }};
       }});

  add({"chmod", "Change a file's mode", http::Status::ok, Verb::put, false, {}, "PutFileChmodRequest",
       "PutFileChmodRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path", "mode"});
         auto path = in.path("path", t.resource_fs);
         auto mode_text = in.text("mode");
         if (!mode_text) in.problem("mode", "is required");
         in.raise();
         auto mode = filesystem::validate_chmod_mode(*mode_text, in.location(), "mode");
         return Prepared{{{"path", path}, {"mode", mode}},
                         [path, mode](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto entry = co_await filesystem::chmod(r, path, mode);
                           co_return output(file_json(entry));
                         }};
       }});

  add({"chown", "Change a file's owner or group", http::Status::ok, Verb::put, false, {}, "PutFileChownRequest",
       "PutFileChownRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path", "owner", "group"});
         auto path = in.path("path", t.resource_fs);
         auto owner = in.text("owner").value_or("");
         auto group = in.text("group").value_or("");
         in.raise();
         auto spec = filesystem::chown_spec(owner, group, in.location(), "owner", "group");
         return Prepared{{{"path", path}, {"owner", owner}, {"group", group}},
                         [path, spec](core::CommandRunner& r) -> asio::awaitable<std::string> {
                           auto entry = co_await filesystem::chown(r, path, spec);
                           co_return output(file_json(entry));
                         }};
       }});

  add({"rm", "Remove a file or a directory tree", http::Status::ok, Verb::delete_, true, {path_query()}, "",
       "PostRmRequest", [](Input& in, const Target& t) {
         in.only({"path", "source_path"});
         auto path = in.path("path", t.resource_fs);
         if (filesystem::is_file_system_root(path, *t.cluster_fs))
           throw core::validation_error(in.location(), "path", "cannot remove a file system's root");
         LongOperation op{
             [path](core::CommandRunner& r) -> asio::awaitable<void> { co_await filesystem::rm(r, path); },
             [path](transfer::Transfers& x, cluster::Cluster& c, cluster::UserRunner& r) -> JobStart {
               auto job = co_await x.remove(c, r, std::nullopt, path, true);
               co_return job;
             },
             [](core::CommandRunner&) -> asio::awaitable<std::string> { co_return output(nullptr); }};
         return Prepared{{{"path", path}}, std::move(op)};
       }});

  for (bool copy : {true, false}) {
    add({copy ? "cp" : "mv", copy ? "Copy files" : "Move files", http::Status::created, Verb::post, false, {},
         copy ? "PostCopyRequest" : "PostMoveRequest", copy ? "PostCopyRequest" : "PostMoveRequest",
         [copy](Input& in, const Target& t) {
           if (copy) in.only({"path", "source_path", "target_path", "dereference"});
           else in.only({"path", "source_path", "target_path"});
           auto source = in.path("path", t.resource_fs);
           auto target = in.path("target_path", *t.cluster_fs);
           bool deref = copy && in.flag("dereference");
           in.raise();
           json::object args{{"path", source}, {"target_path", target}};
           if (copy) args["dereference"] = deref;
           // The destination, resolved by the first attempt, is where a taking-over job goes too.
           auto exact = std::make_shared<std::string>();
           LongOperation op{
               [copy, source, target, deref, exact](core::CommandRunner& r) -> asio::awaitable<void> {
                 *exact = co_await destination(r, source, target);
                 if (copy) co_await filesystem::copy(r, source, *exact, deref, true);
                 else co_await filesystem::move(r, source, *exact, true);
               },
               [copy, source, deref, exact](transfer::Transfers& x, cluster::Cluster& c, cluster::UserRunner& r)
                   -> JobStart {
                 if (exact->empty()) throw Failure(ErrorKind::timeout, "the destination could not be looked up in time");
                 if (copy) {
                   auto job = co_await x.copy(c, r, std::nullopt, source, *exact, deref, true);
                   co_return job;
                 }
                 auto job = co_await x.move(c, r, std::nullopt, source, *exact, true);
                 co_return job;
               },
               [target](core::CommandRunner& r) { return describe(r, target); }};
           return Prepared{std::move(args), std::move(op)};
         }});
  }

  return ops;
}

// The compress and extract operations need the version (v2 names compressions by URN).
void add_archive_ops(std::vector<Op>& ops, Version version) {
  ops.push_back({"compress", "Make a tar archive", http::Status::created, Verb::post, false, {}, "PostCompressRequest",
                 "PostCompressRequest", [version](Input& in, const Target& t) {
                   in.only({"path", "source_path", "target_path", "match_pattern", "dereference", "compression"});
                   auto source = in.path("path", t.resource_fs);
                   auto target = in.path("target_path", *t.cluster_fs);
                   auto pattern = in.text("match_pattern");
                   bool deref = in.flag("dereference");
                   in.raise();
                   if (pattern && pattern->empty()) pattern.reset();
                   if (pattern && (pattern->size() > filesystem::max_path_bytes || pattern->find('\0') != std::string::npos))
                     throw core::validation_error(in.location(), "match_pattern", "is too long or holds a NUL byte");
                   auto compression = compression_of(in, version);
                   if (filesystem::is_file_system_root(source, *t.cluster_fs))
                     throw core::validation_error(in.location(), "path", "cannot archive a file system's root");
                   auto commands = filesystem::compress_commands(source, target, pattern, deref, compression);
                   json::object args{{"path", source}, {"target_path", target}, {"dereference", deref}};
                   args["match_pattern"] = pattern ? json::value(*pattern) : json::value(nullptr);
                   if (auto c = in.text("compression")) args["compression"] = *c;
                   // A rerun of tar rewrites the archive a stopped attempt left.
                   LongOperation op{[commands](core::CommandRunner& r) -> asio::awaitable<void> {
                                      co_await filesystem::compress(r, commands);
                                    },
                                    [source, target, commands](transfer::Transfers& x, cluster::Cluster& c,
                                                               cluster::UserRunner& r) -> JobStart {
                                      auto job = co_await x.compress(c, r, std::nullopt, source, target, commands);
                                      co_return job;
                                    },
                                    [target](core::CommandRunner& r) { return describe(r, target); }};
                   return Prepared{std::move(args), std::move(op)};
                 }});
  ops.push_back({"extract", "Extract a tar archive", http::Status::created, Verb::post, false, {}, "PostExtractRequest",
                 "PostExtractRequest", [version](Input& in, const Target& t) {
                   in.only({"path", "source_path", "target_path", "compression"});
                   auto source = in.path("path", t.resource_fs);
                   auto target = in.path("target_path", *t.cluster_fs);
                   in.raise();
                   auto compression = compression_of(in, version);
                   auto tar = filesystem::extract_command(source, target, compression);
                   json::object args{{"path", source}, {"target_path", target}};
                   if (auto c = in.text("compression")) args["compression"] = *c;
                   // A rerun of tar rewrites what a stopped attempt extracted.
                   LongOperation op{[tar](core::CommandRunner& r) -> asio::awaitable<void> {
                                      co_await filesystem::extract(r, tar);
                                    },
                                    [source, target, tar](transfer::Transfers& x, cluster::Cluster& c,
                                                          cluster::UserRunner& r) -> JobStart {
                                      auto job = co_await x.extract(c, r, std::nullopt, source, target, tar);
                                      co_return job;
                                    },
                                    [target](core::CommandRunner& r) { return describe(r, target); }};
                   return Prepared{std::move(args), std::move(op)};
                 }});
}

// download: the bytes base64 in the result up to tasks.max_download_bytes; a bigger file's
// result carries instead a URI that streams it (FirecREST's download, with the caller's token).
void add_download_op(std::vector<Op>& ops, std::size_t max_bytes) {
  ops.push_back({"download", "Download a file", http::Status::ok, Verb::get, true, {path_query()}, "",
                 "PostDownloadRequest", [max_bytes](Input& in, const Target& t) {
                   in.only({"path", "source_path"});
                   auto path = in.path("path", t.resource_fs);
                   std::string uri = t.origin + "/filesystem/" + url_encoded(t.cluster->name()) +
                                     "/ops/download?path=" + url_encoded(path);
                   return Prepared{{{"path", path}}, [path, uri, max_bytes](core::CommandRunner& r)
                                                         -> asio::awaitable<std::string> {
                                     auto s = co_await filesystem::stat(r, path, true);
                                     if ((s.mode & 0170000) == 0040000)
                                       throw Failure(ErrorKind::bad_request, "'" + path + "' is a directory");
                                     if (s.size > max_bytes)
                                       co_return json::serialize(
                                           json::object{{"output", nullptr}, {"size", s.size}, {"download_uri", uri}});
                                     filesystem::ViewRange whole{0, static_cast<std::int64_t>(s.size)};
                                     auto bytes = co_await filesystem::view(r, path, whole);
                                     co_return json::serialize(json::object{{"output", core::base64(bytes)},
                                                                            {"encoding", "base64"},
                                                                            {"size", static_cast<std::int64_t>(bytes.size())}});
                                   }};
                 }});
}

// ---- the routes -------------------------------------------------------------------------------

asio::awaitable<Target> target_of(Api& api, Call& c) {
  auto id = path_param(c, "resource_id");
  const auto* r = api.model().resource(id);
  cluster::Cluster* cl = nullptr;
  if (r && r->filesystem_endpoint && api.clusters()) cl = api.clusters()->find(r->cluster);
  if (!cl) throw not_found("file system resource", id);
  Target t;
  t.cluster = cl;
  t.cluster_fs = &cl->config().file_systems;
  for (const auto& fs : cl->config().file_systems)
    if (fs.path == r->path) t.resource_fs.push_back(fs);
  if (t.resource_fs.empty()) throw not_found("file system resource", id);
  t.user = c.identity->username;
  t.origin = c.links.base.substr(0, c.links.base.size() - std::string_view("/api/v1").size());
  co_await cl->authorize(t.user, c.identity->scopes, &c.ctx.backend_calls);
  co_return t;
}

tasks::Manager& manager_of(Api& api) {
  if (!api.tasks()) throw Failure(ErrorKind::not_implemented, "tasks are not served by this instance");
  return *api.tasks();
}

// A task as the documents' Task, written around the stored JSON texts (a result can be megabytes:
// it is never parsed again).
void append_task(std::string& out, const store::TaskRecord& t, const Links& links) {
  out += "{\"id\":";
  core::append_json_string(out, t.id);
  out += ",\"status\":";
  core::append_json_string(out, t.status);
  out += ",\"result\":";
  out += t.result.empty() ? "null" : t.result;
  out += ",\"command\":";
  out += t.command.empty() ? "null" : t.command;
  out += ",\"self_uri\":";
  core::append_json_string(out, links.base + "/task/" + t.id);
  out += '}';
}

Route task_route(std::string id, std::string tag, std::string summary, std::vector<Param> params, std::string response,
                 bool list, std::string request, std::function<asio::awaitable<Reply>(Call&)> handler) {
  Route r{std::move(id), std::move(tag), std::move(summary), std::move(params), std::move(response), list, true, false,
          std::move(request), nullptr};
  r.async_handler = std::move(handler);
  return r;
}

}  // namespace

void add_filesystem_routes(Api& api) {
  Api* self = &api;
  for (Version version : {Version::v1, Version::v2}) {
    auto ops = operations(version);
    add_archive_ops(ops, version);
    add_download_op(ops, api.config().tasks.max_download_bytes);
    for (auto& op : ops) {
      const bool v2 = version == Version::v2;
      const bool from_query = !v2 && op.v1_query;
      auto prepare = op.prepare;
      auto name = op.name;
      auto status = op.status;
      auto handler = [self, prepare, name, status, from_query](Call& c) -> asio::awaitable<Reply> {
        auto& manager = manager_of(*self);
        Input in(c, from_query);
        auto target = co_await target_of(*self, c);
        auto prepared = prepare(in, target);
        json::object command{{"router", "filesystem"}, {"command", name}, {"args", std::move(prepared.args)}};
        auto runner = std::make_shared<cluster::UserRunner>(target.cluster->runner(target.user, nullptr));
        auto work = std::move(prepared.work);
        if (prepared.long_operation)
          work = long_work(std::move(*prepared.long_operation), self->transfers(), target.cluster,
                           std::make_shared<cluster::UserRunner>(target.cluster->runner(target.user, nullptr)),
                           self->config().tasks.direct_timeout);
        auto id = manager.submit(std::move(runner), target.user, std::move(command), std::move(work));
        json::object body{{"task_id", id}, {"task_uri", c.links.base + "/task/" + id}};
        Reply reply{std::move(body)};
        reply.status = status;
        co_return reply;
      };
      auto route = task_route(op.name, "filesystem", op.summary, from_query ? op.v1_params : std::vector<Param>{},
                              "TaskSubmitResponse", false, v2 ? op.v2_schema : op.v1_schema, handler);
      route.success_status = static_cast<int>(op.status);
      api.add(v2 ? Versions::v2 : Versions::v1, v2 ? Verb::post : op.v1_verb, "/filesystem/" + op.name + "/{resource_id}",
              std::move(route));
    }
  }

  // upload: the multipart body's file goes to the cluster while the request lasts (as
  // FirecREST's upload does, never a partial target); the task is then completed at once.
  {
    auto route = task_route(
        "upload", "filesystem", "Upload a file into a directory", {path_query()}, "TaskSubmitResponse", false,
        "Body_upload", [self](Call& c) -> asio::awaitable<Reply> {
          auto& manager = manager_of(*self);
          Input in(c, true);
          auto target = co_await target_of(*self, c);
          auto dir = in.path("path", target.resource_fs);
          auto runner = target.cluster->runner(target.user, &c.ctx.backend_calls);
          auto written = co_await transfer::upload(runner, target.cluster->config().ssh, c.ctx.body,
                                                   c.request[http::bhttp::field::content_type], dir,
                                                   target.cluster->config().max_upload_bytes, c.ctx.request_id);
          json::object command{{"router", "filesystem"}, {"command", "upload"}, {"args", json::object{{"path", dir}}}};
          auto task_runner = std::make_shared<cluster::UserRunner>(target.cluster->runner(target.user, nullptr));
          auto id = manager.submit(std::move(task_runner), target.user, std::move(command),
                                   [written](core::CommandRunner&) -> asio::awaitable<std::string> {
                                     co_return output(json::value(core::valid_utf8(written)));
                                   });
          co_return Reply{json::object{{"task_id", id}, {"task_uri", c.links.base + "/task/" + id}}};
        });
    route.streams_body = true;
    route.request_content_type = "multipart/form-data";
    api.add(Versions::both, Verb::post, "/filesystem/upload/{resource_id}", std::move(route));
  }

  api.add(Versions::both, Verb::get, "/task/{task_id}",
          task_route("getTask", "task", "One of the caller's tasks", {}, "Task", false, "",
                     [self](Call& c) -> asio::awaitable<Reply> {
                       auto id = path_param(c, "task_id");
                       auto task = manager_of(*self).get(c.identity->username, id);
                       if (!task) throw not_found("task", id);
                       Reply reply;
                       append_task(reply.text, *task, c.links);
                       co_return reply;
                     }));
  api.add(Versions::both, Verb::get, "/task",
          task_route("getTasks", "task", "The caller's tasks", {}, "Task", true, "",
                     [self](Call& c) -> asio::awaitable<Reply> {
                       Reply reply;
                       reply.text = "[";
                       for (const auto& t : manager_of(*self).list(c.identity->username)) {
                         if (reply.text.size() > 1) reply.text += ',';
                         append_task(reply.text, t, c.links);
                       }
                       reply.text += ']';
                       co_return reply;
                     }));
  api.add(Versions::both, Verb::delete_, "/task/{task_id}",
          task_route("deleteTask", "task", "Cancel one of the caller's tasks", {}, "TaskCancelReply", false, "",
                     [self](Call& c) -> asio::awaitable<Reply> {
                       auto id = path_param(c, "task_id");
                       if (!manager_of(*self).cancel(c.identity->username, id)) throw not_found("task", id);
                       co_return Reply{json::value("Task " + id + " canceled")};
                     }));
}

void add_task_schemas(json::object& out, Version version) {
  const bool v2 = version == Version::v2;
  auto type = [](const char* t) { return json::object{{"type", t}}; };
  auto nullable = [](json::object s) { return json::object{{"anyOf", json::array{std::move(s), json::object{{"type", "null"}}}}}; };
  auto flag = [] { return json::object{{"type", "boolean"}, {"default", false}}; };
  auto positive = [&] {
    json::object s = type("integer");
    s["minimum"] = 1;
    return s;
  };
  // An object of these properties, requiring `required`; other members are refused.
  auto body = [&](std::initializer_list<std::pair<const char*, json::object>> props,
                  std::initializer_list<const char*> required) {
    json::object p;
    for (const auto& [name, schema] : props) p[name] = schema;
    json::array r;
    for (auto name : required) r.push_back(json::value(name));
    return json::object{{"type", "object"}, {"properties", std::move(p)}, {"required", std::move(r)}};
  };
  json::object path = type("string"), optional_path = nullable(type("string"));
  json::object compression = v2 ? json::object{{"type", "string"}, {"pattern", "^urn:doe-iri:compression:"}}
                                : json::object{{"type", "string"}, {"enum", json::array{"none", "bzip2", "gzip", "xz"}}};

  out["TaskStatus"] = json::object{{"type", "string"},
                                   {"enum", json::array{"pending", "active", "completed", "failed", "canceled"}}};
  out["TaskCommand"] = body({{"router", type("string")}, {"command", type("string")},
                             {"args", json::object{{"type", "object"}, {"additionalProperties", true}}}},
                            {"router", "command", "args"});
  out["Task"] = body({{"id", type("string")}, {"status", json::object{{"$ref", "#/components/schemas/TaskStatus"}}},
                      {"result", nullable(json::object{{"type", "object"}, {"additionalProperties", true}})},
                      {"command", nullable(json::object{{"$ref", "#/components/schemas/TaskCommand"}})},
                      {"self_uri", type("string")}},
                     {"id"});
  out["TaskCancelReply"] = type("string");
  out["Body_upload"] = body({{"file", json::object{{"type", "string"}, {"format", "binary"}}}}, {"file"});
  out["TaskSubmitResponse"] = body({{"task_id", type("string")}, {"task_uri", type("string")}}, {"task_id", "task_uri"});

  out["PostLsRequest"] = body({{"path", path}, {"showHidden", flag()}, {"numericUid", flag()}, {"recursive", flag()},
                               {"dereference", flag()}},
                              {"path"});
  out["PostStatRequest"] = body({{"path", path}, {"dereference", flag()}}, {"path"});
  for (const char* name : {"PostFileRequest", "PostChecksumRequest", "PostRmRequest", "PostDownloadRequest"})
    out[name] = body({{"path", path}}, {"path"});
  out["PostHeadRequest"] = body({{"path", path}, {"bytes", nullable(positive())}, {"lines", nullable(positive())},
                                 {"skipTrailing", flag()}},
                                {"path"});
  out["PostTailRequest"] = body({{"path", path}, {"bytes", nullable(positive())}, {"lines", nullable(positive())},
                                 {"skipHeading", flag()}},
                                {"path"});
  json::object size = positive(), offset = type("integer");
  size["maximum"] = kMaxViewBytes;
  offset["minimum"] = 0;
  out["PostViewRequest"] = body({{"path", path}, {"size", size}, {"offset", offset}}, {"path"});
  out["PostMakeDirRequest"] = body({{"path", optional_path}, {"parent", flag()}}, {});
  out["PostFileSymlinkRequest"] = body({{"path", optional_path}, {"link_path", path}}, {"link_path"});
  out["PutFileChmodRequest"] = body({{"path", optional_path}, {"mode", path}}, {"mode"});
  out["PutFileChownRequest"] = body({{"path", optional_path}, {"owner", type("string")}, {"group", type("string")}}, {});
  out["PostCopyRequest"] = body({{"path", optional_path}, {"target_path", path}, {"dereference", flag()}}, {"target_path"});
  out["PostMoveRequest"] = body({{"path", optional_path}, {"target_path", path}}, {"target_path"});
  out["PostCompressRequest"] = body({{"path", optional_path}, {"target_path", path}, {"match_pattern", optional_path},
                                     {"dereference", flag()}, {"compression", compression}},
                                    {"target_path"});
  out["PostExtractRequest"] = body({{"path", optional_path}, {"target_path", path}, {"compression", compression}},
                                   {"target_path"});
}

}  // namespace portico::api::iri
