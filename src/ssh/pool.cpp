#include "ssh/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/names.hpp"
#include "core/shell.hpp"
#include "ssh/connection.hpp"
#include "ssh/sftp_session.hpp"

namespace portico::ssh {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// The remote `timeout` sends TERM at the limit and KILL this much later.
constexpr auto kKillAfter = 5s;
// After that, how long we still wait for the server before closing the channel ourselves.
constexpr auto kGrace = 3s;

std::shared_ptr<ssh_key_struct> parse_host_key(const config::Cluster& cluster) {
  std::istringstream in(cluster.ssh.host_public_key);
  std::string type, base64;
  in >> type >> base64;
  const auto key_type = ssh_key_type_from_name(type.c_str());
  ssh_key key = nullptr;
  if (key_type == SSH_KEYTYPE_UNKNOWN || base64.empty() ||
      ssh_pki_import_pubkey_base64(base64.c_str(), key_type, &key) != SSH_OK || !key)
    throw std::invalid_argument("cluster " + cluster.name +
                                ": ssh.host_public_key is not an OpenSSH public key (\"ssh-ed25519 AAAA...\")");
  return {key, ssh_key_free};
}

// GNU timeout takes fractions of a second.
std::string seconds_text(std::chrono::milliseconds limit) {
  const auto ms = std::max<std::int64_t>(limit.count(), 1);
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

Failure shutting_down(const std::string& cluster) {
  return Failure(ErrorKind::unavailable, "the SSH connections to " + cluster + " are shutting down");
}

void arm_watchdog(asio::steady_timer& timer, Channel channel) {
  timer.async_wait([channel = std::move(channel)](boost::system::error_code ec) mutable {
    if (!ec) channel.close();  // the server did not finish in time: hang up; the run's calls end
  });
}

asio::awaitable<void> feed(Channel channel, const std::string& data) {
  try {
    if (!data.empty()) co_await channel.async_write(asio::buffer(data));
    co_await channel.send_eof();
  } catch (const boost::system::system_error& e) {
    // The command ended without reading all of its input: its exit status tells the rest.
    if (e.code() != asio::error::broken_pipe) throw;
  }
}

}  // namespace

struct Pool::Core : std::enable_shared_from_this<Pool::Core> {
  using Strand = asio::strand<asio::any_io_executor>;

  // The connection's SFTP session. `generation` tells a late release of an old session's slot
  // from the current one's.
  struct Sftp {
    enum class State { none, opening, open, refused } state = State::none;
    std::shared_ptr<SftpSession> session;
    std::uint64_t generation = 0;
  };

  struct Entry {
    std::shared_ptr<Connection> connection;
    unsigned in_use = 0;  // channel slots taken, the SFTP session's included
    SteadyClock::time_point idle_since;
    Sftp sftp;
    // Slots taken by commands and streams, not by the session.
    unsigned busy() const noexcept { return in_use - (sftp.state == Sftp::State::open && in_use > 0 ? 1 : 0); }
  };

  struct Waiter {
    Waiter(const Strand& strand, SteadyClock::time_point deadline, SteadyClock::time_point not_before)
        : timer(strand, deadline), not_before(not_before) {}
    asio::steady_timer timer;  // expires at the deadline; cancelled to wake the waiter
    SteadyClock::time_point not_before;  // only connections established since then will do
    std::shared_ptr<Connection> granted;
    std::exception_ptr error;
    bool done = false;
  };

  struct User {
    std::vector<Entry> entries;  // in the order they were opened
    std::deque<std::shared_ptr<Waiter>> waiters;
    std::size_t opening = 0;
  };

  Core(asio::any_io_executor ex, const config::Cluster& c, CredentialProvider& provider)
      : executor(ex),
        strand(asio::make_strand(ex)),
        cluster(c),
        credentials(provider),
        host_key(parse_host_key(c)),
        sweep_timer(strand) {}

  static asio::awaitable<core::CommandResult> run(std::shared_ptr<Core> self, std::string user, core::Command command);
  static asio::awaitable<Channel> exec(std::shared_ptr<Core> self, std::string user, std::string command_line,
                                       SteadyClock::time_point deadline);
  asio::awaitable<SftpResult> sftp(std::string user, SteadyClock::time_point deadline);

