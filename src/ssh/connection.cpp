#include "ssh/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fcntl.h>
#include <unistd.h>
#include <libssh/server.h>  // ssh_send_keepalive, which clients may send too
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "core/error.hpp"
#include "ssh/credentials.hpp"

namespace portico::ssh {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;

namespace {

std::atomic<std::uint64_t> next_connection_id{1};

// "SHA256:...", as ssh-keygen -l prints it.
std::string fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  std::size_t length = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) != SSH_OK) return "(unknown)";
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
  ssh_clean_pubkey_hash(&hash);
  if (!text) return "(unknown)";
  std::string out(text);
  ssh_string_free_char(text);
  return out;
}

// Ask for the pinned key's algorithm, so a server with several host keys presents the one we
// can check rather than its preferred one.
std::string host_key_algorithms(ssh_key key) {
  auto type = ssh_key_type(key);
  if (type == SSH_KEYTYPE_RSA) return "rsa-sha2-512,rsa-sha2-256";
  const char* name = ssh_key_type_to_char(type);
  return name ? name : "";
}

const char* error_of(ssh_session session) {
  const char* text = session ? ssh_get_error(session) : nullptr;
  return text && *text ? text : "unknown error";
}

void append(detail::ChannelState::Input& in, const char* data, std::size_t n) {
  if (in.head > 0 && in.head == in.data.size()) {
    in.data.clear();
    in.head = 0;
  }
  in.data.append(data, n);
}

}  // namespace

// ---- Signal -----------------------------------------------------------------------------

asio::awaitable<bool> detail::Signal::wait(Clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  waiters_.push_back(&timer);
  auto result = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::erase(waiters_, &timer);
  co_return std::get<0>(result) == asio::error::operation_aborted;
}

void detail::Signal::notify() noexcept {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto* timer : waiters) timer->cancel();
}

// ---- establishing -------------------------------------------------------------------------

Connection::Connection(Private, asio::any_io_executor executor, Settings settings)
    : strand_(asio::make_strand(executor)),
      settings_(std::move(settings)),
      id_(next_connection_id.fetch_add(1)),
      socket_(strand_),
      timer_(strand_),
      deadline_(strand_) {}

Connection::~Connection() { free_session(); }

void Connection::free_session() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (event_) {
    ssh_event_free(event_);
    event_ = nullptr;
  }
  if (session_) {
    ssh_free(session_);  // closes libssh's descriptor if still open
    session_ = nullptr;
  }
}

asio::awaitable<std::shared_ptr<Connection>> Connection::open(asio::any_io_executor executor, Settings settings,
                                                              CredentialProvider& credentials,
                                                              std::function<void(std::uint64_t, const std::string&)> on_closed) {
  auto connection = std::make_shared<Connection>(Private{}, executor, std::move(settings));
  connection->on_closed_ = std::move(on_closed);
  co_await asio::co_spawn(connection->strand_, connection->establish(credentials), asio::use_awaitable);
  co_return connection;
}

void Connection::fail_connect(const std::string& reason, std::string detail) const {
  if (detail.empty()) detail = settings_.host + ":" + std::to_string(settings_.port) + " as " + settings_.user;
  throw Failure(ErrorKind::backend_unreachable, "cannot reach " + settings_.cluster + " over SSH: " + reason,
                std::move(detail));
}

