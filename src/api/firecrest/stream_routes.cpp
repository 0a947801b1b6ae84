// /filesystem/{system}/ops/download and /ops/upload: file bytes streamed between the HTTP
// connection and an SSH channel running as the caller, never held whole in memory. Each side
// waits for the other (the next piece is read only once the previous one is written), so memory
// stays at a few buffers whatever the size, and a slow client slows the cluster side down.
// The remote scripts are in filesystem/stream_commands.cpp.

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

namespace portico::api::firecrest {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;
using http::Response;
using http::Verb;

namespace {

constexpr std::size_t kChunk = 256 * 1024;
// What a multipart body may carry besides the file (delimiters, part headers, small fields).
constexpr std::uint64_t kMultipartOverhead = 64 * 1024;
constexpr std::size_t kMaxStderr = 16 * 1024;

std::string required_path(const Call& c) {
  auto path = query_param(c.query, "path");
  if (!path) throw core::validation_error("query", "path", "is required");
  return filesystem::confine(*path, c.cluster->config().file_systems, "query", "path");
}

// Closes the channel when its owner leaves, however it leaves.
struct CloseOnExit {
  ssh::Channel channel;
  ~CloseOnExit() {
    if (channel) channel.close();
  }
};

// Closes the channel if the command has not produced its first line within the cluster's command
// timeout (a hung file system): the reads then end and the caller reports a timeout.
class Watchdog {
 public:
  Watchdog(asio::any_io_executor executor, std::chrono::milliseconds limit, ssh::Channel channel)
      : timer_(std::make_shared<asio::steady_timer>(executor, limit)), fired_(std::make_shared<bool>(false)) {
    timer_->async_wait([fired = fired_, channel = std::move(channel)](boost::system::error_code ec) mutable {
      if (ec) return;
      *fired = true;
      channel.close();
    });
  }
  ~Watchdog() { timer_->cancel(); }
  void stop() { timer_->cancel(); }
  bool fired() const { return *fired_; }

