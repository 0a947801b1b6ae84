#pragma once
// One authenticated SSH connection: a non-blocking libssh session driven by Boost.Asio.
//
// Every libssh call of a session (and of its channels) runs on the connection's strand, so a
// session is never used by two threads at once although the server runs several I/O threads.
// libssh processes incoming packets inside whatever call is made, for every channel of the
// session; channels therefore learn about their data, EOF, exit status and close through libssh
// channel callbacks, which wake exactly the coroutines that wait for them. One "pump" keeps a
// wait for readability on the socket at all times, so a packet that arrives while nobody calls
// libssh is still processed.
//
// The pool owns connections; Channel is the handle users see. Nothing here is meant to be used
// outside src/ssh.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ssh/channel.hpp"

namespace portico::ssh {

class CredentialProvider;
class Connection;

namespace detail {

using Clock = std::chrono::steady_clock;

// Wakes the coroutines of one strand that wait for "something changed". Each waiter arms its own
// timer (its deadline); notify() cancels them all. Waiters re-check their condition after every
// wake-up, so a spurious one costs a loop turn, never correctness. Strand-only.
class Signal {
 public:
  // true: woken by notify() (or cancelled); false: the deadline passed.
  boost::asio::awaitable<bool> wait(Clock::time_point deadline = Clock::time_point::max());
  void notify() noexcept;

 private:
  std::vector<boost::asio::steady_timer*> waiters_;
};

// Calls a function exactly once: when invoked, or at the latest when destroyed. A channel holds
// its pool slot this way, so the slot goes back on every path, exceptions included.
class Release {
 public:
  Release() = default;
  explicit Release(std::function<void()> f) : f_(std::move(f)) {}
  Release(Release&& other) noexcept : f_(std::exchange(other.f_, nullptr)) {}
  Release& operator=(Release&& other) noexcept {
    if (this != &other) {
      (*this)();
      f_ = std::exchange(other.f_, nullptr);
    }
    return *this;
  }
  Release(const Release&) = delete;
  Release& operator=(const Release&) = delete;
  ~Release() { (*this)(); }
  void operator()() noexcept {
    if (auto f = std::exchange(f_, nullptr)) f();
  }

 private:
  std::function<void()> f_;
};

// What libssh's channel callbacks tell us about one channel, plus the output they delivered.
// Strand-only, like the session.
struct ChannelState {
  struct Input {
    std::string data;
    std::size_t head = 0;  // bytes of data already handed out
    bool held = false;     // libssh holds more that did not fit (see high_water)
    std::size_t available() const noexcept { return data.size() - head; }
  };

  // Per stream, the most we take from libssh before leaving the rest in its buffer; that stops
  // the window from growing, so a slow reader slows the command instead of filling memory.
  static constexpr std::size_t high_water = 256 * 1024;

  explicit ChannelState(Connection* owner) : connection(owner) {}

  Connection* connection;  // the owner; callbacks only run inside its libssh calls
  ssh_channel channel = nullptr;
  ssh_channel_callbacks_struct callbacks{};
  Signal signal;
  Input out, err;
  bool opening = false;   // CHANNEL_OPEN sent, no answer yet: it has no remote id to close
  bool opened = false;    // the server confirmed the channel
  bool remote_eof = false;
  bool remote_closed = false;
  bool local_eof = false;
  bool aborted = false;   // closed by us (Channel::close, a deadline, the handle dropped)
  bool lost = false;      // the connection died or was shut down
  bool detached = false;  // no Channel handle is left
  bool finished = false;  // libssh channel freed (or gone with its session), slot released
  std::optional<int> exit_status;
  std::string exit_signal;
  bool core_dumped = false;
  Release slot;
};

}  // namespace detail

// Why Connection::exec() failed before the command was sent: the pool retries these once.
class OpenError : public std::runtime_error {
 public:
  enum class Kind {
    connection_lost,  // the connection died: retry on a fresh one
    refused,          // the server refused a channel on a live connection (over its MaxSessions?)
  };
  OpenError(Kind kind, const std::string& reason) : std::runtime_error(reason), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// The server refused to start a subsystem on a live connection: it has no such subsystem.
class SubsystemRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Connection : public std::enable_shared_from_this<Connection> {
  struct Private {};

 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;
  using Clock = detail::Clock;

  struct Settings {
    std::string cluster;  // for messages
    std::string host;
    std::uint16_t port = 22;
    std::string user;
    std::shared_ptr<ssh_key_struct> host_key;  // the pinned host key; only read
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds keepalive{30'000};  // 0: none
  };

  // Connects (TCP, key exchange, host key check, authentication) within connect_timeout.
  // on_closed(id, reason) is called once, on the connection's strand, when an established
  // connection ends for any reason. Throws core::Failure(backend_unreachable) when the server cannot be reached,
  // presents another host key or refuses the credential, and whatever credential_for() throws.
  static boost::asio::awaitable<std::shared_ptr<Connection>> open(boost::asio::any_io_executor executor,
                                                                  Settings settings,
                                                                  CredentialProvider& credentials,
                                                                  std::function<void(std::uint64_t, const std::string&)> on_closed);

