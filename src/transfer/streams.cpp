#include "transfer/streams.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "core/bytes.hpp"
#include "filesystem/errors.hpp"
#include "filesystem/paths.hpp"
#include "filesystem/stream_commands.hpp"
#include "http/multipart.hpp"

namespace portico::transfer {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;

// What a multipart body may carry besides the file (delimiters, part headers, small fields).
constexpr std::uint64_t kMultipartOverhead = 64 * 1024;

Watchdog::Watchdog(asio::any_io_executor executor, std::chrono::milliseconds limit, ssh::Channel channel)
    : timer_(std::make_shared<asio::steady_timer>(executor, limit)), fired_(std::make_shared<bool>(false)) {
  timer_->async_wait([fired = fired_, channel = std::move(channel)](boost::system::error_code ec) mutable {
    if (ec) return;
    *fired = true;
    channel.close();
  });
}

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

Failure script_failure(const core::CommandResult& result, std::string_view what) {
  if (filesystem::is_not_regular_file_message(result.err))
    return Failure(ErrorKind::bad_request, "not a regular file: only regular files can be downloaded");
  return filesystem::command_failure(result, what);
}

namespace {

struct Upload {
  http::BodyReader& body;
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

    auto& body = u.body;
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

}  // namespace

asio::awaitable<std::string> upload(cluster::UserRunner& runner, const config::Ssh& ssh, http::BodyReader* body,
                                    std::string_view content_type, const std::string& dir, std::uint64_t limit,
                                    std::string request_id) {
  if (!body) throw core::validation_error("body", "file", "is required (a multipart part named \"file\")");
  auto length = body->content_length();
  if (length && *length > limit + kMultipartOverhead)
    throw Failure(ErrorKind::too_large, "the upload (" + std::to_string(*length) + " bytes) exceeds this system's limit of " +
                                            std::to_string(limit) + " bytes");
  auto boundary = http::multipart_boundary(content_type);
  if (!boundary) throw core::validation_error("body", "file", "the body must be multipart/form-data with a boundary");

  auto temp = filesystem::upload_temp_name(dir, core::random_bytes(16));
  auto argv = filesystem::upload_argv(dir, temp);
  auto channel = co_await runner.open(std::move(argv), std::chrono::steady_clock::now() + ssh.command_timeout);
  CloseOnExit guard{channel};
  auto executor = co_await asio::this_coro::executor;
  auto watchdog = std::make_shared<Watchdog>(executor, ssh.command_timeout, channel);
  Upload u{*body, channel, http::MultipartReader(*boundary), dir, limit, {}, false, {}, false, false, watchdog};

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
    co_return u.target;
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
      spdlog::warn("request {}: could not remove an interrupted upload's temporary file: {}", request_id, e.what());
    }
  }
  std::rethrow_exception(failure);
}


}  // namespace portico::transfer
