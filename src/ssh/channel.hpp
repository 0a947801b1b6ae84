#pragma once
// One command running on a pooled SSH connection: a session channel after its "exec" request.
// Pool::exec() hands one out; Pool::run() is built on it, and streaming (a file download into an
// HTTP body, an upload from one) uses the same calls.
//
// Thread-safety: a Channel may be used from any thread; every call hops to its connection's
// strand, where all libssh calls of that connection run. At most one async_read_some per stream
// and one async_write may be pending at a time; reading both streams and writing concurrently is
// fine (and needed: see async_read_some).
//
// Lifetime: when the last copy of the handle goes away, the channel is closed as by close()
// unless the server had already closed it; the pool's channel slot is released once the server
// has closed its side too.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace portico::ssh {

class Connection;
namespace detail {
struct ChannelState;
}

enum class Stream { out, err };

struct ExitInfo {
  std::optional<int> status;  // absent when the server sent none (killed by a signal, or sshd gave up)
  std::string signal;         // "KILL", "TERM", ... when killed by a signal
  bool core_dumped = false;
};

class Channel {
 public:
  Channel() = default;

  // Reads up to buffer.size() bytes of the command's stdout or stderr; returns 0 at the end of
  // that stream (and for an empty buffer). SSH has one flow-control window per channel for both streams, and each stream
  // buffers only a bounded amount: a caller that stops reading one stream stalls the other, so
  // read both (discarding what is not wanted).
  // Throws core::Failure(backend_unreachable) when the connection is lost, and
  // boost::system::system_error(operation_aborted) after close().
  boost::asio::awaitable<std::size_t> async_read_some(Stream stream, boost::asio::mutable_buffer buffer);

  // Writes all of data to the command's stdin, as fast as the server's window allows. The
  // buffer must stay valid until this completes. Throws system_error(broken_pipe) when the
  // command has already ended (the server closed the channel), otherwise as async_read_some.
  boost::asio::awaitable<void> async_write(boost::asio::const_buffer data);

  // Sends EOF on stdin (idempotent; a no-op once the server has closed the channel).
  boost::asio::awaitable<void> send_eof();

  // Waits until the server closes the channel, which it does after the command exited and all of
  // its output was sent. Output not read by then is discarded when the channel is closed.
  boost::asio::awaitable<ExitInfo> wait_exit();

  // Closes the channel now: the command's process group is sent KILL (sshd honours the "signal"
  // request except for forced-command and subsystem sessions), then the channel is closed.
  // Pending and later calls end with operation_aborted. Idempotent, any thread, never blocks.
  // The pool slot is released when the server has closed its side (once the command is gone).
  void close() noexcept;

  explicit operator bool() const noexcept { return handle_ != nullptr; }

 private:
  friend class Connection;
  struct Handle;
  explicit Channel(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {}

  std::shared_ptr<Handle> handle_;
};

// Reads one stream of the channel to its end, keeping the first `cap` bytes in `out` and setting
// `truncated` when more came: the command must never block on a full pipe, and SSH's window is
// shared by both streams. Throws as Channel::async_read_some.
boost::asio::awaitable<void> drain(Channel channel, Stream stream, std::size_t cap, std::string& out, bool& truncated);

}  // namespace portico::ssh