  Connection(Private, boost::asio::any_io_executor executor, Settings settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens a session channel and sends the exec request; `slot` is released when the channel is
  // done (or at once if this fails). Throws OpenError when no channel could be opened,
  // core::Failure(timeout) at the deadline, core::Failure(backend_unreachable) when the server
  // refused the command or the connection died after the request was sent.
  boost::asio::awaitable<Channel> exec(std::string command_line, Clock::time_point deadline, detail::Release slot);

  // Opens a session channel and starts the subsystem `name` on it ("sftp"), as exec() a
  // command. Throws SubsystemRefused when the server refuses it, otherwise as exec().
  boost::asio::awaitable<Channel> subsystem(std::string name, Clock::time_point deadline, detail::Release slot);

  // Disconnects politely; running channels fail as lost. Any thread, idempotent.
  void close(std::string reason);

  bool alive() const noexcept { return alive_.load(std::memory_order_acquire); }
  std::uint64_t id() const noexcept { return id_; }
  Clock::time_point established() const noexcept { return established_; }
  Strand& strand() noexcept { return strand_; }

  // Channel operations, for Channel: each must be awaited on strand().
  boost::asio::awaitable<std::size_t> read_some(std::shared_ptr<detail::ChannelState> st, Stream stream,
                                                boost::asio::mutable_buffer buffer);
  boost::asio::awaitable<void> write(std::shared_ptr<detail::ChannelState> st, boost::asio::const_buffer data);
  boost::asio::awaitable<void> send_eof(std::shared_ptr<detail::ChannelState> st);
  boost::asio::awaitable<ExitInfo> wait_exit(std::shared_ptr<detail::ChannelState> st);
  // Any thread.
  void abort(std::shared_ptr<detail::ChannelState> st);
  void detach(std::shared_ptr<detail::ChannelState> st);

 private:
  boost::asio::awaitable<void> establish(CredentialProvider& credentials);
  boost::asio::awaitable<std::string> connect_to(const std::string& address, bool& reached_ssh);
  boost::asio::awaitable<void> authenticate(CredentialProvider& credentials);
  boost::asio::awaitable<void> wait_socket();
  // What a new channel starts: a command line, or a subsystem's name.
  enum class Start { exec, subsystem };
  boost::asio::awaitable<Channel> do_open(Start start, std::string what, Clock::time_point deadline, detail::Release slot);
  boost::asio::awaitable<void> keepalive_loop();
  boost::asio::awaitable<void> settle_open(std::shared_ptr<detail::ChannelState> st);
  boost::asio::awaitable<void> hang_up(std::shared_ptr<detail::ChannelState> st);
  bool hung_up(const detail::ChannelState& st) const noexcept;
  void arm_connect_deadline();
  void verify_host_key();
  void start_pump();
  void arm_read();
  void arm_write();
  void drive();
  void teardown(const std::string& reason, bool graceful);
  void abort_now(const std::shared_ptr<detail::ChannelState>& st);
  void detach_now(const std::shared_ptr<detail::ChannelState>& st);
  void finish(const std::shared_ptr<detail::ChannelState>& st);
  void reap();
  void free_session() noexcept;
  [[noreturn]] void fail_connect(const std::string& reason, std::string detail = {}) const;
  std::string lost_message() const;

  // Every libssh call goes through here: afterwards, wake waiters when input was processed,
  // notice a dead session, and make sure pending output gets flushed.
  template <class F>
  auto call(F&& f) {
    const auto before = counter_.in_bytes;
    auto rc = f();
    after_call(before);
    return rc;
  }
  void after_call(std::uint64_t in_before);
  bool session_dead() const noexcept;

  static int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* user);
  static void on_eof(ssh_session, ssh_channel, void* user);
  static void on_close(ssh_session, ssh_channel, void* user);
  static void on_exit_status(ssh_session, ssh_channel, int status, void* user);
  static void on_exit_signal(ssh_session, ssh_channel, const char* signal, int core, const char* errmsg,
                             const char* lang, void* user);

  Strand strand_;
  const Settings settings_;
  const std::uint64_t id_;
  ssh_session session_ = nullptr;
  ssh_event event_ = nullptr;
  ssh_counter_struct counter_{};
  // A dup of libssh's socket, for waiting only. libssh closes its own descriptor by itself on
  // EOF, a DISCONNECT or a write error (inside any call); had Asio registered that very number,
  // a new socket reusing it on another thread could lose its epoll registration when we let go
  // of ours. With a dup, each side closes exactly the descriptor it owns.
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer timer_;     // keepalive ticks
  boost::asio::steady_timer deadline_;  // connect_timeout while establishing
  std::optional<boost::asio::ip::tcp::resolver> resolver_;
  detail::Signal progress_;  // input processed, output flushed, or the connection ended
  std::vector<std::shared_ptr<detail::ChannelState>> channels_;
  std::function<void(std::uint64_t, const std::string&)> on_closed_;
  std::string close_reason_;
  Clock::time_point established_{};
  Clock::time_point last_input_{};
  bool connect_timed_out_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  std::atomic<bool> alive_{false};
};

// Channel's shared handle: when the last copy goes, the channel is closed.
struct Channel::Handle {
  Handle(std::shared_ptr<Connection> c, std::shared_ptr<detail::ChannelState> s)
      : connection(std::move(c)), state(std::move(s)) {}
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  std::shared_ptr<Connection> connection;
  std::shared_ptr<detail::ChannelState> state;
};

}  // namespace portico::ssh