  // All of the following run on the strand.
  asio::awaitable<std::shared_ptr<Connection>> acquire(std::string user, SteadyClock::time_point deadline,
                                                       SteadyClock::time_point not_before);
  void dispatch(const std::string& user);
  asio::awaitable<void> open_for(std::string user);
  void release(const std::string& user, std::uint64_t id);
  void closed(const std::string& user, std::uint64_t id);
  asio::awaitable<void> sweep();
  void stop();

  // Callbacks are made in plain functions: g++ 12 miscompiles a lambda created inside a co_await
  // expression (its by-copy captures still point into the coroutine frame).
  std::function<void(std::uint64_t, const std::string&)> on_closed(const std::string& user);

  Entry* pick(User& user, SteadyClock::time_point not_before);
  unsigned max_sessions() const noexcept { return std::max(1u, cluster.ssh.max_sessions_per_connection); }
  Entry* find(const std::string& user, std::uint64_t id);
  detail::Release slot(const std::string& user, std::uint64_t id);
  detail::Release sftp_slot(const std::string& user, std::uint64_t id, std::uint64_t generation);
  void sftp_released(const std::string& user, std::uint64_t id, std::uint64_t generation);
  void forget_sftp(Entry& entry);

  const asio::any_io_executor executor;
  Strand strand;
  const config::Cluster cluster;
  CredentialProvider& credentials;
  const std::shared_ptr<ssh_key_struct> host_key;
  asio::steady_timer sweep_timer;
  bool stopped = false;
  std::unordered_map<std::string, User> users;
  detail::Signal sftp_changed;  // an SFTP session finished opening (or failed to)

  // Mirrors of the state above, for stats() from any thread.
  std::atomic<std::size_t> n_connections{0}, n_connecting{0}, n_in_use{0}, n_waiters{0};
  std::atomic<std::uint64_t> n_opened{0}, n_failed{0}, n_retries{0}, n_refused{0};
  std::atomic<std::size_t> n_sftp{0};
  std::atomic<std::uint64_t> n_sftp_refused{0};
};

// ---- requests -----------------------------------------------------------------------------

asio::awaitable<core::CommandResult> Pool::Core::run(std::shared_ptr<Core> self, std::string user,
                                                     core::Command command) {
  const auto start = SteadyClock::now();
  if (command.argv.empty()) throw Failure(ErrorKind::bad_request, "no command to run");
  const auto& ssh = self->cluster.ssh;
  const auto remote_timeout = command.timeout.count() > 0 ? command.timeout : ssh.command_timeout;
  const auto cap = command.max_output > 0 ? command.max_output : ssh.max_output_bytes;
  const auto line = "timeout --kill-after=" + std::to_string(kKillAfter.count()) + " " + seconds_text(remote_timeout) +
                    " " + core::command_line(command.argv);
  const auto deadline = start + remote_timeout + kKillAfter + kGrace;

  if (command.stop && command.stop->stopped()) throw Failure(ErrorKind::unavailable, "the command was stopped");
  auto channel = co_await exec(self, std::move(user), line, deadline);

  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer watchdog(executor, deadline);
  arm_watchdog(watchdog, channel);
  // Stopping hangs up as the watchdog does: close() sends the command KILL first.
  if (command.stop) command.stop->on_stop([channel]() mutable { channel.close(); });

  core::CommandResult result;
  auto outcome =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(executor, drain(channel, Stream::out, cap, result.out, result.out_truncated), asio::deferred),
          asio::co_spawn(executor, drain(channel, Stream::err, cap, result.err, result.err_truncated), asio::deferred),
          asio::co_spawn(executor, feed(channel, command.stdin_data), asio::deferred))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  std::optional<ExitInfo> exit;
  std::exception_ptr exit_error;
  try {
    exit = co_await channel.wait_exit();
  } catch (...) {
    exit_error = std::current_exception();
  }
  watchdog.cancel();
  if (command.stop) command.stop->clear();
  result.duration = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);

  // A lost connection is the backend's failure; operation_aborted means the watchdog fired.
  bool aborted = false;
  for (const auto& error : {std::get<1>(outcome), std::get<2>(outcome), std::get<3>(outcome), exit_error}) {
    if (!error) continue;
    try {
      std::rethrow_exception(error);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::operation_aborted)
        throw Failure(ErrorKind::backend_unreachable, "cannot reach " + self->cluster.name + " over SSH: " + e.what());
      aborted = true;
    }
  }
  if (aborted || !exit) {
    spdlog::debug("ssh: {}: no answer {} ms after the remote timeout; channel closed", self->cluster.name,
                  std::chrono::duration_cast<std::chrono::milliseconds>(kKillAfter + kGrace).count());
    result.timed_out = true;
    result.exit_status = -1;
    co_return result;
  }
  result.signal = exit->signal;
  result.exit_status = result.signal.empty() ? exit->status.value_or(-1) : -1;
  // `timeout` exits 124 after TERM; after its KILL it dies of KILL itself, which only the
  // elapsed time tells apart from a command killed by someone else.
  result.timed_out = result.exit_status == 124 || (!result.signal.empty() && SteadyClock::now() - start >= remote_timeout);
  co_return result;
}

