// /filesystem/{system}/ops/download and /ops/upload: file bytes streamed between the HTTP
// connection and an SSH channel running as the caller, never held whole in memory. Each side
// waits for the other (the next piece is read only once the previous one is written), so memory
// stays at a few buffers whatever the size, and a slow client slows the cluster side down.
// The remote scripts are in filesystem/stream_commands.cpp; the upload itself, shared with the
// IRI API, is transfer/streams.cpp's.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "api/firecrest/api.hpp"
#include "api/firecrest/errors.hpp"
#include "api/firecrest/handler_util.hpp"
#include "core/bytes.hpp"
#include "core/error.hpp"
#include "filesystem/errors.hpp"
#include "filesystem/paths.hpp"
#include "filesystem/stream_commands.hpp"
#include "http/multipart.hpp"
#include "http/range.hpp"
#include "transfer/streams.hpp"

namespace portico::api::firecrest {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;
using http::Response;
using http::Verb;

namespace {

using transfer::CloseOnExit;
using transfer::first_line;
using transfer::kChunk;
using transfer::kMaxStderr;
using transfer::script_failure;
using transfer::script_result;
using transfer::Watchdog;

std::string required_path(const Call& c) {
  auto path = query_param(c.query, "path");
  if (!path) throw core::validation_error("query", "path", "is required");
  return filesystem::confine(*path, c.cluster->config().file_systems, "query", "path");
}

struct Download {
  Call& call;
  ssh::Channel channel;
  bool ranged = false;
  std::string err;
  bool err_truncated = false;
  std::optional<Response> early;  // an answer decided before any byte is sent (416)
  std::shared_ptr<Watchdog> watchdog;
};

// stdout → HTTP: the size line, then the bytes.
asio::awaitable<void> pump_download(Download& d) {
  try {
    std::vector<char> buffer(kChunk);
    std::string rest;
    auto line = co_await first_line(d.channel, buffer, rest);
    d.watchdog->stop();
    if (!line) co_return;  // the script failed: its stderr says why
    auto size = filesystem::parse_size_line(*line);
    if (!size) throw Failure(ErrorKind::internal, "unexpected output from the download script");

    http::RangeAnswer range;
    if (d.ranged) {
      range = http::resolve_range(d.call.request[http::bhttp::field::range], *size);
      if (range.kind == http::RangeAnswer::unsatisfiable) {
        auto res = error_response(Failure(ErrorKind::bad_request, "the requested range is not satisfiable"), d.call.ctx.user);
        res.result(http::Status::range_not_satisfiable);
        res.set(http::bhttp::field::content_range, http::content_range(range, *size));
        d.early = std::move(res);
        d.channel.close();
        co_return;
      }
      if (range.kind == http::RangeAnswer::whole) range = {http::RangeAnswer::whole, 0, *size};
      auto request_line = std::to_string(range.first) + " " + std::to_string(range.length) + "\n";
      co_await d.channel.async_write(asio::buffer(request_line));
      co_await d.channel.send_eof();
    } else {
      range = {http::RangeAnswer::whole, 0, *size};
    }

    http::bhttp::response_header<> header;
    header.version(11);
    header.result(range.kind == http::RangeAnswer::partial ? http::Status::partial_content : http::Status::ok);
    header.set(http::bhttp::field::content_type, "application/octet-stream");
    header.set(http::bhttp::field::accept_ranges, "bytes");
    header.set(http::bhttp::field::content_length, std::to_string(range.length));
    if (range.kind == http::RangeAnswer::partial)
      header.set(http::bhttp::field::content_range, http::content_range(range, *size));
    set_firecrest_headers(header, d.call.ctx);
    co_await d.call.ctx.writer->begin(std::move(header));

    std::uint64_t left = range.length;
    if (!rest.empty() && left > 0) {
      auto n = std::min<std::uint64_t>(rest.size(), left);
      co_await d.call.ctx.writer->write(asio::buffer(rest.data(), n));
      left -= n;
    }
    while (left > 0) {
      auto n = co_await d.channel.async_read_some(ssh::Stream::out, asio::buffer(buffer));
      if (n == 0) throw Failure(ErrorKind::internal, "the file became shorter while it was downloaded");
      n = std::min<std::uint64_t>(n, left);
      co_await d.call.ctx.writer->write(asio::buffer(buffer.data(), n));
      left -= n;
    }
    co_await d.call.ctx.writer->finish();
    d.channel.close();  // a file that grew meanwhile: what is past the promised length is not wanted
  } catch (...) {
    d.channel.close();  // ends the stderr reader too
    throw;
  }
}

asio::awaitable<Response> download(Call& c) {
  auto path = required_path(c);
  require_up(*c.cluster, status::ServiceType::ssh);
  const auto& ssh = c.cluster->config().ssh;
  const bool ranged = c.request.find(http::bhttp::field::range) != c.request.end();
  auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
  auto argv = filesystem::download_argv(path, ranged);
  auto channel = co_await runner.open(std::move(argv), std::chrono::steady_clock::now() + ssh.command_timeout);
  CloseOnExit guard{channel};
  auto executor = co_await asio::this_coro::executor;
  Download d{c, channel, ranged, {}, false, std::nullopt,
             std::make_shared<Watchdog>(executor, ssh.command_timeout, channel)};

  auto [order, pump_error, drain_error] =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(executor, pump_download(d), asio::deferred),
          asio::co_spawn(executor, ssh::drain(channel, ssh::Stream::err, kMaxStderr, d.err, d.err_truncated), asio::deferred))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  (void)order;
  if (pump_error) std::rethrow_exception(pump_error);
  if (c.ctx.writer->begun()) co_return empty_response(http::Status::ok);  // sent; this is for the audit line
  if (d.early) co_return std::move(*d.early);
  if (drain_error && !d.watchdog->fired()) std::rethrow_exception(drain_error);
  auto result = co_await script_result(channel, d.err, d.watchdog->fired());
  throw script_failure(result, "download");
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
