#pragma once
// Streaming a file between an HTTP body and an SSH channel running as the user, shared by the
// APIs: the pieces both directions use, and the upload of a multipart body's file part (written
// to a temporary file beside the target, fsynced, then renamed over it: the target is never
// partial, and an interrupted upload leaves nothing behind). Never holds the file in memory: each
// side waits for the other. The remote scripts are in filesystem/stream_commands.cpp.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster.hpp"
#include "core/command.hpp"
#include "core/error.hpp"
#include "http/types.hpp"
#include "ssh/channel.hpp"

namespace portico::transfer {

constexpr std::size_t kChunk = 256 * 1024;
constexpr std::size_t kMaxStderr = 16 * 1024;

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
  Watchdog(boost::asio::any_io_executor executor, std::chrono::milliseconds limit, ssh::Channel channel);
  ~Watchdog() { timer_->cancel(); }
  void stop() { timer_->cancel(); }
  bool fired() const { return *fired_; }

 private:
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<bool> fired_;
};

// Reads stdout up to and including the first newline; returns the line and keeps what came
// after it in `rest`. nullopt when stdout ended first (the script failed).
boost::asio::awaitable<std::optional<std::string>> first_line(ssh::Channel channel, std::vector<char>& buffer,
                                                              std::string& rest);

// How a script ended, once it ended without its first line (it failed, or the watchdog fired).
boost::asio::awaitable<core::CommandResult> script_result(ssh::Channel channel, const std::string& err, bool timed_out);

// The failure a streaming script's outcome means (a path that is not a regular file: 400).
// (Not thrown from inside a co_await expression: g++ 12 frees such an exception twice.)
core::Failure script_failure(const core::CommandResult& result, std::string_view what);

// Uploads the part named "file" of the multipart body (`content_type` gives its boundary) into
// the directory `dir` (returned by confine()), under the part's filename; returns the target's
// path. At most `limit` bytes of file. Throws core::Failure: validation (no body, not multipart,
// no file part or two, a bad filename), too_large, or what the remote tools' errors mean.
// `request_id`: for the log line of a temporary file that could not be removed.
boost::asio::awaitable<std::string> upload(cluster::UserRunner& runner, const config::Ssh& ssh, http::BodyReader* body,
                                           std::string_view content_type, const std::string& dir, std::uint64_t limit,
                                           std::string request_id);

}  // namespace portico::transfer