asio::awaitable<void> Connection::establish(CredentialProvider& credentials) {
  auto self = shared_from_this();
  arm_connect_deadline();
  struct CancelDeadline {
    asio::steady_timer& timer;
    ~CancelDeadline() { timer.cancel(); }
  } cancel_deadline{deadline_};

  // Resolving here keeps getaddrinfo off the I/O threads: libssh would call it synchronously.
  resolver_.emplace(strand_);
  auto resolved = co_await resolver_->async_resolve(settings_.host, std::to_string(settings_.port),
                                                    asio::as_tuple(asio::use_awaitable));
  resolver_.reset();
  if (connect_timed_out_) fail_connect("timed out resolving " + settings_.host);
  if (std::get<0>(resolved)) fail_connect("cannot resolve " + settings_.host + ": " + std::get<0>(resolved).message());

  std::string error;
  for (const auto& entry : std::get<1>(resolved)) {
    bool reached_ssh = false;
    error = co_await connect_to(entry.endpoint().address().to_string(), reached_ssh);
    // Another address helps only when this one did not answer at all.
    if (error.empty() || reached_ssh) break;
    spdlog::debug("ssh: {} ({}) port {}: {}", settings_.host, entry.endpoint().address().to_string(), settings_.port,
                  error);
  }
  if (!error.empty()) fail_connect(error);

  verify_host_key();
  co_await authenticate(credentials);

  // libssh puts the socket back into blocking mode once TCP is connected, then sends only after
  // poll() said it is writable; a blocking send() of more than fits would still hold this I/O
  // thread until the peer reads. Non-blocking, send() writes what fits and libssh keeps the rest
  // (after POLLOUT there is always room for some, so it never sees EAGAIN).
  const int fd = ssh_get_fd(session_);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) fail_connect(std::string("fcntl: ") + std::strerror(errno));

  event_ = ssh_event_new();
  if (!event_ || ssh_event_add_session(event_, session_) != SSH_OK) fail_connect("cannot set up polling of the session");

  established_ = last_input_ = Clock::now();
  alive_.store(true, std::memory_order_release);
  spdlog::debug("ssh: connection {} to {}:{} as {} established", id_, settings_.host, settings_.port, settings_.user);
  start_pump();
}

void Connection::arm_connect_deadline() {
  deadline_.expires_after(settings_.connect_timeout);
  deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->alive()) return;
    self->connect_timed_out_ = true;
    boost::system::error_code ignored;
    self->socket_.cancel(ignored);
    if (self->resolver_) self->resolver_->cancel();
  });
}

asio::awaitable<std::string> Connection::connect_to(const std::string& address, bool& reached_ssh) {
  free_session();
  counter_ = {};
  session_ = ssh_new();
  if (!session_) co_return "cannot create an SSH session";
  ssh_set_counters(session_, &counter_, nullptr);

  const std::string algorithms = host_key_algorithms(settings_.host_key.get());
  int verbosity = SSH_LOG_NOLOG;
  bool process_config = false;  // ~/.ssh/config and /etc/ssh/ssh_config are not Portico's configuration
  unsigned int port = settings_.port;
  int nodelay = 1;
  if (ssh_options_set(session_, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
      ssh_options_set(session_, SSH_OPTIONS_PROCESS_CONFIG, &process_config) < 0 ||
      ssh_options_set(session_, SSH_OPTIONS_HOST, address.c_str()) < 0 ||
      ssh_options_set(session_, SSH_OPTIONS_PORT, &port) < 0 ||
      ssh_options_set(session_, SSH_OPTIONS_USER, settings_.user.c_str()) < 0 ||
      ssh_options_set(session_, SSH_OPTIONS_HOSTKEYS, algorithms.c_str()) < 0 ||
      ssh_options_set(session_, SSH_OPTIONS_NODELAY, &nodelay) < 0)
    co_return std::string("cannot configure the SSH session: ") + error_of(session_);
  ssh_set_blocking(session_, 0);

  for (;;) {
    const int rc = ssh_connect(session_);
    if (rc == SSH_OK) co_return "";
    if (rc == SSH_ERROR) {
      reached_ssh = ssh_get_serverbanner(session_) != nullptr;
      co_return error_of(session_);
    }
    co_await wait_socket();
  }
}

asio::awaitable<void> Connection::wait_socket() {
  if (connect_timed_out_) fail_connect("timed out after " + std::to_string(settings_.connect_timeout.count()) + " ms");
  if (!socket_.is_open()) {
    const int fd = ssh_get_fd(session_);
    if (fd == SSH_INVALID_SOCKET) fail_connect(std::string("no socket: ") + error_of(session_));
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) fail_connect(std::string("dup: ") + std::strerror(errno));
    boost::system::error_code ec;
    socket_.assign(copy, ec);
    if (ec) {
      ::close(copy);
      fail_connect("cannot watch the socket: " + ec.message());
    }
  }
  const auto what = (ssh_get_poll_flags(session_) & SSH_WRITE_PENDING) ? asio::posix::stream_descriptor::wait_write
                                                                         : asio::posix::stream_descriptor::wait_read;
  auto result = co_await socket_.async_wait(what, asio::as_tuple(asio::use_awaitable));
  if (connect_timed_out_) fail_connect("timed out after " + std::to_string(settings_.connect_timeout.count()) + " ms");
  if (std::get<0>(result)) fail_connect(std::get<0>(result).message());
}