asio::awaitable<Channel> Pool::Core::exec(std::shared_ptr<Core> self, std::string user, std::string command_line,
                                          SteadyClock::time_point deadline) {
  if (!core::valid_unix_name(user))
    throw Failure(ErrorKind::forbidden, "the user name is not a valid Unix user name");
  auto not_before = SteadyClock::time_point::min();
  bool retried = false;
  std::chrono::milliseconds backoff{0};
  for (;;) {
    auto connection =
        co_await asio::co_spawn(self->strand, self->acquire(user, deadline, not_before), asio::use_awaitable);
    try {
      co_return co_await connection->exec(command_line, deadline, self->slot(user, connection->id()));
    } catch (const OpenError& e) {
      if (e.kind() == OpenError::Kind::connection_lost) {
        if (retried)
          throw Failure(ErrorKind::backend_unreachable, "cannot reach " + self->cluster.name + " over SSH: " + e.what());
        retried = true;
        ++self->n_retries;
        spdlog::debug("ssh: {}: connection {} as {} died opening a channel ({}); retrying on a fresh one",
                      self->cluster.name, connection->id(), user, e.what());
        not_before = SteadyClock::now();  // connections older than this one may be just as dead
        continue;
      }
      ++self->n_refused;
      if (SteadyClock::now() + backoff >= deadline)
        throw Failure(ErrorKind::backend_unreachable,
                      "cannot reach " + self->cluster.name + " over SSH: the server refused to open a channel", e.what());
      spdlog::debug("ssh: {}: connection {} as {} refused a channel ({}); trying again in {} ms", self->cluster.name,
                    connection->id(), user, e.what(), backoff.count());
    }
    // Refused: sshd frees a session in its main loop after the batch of packets that held our
    // CLOSE, so a new OPEN sent along with that CLOSE finds the slot still taken. The refusal
    // arrived after that loop turn, so the first retry goes at once; later ones back off.
    if (backoff.count() > 0) {
      asio::steady_timer pause(co_await asio::this_coro::executor, backoff);
      co_await pause.async_wait(asio::use_awaitable);
    }
    backoff = std::clamp<std::chrono::milliseconds>(backoff * 2, 10ms, 500ms);
  }
}

// ---- SFTP sessions (strand) ----------------------------------------------------------------

