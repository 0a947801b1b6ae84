#include <boost/json.hpp>

#include <optional>
#include <string>

#include "api/firecrest/api.hpp"
#include "api/firecrest/handler_util.hpp"
#include "api/firecrest/models.hpp"
#include "core/error.hpp"
#include "filesystem/paths.hpp"

// /filesystem/{system}/transfer/...: cp, mv, rm, compress, extract as scheduler jobs of the
// caller, and upload/download staged through S3. Thin: transfer/transfers.hpp does the work.
namespace portico::api::firecrest {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Response;
using http::Verb;

namespace {

// transferDirectives (or transfer_directives): the method must be one Portico has ("s3"), and
// S3 staging must be configured.
const json::object& s3_directives(const Call& c, const json::object& body) {
  const json::value* d = nullptr;
  for (const char* name : {"transferDirectives", "transfer_directives"})
    if ((d = body.if_contains(name)) && !d->is_null()) break;
  if (!d || d->is_null()) throw core::validation_error("body", "transferDirectives", "is required");
  if (!d->is_object()) throw core::validation_error("body", "transferDirectives", "must be an object");
  const auto& directives = d->get_object();
  auto method = body_string(directives, {"transferMethod", "transfer_method"});
  if (!method) throw core::validation_error("body", "transferDirectives.transferMethod", "is required");
  if (method->second != "s3" || !c.api->transfers().staging_available())
    throw core::Failure(core::ErrorKind::bad_request, "Requested transfer method is not available");
  return directives;
}

cluster::UserRunner runner_of(Call& c) {
  require_up(*c.cluster, status::ServiceType::scheduler);
  require_up(*c.cluster, status::ServiceType::ssh);
  return c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
}

}  // namespace

void add_transfer_routes(Api& api) {
  api.add(Verb::post, "/filesystem/{system_name}/transfer/cp", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto source = body_source_path(c, body);
            auto target = body_path(c, body, {"targetPath", "target_path"});
            bool dereference = body_flag(body, {"dereference"});
            auto account = body_account(body);
            auto runner = runner_of(c);
            auto job = co_await c.api->transfers().copy(*c.cluster, runner, account, source, target, dereference);
            co_return json_response(http::Status::created, to_json(job));
          }});

  api.add(Verb::post, "/filesystem/{system_name}/transfer/mv", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto source = body_source_path(c, body);
            auto target = body_path(c, body, {"targetPath", "target_path"});
            auto account = body_account(body);
            auto runner = runner_of(c);
            auto job = co_await c.api->transfers().move(*c.cluster, runner, account, source, target);
            co_return json_response(http::Status::created, to_json(job));
          }});

  api.add(Verb::delete_, "/filesystem/{system_name}/transfer/rm", {[](Call& c) -> asio::awaitable<Response> {
            auto path = query_path(c);
            refuse_file_system_root(c, path);
            auto account = query_param(c.query, "account");
            auto runner = runner_of(c);
            auto job = co_await c.api->transfers().remove(*c.cluster, runner, account, path);
            co_return json_response(http::Status::ok, to_json(job));
          }});

  api.add(Verb::post, "/filesystem/{system_name}/transfer/compress", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto compress = parse_compress_body(c, body);
            auto account = body_account(body);
            auto runner = runner_of(c);
            auto job = co_await c.api->transfers().compress(*c.cluster, runner, account, compress.source,
                                                             compress.target, compress.commands);
            co_return json_response(http::Status::created, to_json(job));
          }});

  api.add(Verb::post, "/filesystem/{system_name}/transfer/extract", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto extract = parse_extract_body(c, body);
            auto account = body_account(body);
            auto runner = runner_of(c);
            auto job = co_await c.api->transfers().extract(*c.cluster, runner, account, extract.source,
                                                            extract.target, extract.tar);
            co_return json_response(http::Status::created, to_json(job));
          }});

  api.add(Verb::post, "/filesystem/{system_name}/transfer/upload", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            // The target file: "path" for pyFirecREST, "sourcePath" in the published example.
            auto target = body_path(c, body, {"path", "sourcePath", "source_path", "targetPath", "target_path"});
            const auto& directives = s3_directives(c, body);
            auto size = transfer_file_size(directives);
            auto account = body_account(body);
            auto runner = runner_of(c);
            auto upload = co_await c.api->transfers().upload(*c.cluster, runner, account, target, size);
            co_return json_response(http::Status::created, to_json(upload));
          }});

  api.add(Verb::post, "/filesystem/{system_name}/transfer/download", {[](Call& c) -> asio::awaitable<Response> {
            auto body = parse_body(c);
            auto source = body_source_path(c, body);
            s3_directives(c, body);
            auto account = body_account(body);
            auto runner = runner_of(c);
            auto download = co_await c.api->transfers().download(*c.cluster, runner, account, source);
            co_return json_response(http::Status::created, to_json(download));
          }});
}

}  // namespace portico::api::firecrest