void Connection::verify_host_key() {
  ssh_key presented = nullptr;
  if (ssh_get_server_publickey(session_, &presented) != SSH_OK || !presented)
    fail_connect(std::string("no host key: ") + error_of(session_));
  KeyPtr guard(presented);
  if (ssh_key_cmp(presented, settings_.host_key.get(), SSH_KEY_CMP_PUBLIC) == 0) return;
  const auto got = fingerprint(presented);
  const auto pinned = fingerprint(settings_.host_key.get());
  spdlog::warn("ssh: {}:{} (cluster {}) presented host key {}, which does not match the pinned key {}; refusing it",
               settings_.host, settings_.port, settings_.cluster, got, pinned);
  fail_connect("the host key does not match the pinned key",
               settings_.host + ":" + std::to_string(settings_.port) + " presented " + got + ", pinned " + pinned);
}

asio::awaitable<void> Connection::authenticate(CredentialProvider& credentials) {
  // Held until authentication is over: libssh reads the keys only while offering and signing.
  const auto credential = credentials.credential_for(settings_.user);
  int rc = SSH_AUTH_DENIED;
  if (credential->certificate) {
    while ((rc = ssh_userauth_try_publickey(session_, nullptr, credential->certificate.get())) == SSH_AUTH_AGAIN)
      co_await wait_socket();
  }
  if (!credential->certificate || rc == SSH_AUTH_SUCCESS) {
    while ((rc = ssh_userauth_publickey(session_, nullptr, credential->private_key.get())) == SSH_AUTH_AGAIN)
      co_await wait_socket();
  }
  if (rc == SSH_AUTH_SUCCESS) co_return;
  if (rc == SSH_AUTH_ERROR) fail_connect(std::string("authentication failed: ") + error_of(session_));
  spdlog::warn("ssh: {}:{} (cluster {}) refused the credential of {}{}", settings_.host, settings_.port,
               settings_.cluster, settings_.user,
               credential->key_id.empty() ? std::string() : " (certificate " + credential->key_id + ")");
  fail_connect("the server refused the credential for " + settings_.user);
}

// ---- the pump -----------------------------------------------------------------------------

void Connection::start_pump() {
  arm_read();
  if (settings_.keepalive.count() > 0) asio::co_spawn(strand_, keepalive_loop(), asio::detached);
}

void Connection::arm_read() {
  if (closed_ || reading_) return;
  reading_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    self->reading_ = false;
    if (self->closed_) return;
    if (ec) return self->teardown("waiting for the socket failed: " + ec.message(), false);
    self->drive();
    self->arm_read();
  });
}

void Connection::arm_write() {
  if (closed_ || writing_ || !(ssh_get_poll_flags(session_) & SSH_WRITE_PENDING)) return;
  writing_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
    self->writing_ = false;
    if (self->closed_) return;
    if (ec) return self->teardown("waiting for the socket failed: " + ec.message(), false);
    self->drive();
  });
}

void Connection::drive() {
  // libssh reads at most 4 KiB per poll round: go on while more is ready, but not forever, so
  // the other connections served by this thread get their turn (Asio wakes us again at once).
  for (int round = 0; round < 64 && !closed_; ++round)
    if (call([this] { return ssh_event_dopoll(event_, 0); }) != SSH_OK) break;
  if (!closed_) progress_.notify();
}

bool Connection::session_dead() const noexcept {
  return !ssh_is_connected(session_) || (ssh_get_status(session_) & SSH_CLOSED_ERROR);
}

void Connection::after_call(std::uint64_t in_before) {
  if (closed_) return;
  if (counter_.in_bytes != in_before) {
    last_input_ = Clock::now();
    progress_.notify();
  }
  if (session_dead()) return teardown(std::string("connection lost (") + error_of(session_) + ")", false);
  arm_write();
}