asio::awaitable<SftpResult> Pool::Core::sftp(std::string user, SteadyClock::time_point deadline) {
  auto self = shared_from_this();
  using State = Sftp::State;
  for (;;) {
    if (stopped) throw shutting_down(cluster.name);
    bool opening = false, any = false, all_refused = true;
    for (auto& e : users[user].entries) {
      if (!e.connection->alive()) continue;
      any = true;
      if (e.sftp.state == State::open && e.sftp.session->alive()) co_return SftpResult{e.sftp.session};
      if (e.sftp.state == State::opening) opening = true;
      if (e.sftp.state != State::refused) all_refused = false;
    }
    if (any && all_refused) co_return SftpResult{nullptr, true};
    if (opening) {
      // Another request is starting one: wait for it rather than start a second.
      if (!co_await sftp_changed.wait(deadline)) co_return SftpResult{};
      continue;
    }

    // A session takes a channel slot, as a command does.
    auto connection = co_await acquire(user, deadline, SteadyClock::time_point::min());
    const auto id = connection->id();
    auto* entry = find(user, id);
    if (!entry) co_return SftpResult{};  // gone meanwhile, and its slots with it
    if (entry->sftp.state == State::open && !entry->sftp.session->alive()) forget_sftp(*entry);
    if (entry->sftp.state != State::none) {
      // A session (or a refusal) came while this request waited for its slot.
      release(user, id);
      continue;
    }
    entry->sftp.state = State::opening;
    const auto generation = ++entry->sftp.generation;
    SftpResult result;
    try {
      std::string subsystem = "sftp";
      auto slot = sftp_slot(user, id, generation);
      auto channel = co_await connection->subsystem(std::move(subsystem), deadline, std::move(slot));
      SftpSession::Settings settings{cluster.name, cluster.ssh.command_timeout};
      result.session = co_await SftpSession::start(connection->strand(), std::move(channel), std::move(settings));
    } catch (const SubsystemRefused& e) {
      result.no_subsystem = true;
      spdlog::info("ssh: {}: {} (connection {} as {}): file operations run as commands", cluster.name, e.what(), id, user);
    } catch (const std::exception& e) {
      spdlog::debug("ssh: {}: no SFTP session on connection {} as {}: {}", cluster.name, id, user, e.what());
    }
    entry = find(user, id);
    if (entry && entry->sftp.generation == generation) {
      if (result.session) {
        entry->sftp.state = State::open;
        entry->sftp.session = result.session;
        ++n_sftp;
      } else if (result.no_subsystem) {
        entry->sftp.state = State::refused;
        ++n_sftp_refused;
      } else {
        entry->sftp.state = State::none;
      }
    } else if (result.session) {
      result.session->close("the connection left the pool");
      result.session.reset();
    }
    sftp_changed.notify();
    co_return result;
  }
}

void Pool::Core::forget_sftp(Entry& entry) {
  if (entry.sftp.state == Sftp::State::open) --n_sftp;
  if (entry.sftp.session) entry.sftp.session->close("the connection is closing");
  entry.sftp.state = Sftp::State::none;
  entry.sftp.session.reset();
}

detail::Release Pool::Core::sftp_slot(const std::string& user, std::uint64_t id, std::uint64_t generation) {
  return detail::Release([weak = weak_from_this(), user, id, generation] {
    if (auto core = weak.lock())
      asio::post(core->strand, [core, user, id, generation] { core->sftp_released(user, id, generation); });
  });
}

void Pool::Core::sftp_released(const std::string& user, std::uint64_t id, std::uint64_t generation) {
  if (auto* entry = find(user, id)) {
    --entry->in_use;
    --n_in_use;
    // The session of this generation has ended: the next request starts another.
    if (entry->sftp.generation == generation && entry->sftp.state == Sftp::State::open) forget_sftp(*entry);
    if (entry->busy() == 0) entry->idle_since = SteadyClock::now();
  }
  dispatch(user);
}

// ---- slots (strand) -------------------------------------------------------------------------

asio::awaitable<std::shared_ptr<Connection>> Pool::Core::acquire(std::string user, SteadyClock::time_point deadline,
                                                                 SteadyClock::time_point not_before) {
  auto self = shared_from_this();
  if (stopped) throw shutting_down(cluster.name);
  auto waiter = std::make_shared<Waiter>(strand, deadline, not_before);
  users[user].waiters.push_back(waiter);
  ++n_waiters;
  dispatch(user);
  while (!waiter->done) {
    co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waiter->done || SteadyClock::now() < deadline) continue;
    std::erase(users[user].waiters, waiter);
    --n_waiters;
    throw Failure(ErrorKind::timeout, "no SSH channel to " + cluster.name + " became free in time");
  }
  if (waiter->error) std::rethrow_exception(waiter->error);
  co_return waiter->granted;
}