 private:
  std::shared_ptr<asio::steady_timer> timer_;
  std::shared_ptr<bool> fired_;
};

// Reads stdout up to and including the first newline; returns the line and keeps what came
// after it in `rest`. nullopt when stdout ended first (the script failed).
asio::awaitable<std::optional<std::string>> first_line(ssh::Channel channel, std::vector<char>& buffer, std::string& rest) {
  std::string head;
  for (;;) {
    auto n = co_await channel.async_read_some(ssh::Stream::out, asio::buffer(buffer));
    if (n == 0) co_return std::nullopt;
    head.append(buffer.data(), n);
    if (auto nl = head.find('\n'); nl != std::string::npos) {
      rest = head.substr(nl + 1);
      head.resize(nl);
      co_return head;
    }
    if (head.size() > 64) throw Failure(ErrorKind::internal, "unexpected output from the transfer script");
  }
}

// How a script ended, once it ended without its first line (it failed, or the watchdog fired).
asio::awaitable<core::CommandResult> script_result(ssh::Channel channel, const std::string& err, bool timed_out) {
  core::CommandResult result;
  result.err = err;
  if (timed_out) {
    result.timed_out = true;
  } else {
    auto exit = co_await channel.wait_exit();
    result.exit_status = exit.signal.empty() ? exit.status.value_or(-1) : -1;
    result.signal = exit.signal;
  }
  co_return result;
}

// (Not thrown from inside a co_await expression: g++ 12 frees such an exception twice.)
Failure script_failure(const core::CommandResult& result, std::string_view what) {
  if (filesystem::is_not_regular_file_message(result.err))
    return Failure(ErrorKind::bad_request, "not a regular file: only regular files can be downloaded");
  return filesystem::command_failure(result, what);
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

struct Upload {
  Call& call;
  ssh::Channel channel;
  http::MultipartReader reader;
  std::string dir;
  std::uint64_t limit;
  std::string err;
  bool err_truncated = false;
  std::string target;     // known once the file part's headers have arrived
  bool ready = false;     // the temporary file exists
  bool complete = false;  // every byte of the file part was written, then EOF
  std::shared_ptr<Watchdog> watchdog;
};

// Feeds the reader from the request body until it has a step other than need_input.
asio::awaitable<http::MultipartReader::Step> next_step(http::BodyReader& body, http::MultipartReader& reader,
                                                       std::vector<char>& buffer) {
  for (;;) {
    auto step = reader.next();
    if (step.kind != http::MultipartReader::Step::need_input) co_return step;
    auto n = co_await body.read_some(asio::buffer(buffer));
    if (n == 0)
      reader.finish_input();
    else
      reader.feed(std::string_view(buffer.data(), n));
  }
}

// Once the script is ready: the request body is read (only now: a client that sent
// "Expect: 100-continue" to a bad directory has not sent it), the file part's name makes the
// target, its bytes go to the command's stdin, and the rest of the body must not hold a second
// file part.
asio::awaitable<void> pump_upload(Upload& u) {
  using Step = http::MultipartReader::Step;
  try {
    std::vector<char> buffer(kChunk);
    std::string rest;
    auto line = co_await first_line(u.channel, buffer, rest);
    u.watchdog->stop();
    if (!line) co_return;  // the script refused: its stderr says why
    if (*line != "ready") throw Failure(ErrorKind::internal, "unexpected output from the upload script");
    u.ready = true;

    auto& body = *u.call.ctx.body;
    for (;;) {
      auto step = co_await next_step(body, u.reader, buffer);
      if (step.kind == Step::end) throw core::validation_error("body", "file", "is required (a multipart part named \"file\")");
      if (step.kind != Step::part || step.headers.name != "file") continue;
      if (!step.headers.filename) throw core::validation_error("body", "file", "the file part has no filename");
      u.target = filesystem::child_path(u.dir, filesystem::confine_target_name(*step.headers.filename, "body", "file"));
      break;
    }
    // The body arrives in pieces as small as the client's TCP segments: they are gathered into
    // chunks, as each channel write costs a hop to the SSH connection's strand and an SSH packet.
    std::uint64_t written = 0;
    std::string chunk;
    chunk.reserve(kChunk);
    for (;;) {
      auto step = co_await next_step(body, u.reader, buffer);
      const bool last = step.kind == Step::part_end || step.kind == Step::end;
      if (step.kind == Step::bytes) {
        written += step.data.size();
        if (written > u.limit)
          throw Failure(ErrorKind::too_large, "the file exceeds this system's upload limit of " + std::to_string(u.limit) + " bytes");
        chunk.append(step.data);
      }
      if (!chunk.empty() && (last || chunk.size() >= kChunk)) {
        co_await u.channel.async_write(asio::buffer(chunk));
        chunk.clear();
      }
      if (last) break;
    }
    for (;;) {
      auto step = co_await next_step(body, u.reader, buffer);
      if (step.kind == Step::end) break;
      if (step.kind == Step::part && step.headers.name == "file")
        throw core::validation_error("body", "file", "must be given once, not twice");
    }
    while (co_await body.read_some(asio::buffer(buffer)) > 0) {
    }  // an epilogue: read, so that the connection can be kept
    co_await u.channel.send_eof();
    u.complete = true;
  } catch (...) {
    u.channel.close();
    throw;
  }
}

asio::awaitable<Response> upload(Call& c) {
  auto dir = required_path(c);
  auto* body = c.ctx.body;  // null when the request has no body at all
  if (!body) throw core::validation_error("body", "file", "is required (a multipart part named \"file\")");
  const auto limit = c.cluster->config().max_upload_bytes;
  auto length = body->content_length();
  if (length && *length > limit + kMultipartOverhead)
    throw Failure(ErrorKind::too_large, "the upload (" + std::to_string(*length) + " bytes) exceeds this system's limit of " +
                                            std::to_string(limit) + " bytes");
  auto boundary = http::multipart_boundary(c.request[http::bhttp::field::content_type]);
  if (!boundary) throw core::validation_error("body", "file", "the body must be multipart/form-data with a boundary");

  auto temp = filesystem::upload_temp_name(dir, core::random_bytes(16));
  require_up(*c.cluster, status::ServiceType::ssh);
  const auto& ssh = c.cluster->config().ssh;
  auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
  auto argv = filesystem::upload_argv(dir, temp);
  auto channel = co_await runner.open(std::move(argv), std::chrono::steady_clock::now() + ssh.command_timeout);
  CloseOnExit guard{channel};
  auto executor = co_await asio::this_coro::executor;
  auto watchdog = std::make_shared<Watchdog>(executor, ssh.command_timeout, channel);
  Upload u{c, channel, http::MultipartReader(*boundary), dir, limit, {}, false, {}, false, false, watchdog};

  std::exception_ptr failure;
  try {
    auto [order, pump_error, drain_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, pump_upload(u), asio::deferred),
            asio::co_spawn(executor, ssh::drain(channel, ssh::Stream::err, kMaxStderr, u.err, u.err_truncated), asio::deferred))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    if (pump_error) std::rethrow_exception(pump_error);
    if (!u.ready) {
      if (drain_error && !u.watchdog->fired()) std::rethrow_exception(drain_error);
      auto result = co_await script_result(channel, u.err, u.watchdog->fired());
      throw script_failure(result, "upload");
    }
    auto exit = co_await channel.wait_exit();
    if (!u.complete || exit.status.value_or(-1) != 0 || !exit.signal.empty()) {
      core::CommandResult result;
      result.err = u.err;
      result.exit_status = exit.signal.empty() ? exit.status.value_or(-1) : -1;
      result.signal = exit.signal;
      throw filesystem::command_failure(result, "upload");
    }
    core::Command commit;
    commit.argv = filesystem::upload_commit_argv(temp, u.target);
    auto result = co_await runner.run(std::move(commit));
    if (!result.ok()) throw filesystem::command_failure(result, "upload");
    co_return empty_response(http::Status::no_content);
  } catch (...) {
    failure = std::current_exception();
  }
  // Whatever went wrong once the script had created the temporary file, that file goes; the
  // target was never touched.
  channel.close();
  if (u.ready) {
    try {
      core::Command cleanup;
      cleanup.argv = filesystem::upload_cleanup_argv(temp);
      co_await runner.run(std::move(cleanup));
    } catch (const std::exception& e) {
      spdlog::warn("request {}: could not remove an interrupted upload's temporary file: {}", c.ctx.request_id, e.what());
    }
  }
  std::rethrow_exception(failure);
}

}  // namespace

void add_stream_routes(Api& api) {
  api.add(Verb::get, "/filesystem/{system_name}/ops/download", {download});
  Route up{upload};
  up.streams_body = true;
  api.add(Verb::post, "/filesystem/{system_name}/ops/upload", std::move(up));
}

}  // namespace portico::api::firecrest