asio::awaitable<void> Connection::keepalive_loop() {
  auto self = shared_from_this();
  const auto period = settings_.keepalive;
  while (!closed_) {
    timer_.expires_after(period);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (closed_) break;
    const auto silent = Clock::now() - last_input_;
    if (silent >= 3 * period) {
      teardown("no answer to keepalives for " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(silent).count()) + " ms",
               false);
      break;
    }
    if (silent < period) continue;
    // keepalive@openssh.com wants a reply, which any answer counts as (it moves last_input_).
    // Non-blocking, libssh sends a new request only when none is outstanding, and the call after
    // a reply merely collects it: the first call collects, the second sends.
    call([this] { return ssh_send_keepalive(session_); });
    if (!closed_) call([this] { return ssh_send_keepalive(session_); });
  }
}

void Connection::teardown(const std::string& reason, bool graceful) {
  if (closed_) return;
  closed_ = true;
  alive_.store(false, std::memory_order_release);
  close_reason_ = reason;
  for (auto& st : channels_) {
    if (st->channel) ssh_remove_channel_callbacks(st->channel, &st->callbacks);
    st->channel = nullptr;  // ssh_disconnect() below frees libssh's channels
    st->lost = true;
    st->finished = true;
    st->signal.notify();
    st->slot();
  }
  channels_.clear();
  if (session_) {
    if (graceful && ssh_is_connected(session_)) {
      ssh_set_fd_towrite(session_);  // so the DISCONNECT goes out now rather than never
      ssh_disconnect(session_);
    } else {
      ssh_silent_disconnect(session_);
    }
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  deadline_.cancel();
  progress_.notify();
  spdlog::debug("ssh: connection {} to {}:{} as {} closed: {}", id_, settings_.host, settings_.port, settings_.user,
                reason);
  if (auto on_closed = std::exchange(on_closed_, nullptr)) on_closed(id_, reason);
}

void Connection::close(std::string reason) {
  asio::post(strand_, [self = shared_from_this(), reason = std::move(reason)] {
    if (self->alive()) self->teardown(reason, true);
  });
}

std::string Connection::lost_message() const {
  return "cannot reach " + settings_.cluster + " over SSH: " + close_reason_;
}

// ---- channels -----------------------------------------------------------------------------

int Connection::on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* user) {
  auto* st = static_cast<detail::ChannelState*>(user);
  if (st->aborted || st->detached) return static_cast<int>(len);  // nobody reads it: let the window move
  auto& in = is_stderr ? st->err : st->out;
  const auto room = in.available() < detail::ChannelState::high_water ? detail::ChannelState::high_water - in.available() : 0;
  const auto take = std::min<std::size_t>(len, room);
  if (take > 0) {
    append(in, static_cast<const char*>(data), take);
    st->signal.notify();
  }
  in.held = take < len;
  return static_cast<int>(take);
}

void Connection::on_eof(ssh_session, ssh_channel, void* user) {
  auto* st = static_cast<detail::ChannelState*>(user);
  st->remote_eof = true;
  st->signal.notify();
}

void Connection::on_close(ssh_session, ssh_channel, void* user) {
  auto* st = static_cast<detail::ChannelState*>(user);
  st->remote_eof = true;
  st->remote_closed = true;
  st->signal.notify();
  // No libssh call may be made from inside its callbacks: free the channel a moment later.
  if (st->detached) asio::post(st->connection->strand_, [c = st->connection->shared_from_this()] { c->reap(); });
}

void Connection::on_exit_status(ssh_session, ssh_channel, int status, void* user) {
  static_cast<detail::ChannelState*>(user)->exit_status = status;
}

void Connection::on_exit_signal(ssh_session, ssh_channel, const char* signal, int core, const char*, const char*,
                                void* user) {
  auto* st = static_cast<detail::ChannelState*>(user);
  st->exit_signal = signal ? signal : "";
  st->core_dumped = core != 0;
}