Pool::Core::Entry* Pool::Core::pick(User& user, SteadyClock::time_point not_before) {
  // The oldest connection with room first: load packs onto few connections and the spare ones
  // go idle and close.
  for (auto& e : user.entries)
    if (e.in_use < max_sessions() && e.connection->alive() && e.connection->established() >= not_before) return &e;
  return nullptr;
}

Pool::Core::Entry* Pool::Core::find(const std::string& user, std::uint64_t id) {
  auto it = users.find(user);
  if (it == users.end()) return nullptr;
  for (auto& e : it->second.entries)
    if (e.connection->id() == id) return &e;
  return nullptr;
}

void Pool::Core::dispatch(const std::string& name) {
  auto it = users.find(name);
  if (it == users.end()) return;
  auto& user = it->second;
  // First come, first served; a retry that must avoid older connections lets others pass.
  for (auto w = user.waiters.begin(); w != user.waiters.end();) {
    auto* entry = pick(user, (*w)->not_before);
    if (!entry) {
      ++w;
      continue;
    }
    ++entry->in_use;
    ++n_in_use;
    (*w)->granted = entry->connection;
    (*w)->done = true;
    (*w)->timer.cancel();
    w = user.waiters.erase(w);
    --n_waiters;
  }
  if (stopped || user.waiters.empty()) return;
  const std::size_t needed = (user.waiters.size() + max_sessions() - 1) / max_sessions();
  while (user.opening < needed && user.entries.size() + user.opening < cluster.ssh.max_connections_per_user) {
    ++user.opening;
    ++n_connecting;
    asio::co_spawn(strand, open_for(name), asio::detached);
  }
}

asio::awaitable<void> Pool::Core::open_for(std::string name) {
  auto self = shared_from_this();
  std::shared_ptr<Connection> connection;
  std::exception_ptr error;
  try {
    Connection::Settings settings;
    settings.cluster = cluster.name;
    settings.host = cluster.ssh.host;
    settings.port = cluster.ssh.port;
    settings.user = name;
    settings.host_key = host_key;
    settings.connect_timeout = cluster.ssh.connect_timeout;
    settings.keepalive = cluster.ssh.keepalive;
    connection = co_await Connection::open(executor, std::move(settings), credentials, on_closed(name));
  } catch (...) {
    error = std::current_exception();
  }
  auto& user = users[name];
  --user.opening;
  --n_connecting;
  if (error) {
    ++n_failed;
    // Nobody else can serve the waiters: let them have the reason now rather than at their deadlines.
    if (user.entries.empty() && user.opening == 0) {
      n_waiters -= user.waiters.size();
      for (auto& w : user.waiters) {
        w->error = error;
        w->done = true;
        w->timer.cancel();
      }
      user.waiters.clear();
    }
    co_return;
  }
  if (stopped) {
    connection->close("the pool is shutting down");
    co_return;
  }
  ++n_opened;
  // Seen alive here, its on_closed comes after this entry exists; seen dead, it never gets one.
  if (connection->alive()) {
    user.entries.push_back(Entry{connection, 0, SteadyClock::now(), {}});
    ++n_connections;
  }
  dispatch(name);
}

std::function<void(std::uint64_t, const std::string&)> Pool::Core::on_closed(const std::string& user) {
  return [weak = weak_from_this(), user](std::uint64_t id, const std::string&) {
    if (auto core = weak.lock()) asio::post(core->strand, [core, user, id] { core->closed(user, id); });
  };
}

detail::Release Pool::Core::slot(const std::string& user, std::uint64_t id) {
  return detail::Release([weak = weak_from_this(), user, id] {
    if (auto core = weak.lock()) asio::post(core->strand, [core, user, id] { core->release(user, id); });
  });
}

void Pool::Core::release(const std::string& user, std::uint64_t id) {
  // Not found: the connection is gone, and its slots were counted off with it.
  if (auto* entry = find(user, id)) {
    --entry->in_use;
    --n_in_use;
    if (entry->busy() == 0) entry->idle_since = SteadyClock::now();
  }
  dispatch(user);
}

