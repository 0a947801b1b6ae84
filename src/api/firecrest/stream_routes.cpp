// /filesystem/{system}/ops/download and /ops/upload: file bytes streamed between the HTTP
// connection and the cluster as the caller, never held whole in memory. Each side waits for the
// other (the next piece is read only once the previous one is written), so memory stays at a few
// buffers whatever the size, and a slow client slows the cluster side down. The cluster side
// (SFTP or the remote scripts) is transfer/streams.cpp's, as is the upload, shared with the IRI
// API.

#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <string>

#include "api/firecrest/api.hpp"
#include "api/firecrest/errors.hpp"
#include "api/firecrest/handler_util.hpp"
#include "core/error.hpp"
#include "filesystem/paths.hpp"
#include "http/range.hpp"
#include "transfer/streams.hpp"

namespace portico::api::firecrest {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;
using http::Response;
using http::Verb;

namespace {

std::string required_path(const Call& c) {
  auto path = query_param(c.query, "path");
  if (!path) throw core::validation_error("query", "path", "is required");
  return filesystem::confine(*path, c.cluster->config().file_systems, "query", "path");
}

// Ends the transfer when the handler leaves, however it leaves.
struct CloseOnExit {
  transfer::DownloadSource& source;
  ~CloseOnExit() { source.close(); }
};

asio::awaitable<Response> download(Call& c) {
  auto path = required_path(c);
  require_up(*c.cluster, status::ServiceType::ssh);
  const bool ranged = c.request.find(http::bhttp::field::range) != c.request.end();
  auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
  // Every refusal comes from here, before the status line: a reply that has begun never turns
  // into an error.
  auto source = co_await transfer::open_download(runner, c.cluster->config().ssh, std::move(path), ranged);
  CloseOnExit guard{*source};
  const auto size = source->size();

  http::RangeAnswer range{http::RangeAnswer::whole, 0, size};
  if (ranged) {
    range = http::resolve_range(c.request[http::bhttp::field::range], size);
    if (range.kind == http::RangeAnswer::unsatisfiable) {
      auto res = error_response(Failure(ErrorKind::bad_request, "the requested range is not satisfiable"), c.ctx.user);
      res.result(http::Status::range_not_satisfiable);
      res.set(http::bhttp::field::content_range, http::content_range(range, size));
      co_return res;
    }
    if (range.kind == http::RangeAnswer::whole) range = {http::RangeAnswer::whole, 0, size};
  }
  co_await source->select(range.first, range.length);

  http::bhttp::response_header<> header;
  header.version(11);
  header.result(range.kind == http::RangeAnswer::partial ? http::Status::partial_content : http::Status::ok);
  header.set(http::bhttp::field::content_type, "application/octet-stream");
  header.set(http::bhttp::field::accept_ranges, "bytes");
  header.set(http::bhttp::field::content_length, std::to_string(range.length));
  if (range.kind == http::RangeAnswer::partial)
    header.set(http::bhttp::field::content_range, http::content_range(range, size));
  set_firecrest_headers(header, c.ctx);
  co_await c.ctx.writer->begin(std::move(header));

  // A file that grew meanwhile: what is past the promised length is not wanted.
  std::uint64_t left = range.length;
  while (left > 0) {
    auto bytes = co_await source->read();
    if (bytes.empty()) throw Failure(ErrorKind::internal, "the file became shorter while it was downloaded");
    const auto n = std::min<std::uint64_t>(bytes.size(), left);
    const auto piece = asio::buffer(bytes.data(), n);
    co_await c.ctx.writer->write(piece);
    left -= n;
  }
  co_await c.ctx.writer->finish();
  co_return empty_response(http::Status::ok);  // sent; this is for the audit line
}

asio::awaitable<Response> upload(Call& c) {
  auto dir = required_path(c);
  require_up(*c.cluster, status::ServiceType::ssh);
  auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
  co_await transfer::upload(runner, c.cluster->config().ssh, c.ctx.body, c.request[http::bhttp::field::content_type], dir,
                            c.cluster->config().max_upload_bytes, c.ctx.request_id);
  co_return empty_response(http::Status::no_content);
}

}  // namespace

void add_stream_routes(Api& api) {
  api.add(Verb::get, "/filesystem/{system_name}/ops/download", {download});
  Route up{upload};
  up.streams_body = true;
  api.add(Verb::post, "/filesystem/{system_name}/ops/upload", std::move(up));
}

}  // namespace portico::api::firecrest