asio::awaitable<Channel> Connection::exec(std::string command_line, Clock::time_point deadline, detail::Release slot) {
  co_return co_await asio::co_spawn(strand_, do_open(Start::exec, std::move(command_line), deadline, std::move(slot)),
                                    asio::use_awaitable);
}

asio::awaitable<Channel> Connection::subsystem(std::string name, Clock::time_point deadline, detail::Release slot) {
  co_return co_await asio::co_spawn(strand_, do_open(Start::subsystem, std::move(name), deadline, std::move(slot)),
                                    asio::use_awaitable);
}

asio::awaitable<Channel> Connection::do_open(Start start, std::string what, Clock::time_point deadline,
                                             detail::Release slot) {
  auto self = shared_from_this();
  if (closed_) throw OpenError(OpenError::Kind::connection_lost, close_reason_);
  auto st = std::make_shared<detail::ChannelState>(this);
  st->slot = std::move(slot);
  st->channel = ssh_channel_new(session_);
  if (!st->channel) throw OpenError(OpenError::Kind::refused, std::string("cannot create a channel: ") + error_of(session_));
  ssh_callbacks_init(&st->callbacks);
  st->callbacks.userdata = st.get();
  st->callbacks.channel_data_function = &Connection::on_data;
  st->callbacks.channel_eof_function = &Connection::on_eof;
  st->callbacks.channel_close_function = &Connection::on_close;
  st->callbacks.channel_exit_status_function = &Connection::on_exit_status;
  st->callbacks.channel_exit_signal_function = &Connection::on_exit_signal;
  ssh_add_channel_callbacks(st->channel, &st->callbacks);
  channels_.push_back(st);

  try {
    st->opening = true;
    for (;;) {
      const int rc = call([&] { return ssh_channel_open_session(st->channel); });
      if (closed_) throw OpenError(OpenError::Kind::connection_lost, close_reason_);
      if (rc == SSH_OK) {
        st->opening = false;
        st->opened = true;
        break;
      }
      if (rc == SSH_ERROR) {
        st->opening = false;
        throw OpenError(OpenError::Kind::refused, error_of(session_));
      }
      if (!co_await progress_.wait(deadline))
        throw Failure(ErrorKind::timeout, "the SSH server of " + settings_.cluster + " did not open a channel in time");
    }
    // From here on the server may have started the command: no retry elsewhere.
    for (;;) {
      const int rc = call([&] {
        return start == Start::exec ? ssh_channel_request_exec(st->channel, what.c_str())
                                    : ssh_channel_request_subsystem(st->channel, what.c_str());
      });
      if (closed_) throw Failure(ErrorKind::backend_unreachable, lost_message());
      if (rc == SSH_OK) break;
      if (rc == SSH_ERROR && start == Start::subsystem)
        throw SubsystemRefused("the SSH server of " + settings_.cluster + " has no " + what + " subsystem");
      if (rc == SSH_ERROR)
        throw Failure(ErrorKind::backend_unreachable,
                      "cannot reach " + settings_.cluster + " over SSH: the server refused to run the command",
                      error_of(session_));
      if (!co_await progress_.wait(deadline))
        throw Failure(ErrorKind::timeout, "the SSH server of " + settings_.cluster + " did not start the command in time");
    }
  } catch (...) {
    finish(st);
    throw;
  }
  co_return Channel(std::make_shared<Channel::Handle>(self, st));
}

