#pragma once
// One SFTP session on a channel of a pooled connection (subsystem "sftp"): core::RemoteFiles
// for the connection's user, many requests in flight on the one channel, each reply matched to
// its request by id. The pool keeps one per connection (pool.hpp).
//
// Why by hand rather than libssh's sftp_* API: those calls block, each waiting for its reply
// inside libssh (and reading other channels' packets meanwhile), while every connection of the
// process is driven non-blocking on the Asio loop (connection.hpp): one blocking call would hold
// an I/O thread, and one request at a time would cost a round trip per call. The protocol's
// bytes are in sftp_protocol.hpp; this file is the session.
//
// - Back-pressure: at most kMaxInFlight requests unanswered and kMaxQueued bytes waiting to be
//   sent; further callers wait, in order, until their deadline. A file reads and writes ahead a
//   bounded number of bytes (RemoteFile).
// - Deadlines: each request is answered within `timeout` (the cluster's command_timeout), or the
//   session is closed: the server answers in order, one request at a time, so a request left
//   unanswered means it is stuck (a hung file system, a FIFO someone put in place of a file),
//   and every request on the session fails with timeout. The next call starts a new session.
// - Closing: with its connection (requests fail with backend_unreachable), on bytes that are not
//   the protocol, or close(). A closed session stays closed: alive() is false from then on.
//
// Thread-safety: every public member from any thread; the state lives on the connection's strand.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/remote_files.hpp"
#include "ssh/channel.hpp"
#include "ssh/connection.hpp"
#include "ssh/sftp_protocol.hpp"

namespace portico::ssh {

class SftpSession final : public core::RemoteFiles, public std::enable_shared_from_this<SftpSession> {
  struct Private {};

 public:
  using Strand = Connection::Strand;
  using Clock = std::chrono::steady_clock;

  static constexpr std::size_t kMaxInFlight = 64;
  static constexpr std::size_t kMaxQueued = 1024 * 1024;
  // Reads and writes are cut into pieces of this size (or the server's limit, if lower), and a
  // file keeps at most kAhead of them in flight: 2 MiB, enough to fill a fast link's pipe.
  static constexpr std::size_t kPiece = 128 * 1024;
  static constexpr std::size_t kAhead = 16;

  struct Settings {
    std::string cluster;  // for messages
    std::chrono::milliseconds timeout{60'000};
  };

  // Starts the session on `channel`, a channel of a connection whose strand is `strand`, on
  // which the sftp subsystem was started: INIT, the server's VERSION, and its limits. Throws
  // core::Failure (backend_unreachable, timeout) when the server does not speak SFTP v3 in time.
  static boost::asio::awaitable<std::shared_ptr<SftpSession>> start(Strand strand, Channel channel, Settings settings);

  SftpSession(Private, Strand strand, Channel channel, Settings settings);
  ~SftpSession() override;
  SftpSession(const SftpSession&) = delete;
  SftpSession& operator=(const SftpSession&) = delete;

  bool alive() const noexcept { return alive_.load(std::memory_order_acquire); }
  // When the last request was made or answered, and how many are unanswered: for the pool's
  // idle sweep.
  Clock::time_point last_used() const noexcept { return Clock::time_point(Clock::duration(last_used_.load())); }
  std::size_t in_flight() const noexcept { return in_flight_.load(); }
  const sftp::Version& version() const noexcept { return version_; }

  // Ends the session: requests in flight fail with backend_unreachable. Any thread, idempotent.
  void close(std::string reason);

  // core::RemoteFiles
  boost::asio::awaitable<core::FileAttributes> stat(std::string path, bool follow_links) override;
  boost::asio::awaitable<std::string> read_link(std::string path) override;
  boost::asio::awaitable<std::unique_ptr<core::RemoteFile>> open(std::string path, Open mode) override;
  boost::asio::awaitable<void> make_directory(std::string path) override;
  boost::asio::awaitable<void> make_symlink(std::string target, std::string link) override;
  boost::asio::awaitable<void> set_mode(std::string path, std::uint32_t mode) override;
  boost::asio::awaitable<void> remove(std::string path) override;
  boost::asio::awaitable<void> rename(std::string from, std::string to) override;
  boost::asio::awaitable<std::string> user_name(std::uint32_t uid) override;
  boost::asio::awaitable<std::string> group_name(std::uint32_t gid) override;
  boost::asio::awaitable<std::string> local_time_zone() override;

  // A request on its way: its answer arrives in `type` and `body` (a DATA reply's body is the
  // data itself), or `error` is set.
  struct Pending {
    Pending(const Strand& strand, Clock::time_point deadline) : timer(strand, deadline), deadline(deadline) {}
    boost::asio::steady_timer timer;  // cancelled when the answer (or an error) is in
    Clock::time_point deadline;
    bool answered = false;
    sftp::Type type = sftp::Type::status;
    std::string body;
    std::exception_ptr error;
  };

  // Sends `packet` (its request id is filled in here) once there is room. Throws as the calls do.
  boost::asio::awaitable<std::shared_ptr<Pending>> send(std::string packet);
  // Waits for the answer to a request sent with send(); throws when it failed.
  boost::asio::awaitable<void> receive(std::shared_ptr<Pending> pending);
  // Sends a request nobody waits for (the CLOSE of a dropped file).
  void send_and_forget(std::string packet);

  std::size_t read_piece() const noexcept { return read_piece_; }
  std::size_t write_piece() const noexcept { return write_piece_; }
  const std::string& cluster() const noexcept { return settings_.cluster; }

 private:
  boost::asio::awaitable<std::shared_ptr<Pending>> do_send(std::string packet);
  boost::asio::awaitable<void> do_receive(std::shared_ptr<Pending> pending);
  boost::asio::awaitable<void> handshake();
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> drain_errors();
  boost::asio::awaitable<std::string> name_of(bool user, std::uint32_t id);
  void dispatch(std::string_view packet);
  void fail(std::exception_ptr error);
  void touch() noexcept { last_used_.store(Clock::now().time_since_epoch().count()); }
  // send() then receive(), for a request whose answer is a STATUS.
  boost::asio::awaitable<void> status_call(std::string packet);
  boost::asio::awaitable<std::shared_ptr<Pending>> call(std::string packet);

  Strand strand_;
  Channel channel_;
  const Settings settings_;
  sftp::Version version_;
  std::size_t read_piece_ = 32 * 1024;  // the draft's minimum, until the server tells its limits
  std::size_t write_piece_ = 32 * 1024;

  // Strand-only.
  std::uint32_t next_id_ = 1;
  std::unordered_map<std::uint32_t, std::shared_ptr<Pending>> pending_;
  std::deque<std::string> outbox_;
  std::size_t queued_ = 0;  // bytes in outbox_ and being written
  bool writing_ = false;
  detail::Signal room_;     // a request was answered or bytes went out
  std::vector<char> in_;    // bytes read, [in_begin_, in_end_) not yet a whole packet
  std::size_t in_begin_ = 0, in_end_ = 0;
  std::unordered_map<std::uint32_t, std::string> users_, groups_;
  std::string err_;         // the server's stderr, read and dropped
  bool err_truncated_ = false;

  std::mutex zone_mutex_;
  std::optional<std::string> zone_;  // local_time_zone(), once read

  std::atomic<bool> alive_{true};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<Clock::rep> last_used_{0};
};

}  // namespace portico::ssh