void Pool::Core::closed(const std::string& name, std::uint64_t id) {
  auto it = users.find(name);
  if (it == users.end()) return;
  auto& entries = it->second.entries;
  auto e = std::find_if(entries.begin(), entries.end(), [&](const Entry& x) { return x.connection->id() == id; });
  if (e != entries.end()) {
    n_in_use -= e->in_use;
    --n_connections;
    forget_sftp(*e);
    entries.erase(e);
  }
  dispatch(name);
}

asio::awaitable<void> Pool::Core::sweep() {
  auto self = shared_from_this();
  const auto idle = cluster.ssh.idle_timeout;
  const auto period = std::clamp<std::chrono::milliseconds>(idle / 4, 50ms, 5000ms);
  while (!stopped) {
    sweep_timer.expires_after(period);
    co_await sweep_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped) break;
    const auto now = SteadyClock::now();
    for (auto& [name, user] : users) {
      for (std::size_t i = 0; i < user.entries.size();) {
        auto& e = user.entries[i];
        // Idle: no command, and a session (if any) that has had no request for as long.
        auto last = e.idle_since;
        const bool session = e.sftp.state == Sftp::State::open;
        if (session) last = std::max(last, e.sftp.session->last_used());
        if (e.busy() > 0 || (session && e.sftp.session->in_flight() > 0) || now - last < idle) {
          ++i;
          continue;
        }
        e.connection->close("idle");
        --n_connections;
        n_in_use -= e.in_use;  // the session's slot
        forget_sftp(e);
        user.entries.erase(user.entries.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    std::erase_if(users, [](const auto& u) {
      return u.second.entries.empty() && u.second.waiters.empty() && u.second.opening == 0;
    });
  }
}

void Pool::Core::stop() {
  if (stopped) return;
  stopped = true;
  sweep_timer.cancel();
  const auto error = std::make_exception_ptr(shutting_down(cluster.name));
  for (auto& [name, user] : users) {
    n_waiters -= user.waiters.size();
    for (auto& w : user.waiters) {
      w->error = error;
      w->done = true;
      w->timer.cancel();
    }
    user.waiters.clear();
    for (auto& e : user.entries) {
      n_in_use -= e.in_use;
      forget_sftp(e);
      e.connection->close("the gateway is shutting down");
    }
    n_connections -= user.entries.size();
    user.entries.clear();
  }
}

// ---- Pool -----------------------------------------------------------------------------------

Pool::Pool(asio::any_io_executor executor, const config::Cluster& cluster, CredentialProvider& credentials)
    : core_(std::make_shared<Core>(executor, cluster, credentials)) {
  asio::co_spawn(core_->strand, core_->sweep(), asio::detached);
}

Pool::~Pool() { shutdown(); }

asio::awaitable<core::CommandResult> Pool::run(std::string user, core::Command command) {
  return Core::run(core_, std::move(user), std::move(command));
}

asio::awaitable<Channel> Pool::exec(std::string user, std::string command_line, SteadyClock::time_point deadline) {
  return Core::exec(core_, std::move(user), std::move(command_line), deadline);
}

asio::awaitable<SftpResult> Pool::sftp(std::string user, SteadyClock::time_point deadline) {
  if (!core::valid_unix_name(user)) throw Failure(ErrorKind::forbidden, "the user name is not a valid Unix user name");
  auto core = core_;
  if (!core->cluster.ssh.sftp) co_return SftpResult{};
  co_return co_await asio::co_spawn(core->strand, core->sftp(std::move(user), deadline), asio::use_awaitable);
}

std::chrono::milliseconds Pool::command_timeout() const { return core_->cluster.ssh.command_timeout; }

PoolStats Pool::stats() const {
  PoolStats s;
  s.connections = core_->n_connections.load();
  s.connecting = core_->n_connecting.load();
  s.channels_in_use = core_->n_in_use.load();
  s.waiters = core_->n_waiters.load();
  s.connections_opened = core_->n_opened.load();
  s.connections_failed = core_->n_failed.load();
  s.retries = core_->n_retries.load();
  s.refused = core_->n_refused.load();
  s.sftp_sessions = core_->n_sftp.load();
  s.sftp_refused = core_->n_sftp_refused.load();
  return s;
}

void Pool::shutdown() {
  asio::post(core_->strand, [core = core_] { core->stop(); });
}

}  // namespace portico::ssh