asio::awaitable<std::size_t> Connection::read_some(std::shared_ptr<detail::ChannelState> st, Stream stream,
                                                   asio::mutable_buffer buffer) {
  auto& in = stream == Stream::err ? st->err : st->out;
  const int is_stderr = stream == Stream::err ? 1 : 0;
  if (buffer.size() == 0) co_return 0;
  for (;;) {
    if (in.available() > 0) {
      const auto n = std::min(in.available(), buffer.size());
      std::memcpy(buffer.data(), in.data.data() + in.head, n);
      in.head += n;
      if (in.head == in.data.size()) {
        in.data.clear();
        in.head = 0;
      } else if (in.head >= 64 * 1024 && 2 * in.head >= in.data.size()) {
        in.data.erase(0, in.head);
        in.head = 0;
      }
      co_return n;
    }
    if (st->aborted) throw boost::system::system_error(asio::error::operation_aborted);
    if (in.held && st->channel && !closed_) {
      // Our buffer is empty but libssh kept what did not fit: take it from there (which also
      // lets the window grow again).
      in.held = false;
      const auto want = static_cast<uint32_t>(std::min<std::size_t>(buffer.size(), INT_MAX));
      const int n = call([&] { return ssh_channel_read_nonblocking(st->channel, buffer.data(), want, is_stderr); });
      if (n > 0) {
        in.held = true;  // there may be more
        if (in.available() == 0) co_return static_cast<std::size_t>(n);
        // A callback delivered newer packets into `in` during the call; libssh's bytes are older.
        in.data.insert(in.head, static_cast<const char*>(buffer.data()), static_cast<std::size_t>(n));
      }
      continue;
    }
    if (st->remote_eof) co_return 0;
    if (st->lost) throw Failure(ErrorKind::backend_unreachable, lost_message());
    co_await st->signal.wait();
  }
}

asio::awaitable<void> Connection::write(std::shared_ptr<detail::ChannelState> st, asio::const_buffer data) {
  const auto* next = static_cast<const char*>(data.data());
  std::size_t left = data.size();
  while (left > 0) {
    if (st->aborted) throw boost::system::system_error(asio::error::operation_aborted);
    if (st->lost) throw Failure(ErrorKind::backend_unreachable, lost_message());
    if (st->remote_closed) throw boost::system::system_error(asio::error::broken_pipe);
    if (st->local_eof) throw std::logic_error("ssh::Channel: write after send_eof");
    // Keep at most one chunk queued in libssh's output buffer: it would take all the server's
    // window allows (megabytes per channel) before a byte reaches the socket.
    if (ssh_get_poll_flags(session_) & SSH_WRITE_PENDING) {
      arm_write();
      co_await progress_.wait();
      continue;
    }
    const auto chunk = static_cast<uint32_t>(std::min<std::size_t>(left, 64 * 1024));
    const int n = call([&] { return ssh_channel_write(st->channel, next, chunk); });
    if (st->lost || st->aborted) continue;
    if (n == SSH_ERROR) {
      if (st->remote_closed || ssh_channel_is_closed(st->channel)) throw boost::system::system_error(asio::error::broken_pipe);
      throw Failure(ErrorKind::backend_unreachable,
                    "cannot reach " + settings_.cluster + " over SSH: writing to the command failed", error_of(session_));
    }
    next += n;
    left -= static_cast<std::size_t>(n);
    if (n == 0) co_await progress_.wait();  // the server's window is full: wait for it to grow
  }
}

asio::awaitable<void> Connection::send_eof(std::shared_ptr<detail::ChannelState> st) {
  if (st->local_eof || st->remote_closed) co_return;
  if (st->aborted) throw boost::system::system_error(asio::error::operation_aborted);
  if (st->lost) throw Failure(ErrorKind::backend_unreachable, lost_message());
  // SSH_AGAIN only means the EOF is queued, not yet on the wire: that is done.
  const int rc = call([&] { return ssh_channel_send_eof(st->channel); });
  if (st->lost) throw Failure(ErrorKind::backend_unreachable, lost_message());
  if (rc == SSH_ERROR && !st->remote_closed)
    throw Failure(ErrorKind::backend_unreachable, "cannot reach " + settings_.cluster + " over SSH: sending EOF failed",
                  error_of(session_));
  st->local_eof = true;
}

asio::awaitable<ExitInfo> Connection::wait_exit(std::shared_ptr<detail::ChannelState> st) {
  for (;;) {
    if (st->remote_closed) co_return ExitInfo{st->exit_status, st->exit_signal, st->core_dumped};
    if (st->aborted) throw boost::system::system_error(asio::error::operation_aborted);
    if (st->lost) throw Failure(ErrorKind::backend_unreachable, lost_message());
    co_await st->signal.wait();
  }
}

void Connection::abort(std::shared_ptr<detail::ChannelState> st) {
  asio::post(strand_, [self = shared_from_this(), st = std::move(st)] { self->abort_now(st); });
}

void Connection::detach(std::shared_ptr<detail::ChannelState> st) {
  asio::post(strand_, [self = shared_from_this(), st = std::move(st)] { self->detach_now(st); });
}

void Connection::abort_now(const std::shared_ptr<detail::ChannelState>& st) {
  if (st->finished || st->aborted) return;
  st->aborted = true;
  st->signal.notify();
  progress_.notify();
  if (!st->remote_closed && st->opened) asio::co_spawn(strand_, hang_up(st), asio::detached);
}

asio::awaitable<void> Connection::hang_up(std::shared_ptr<detail::ChannelState> st) {
  auto self = shared_from_this();
  // A CLOSE alone does not stop a command that writes nothing: sshd keeps the session (and its
  // MaxSessions slot) until the command exits. On a "signal" request it killpg()s the command's
  // process group, which fails while the new command has not called setsid() yet: send it a few
  // times. Only then the CLOSE: once both sides have sent one the server forgets the channel,
  // and a request arriving for a forgotten channel makes it drop the whole connection.
  using namespace std::chrono_literals;
  asio::steady_timer pause(strand_);
  for (const auto delay : {0ms, 50ms, 250ms, 1000ms}) {
    pause.expires_after(delay);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    if (hung_up(*st)) co_return;
    call([&] { return ssh_channel_request_send_signal(st->channel, "KILL"); });
  }
  pause.expires_after(250ms);
  co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  if (hung_up(*st)) co_return;
  // libssh sends EOF first and returns SSH_AGAIN while that is unflushed, without the CLOSE;
  // the second call sends the CLOSE.
  if (call([&] { return ssh_channel_close(st->channel); }) == SSH_AGAIN && !hung_up(*st))
    call([&] { return ssh_channel_close(st->channel); });
}

bool Connection::hung_up(const detail::ChannelState& st) const noexcept {
  return st.finished || st.remote_closed || closed_ || !st.channel;
}

void Connection::detach_now(const std::shared_ptr<detail::ChannelState>& st) {
  st->detached = true;
  if (st->finished) return;
  if (st->remote_closed) return finish(st);
  abort_now(st);  // finished when the server's CLOSE arrives (on_close → reap)
}

asio::awaitable<void> Connection::settle_open(std::shared_ptr<detail::ChannelState> st) {
  auto self = shared_from_this();
  while (st->opening && st->channel && !closed_) {
    const int rc = call([&] { return ssh_channel_open_session(st->channel); });
    if (closed_) break;
    if (rc == SSH_OK) {
      st->opened = true;
      st->opening = false;
    } else if (rc == SSH_ERROR) {
      st->opening = false;
    } else {
      co_await progress_.wait();
    }
  }
  st->opening = false;
  finish(st);
}

void Connection::reap() {
  auto channels = channels_;  // finish() edits channels_
  for (auto& st : channels)
    if (st->detached && st->remote_closed) finish(st);
}

void Connection::finish(const std::shared_ptr<detail::ChannelState>& st) {
  if (st->finished) return;
  if (st->opening && st->channel && !closed_) {
    // Given up on while the server had not answered the open yet (a deadline): the channel has
    // no remote id to close until it does, and freed now it would stay open on the server.
    if (!st->aborted) {
      st->aborted = true;
      asio::co_spawn(strand_, settle_open(st), asio::detached);
    }
    return;
  }
  st->finished = true;
  if (st->channel && !closed_) {
    ssh_remove_channel_callbacks(st->channel, &st->callbacks);
    // The server counts the session against MaxSessions until it has our CLOSE too (see
    // hang_up() for why there may be two calls). A channel the server never confirmed has
    // nothing to close: its remote id would be garbage.
    if (st->opened && ssh_channel_close(st->channel) == SSH_AGAIN) ssh_channel_close(st->channel);
    ssh_channel_free(st->channel);
  }
  st->channel = nullptr;
  std::erase(channels_, st);
  st->signal.notify();
  st->slot();
  if (closed_) return;
  if (session_dead()) return teardown(std::string("connection lost (") + error_of(session_) + ")", false);
  arm_write();
}

}  // namespace portico::ssh
