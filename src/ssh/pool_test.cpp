// The pool against the real sshd of the demo site (var/site), and against private sshd
// instances started here for the tests that kill or freeze a server. The site's own sshd is
// never stopped.

#include "ssh/pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/shell.hpp"
#include "ssh/credentials.hpp"
#include "ssh/openssh_key.hpp"
#include "ssh/sshd_support.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using portico::core::Command;
using portico::core::CommandResult;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::ssh::Pool;

using namespace portico::ssh::testing;

namespace {

Command command(std::vector<std::string> argv, std::string stdin_data = {}) {
  Command c;
  c.argv = std::move(argv);
  c.stdin_data = std::move(stdin_data);
  return c;
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    site_ = load_site();
    if (!site_) GTEST_SKIP() << "the demo site is not running (no var/site/site.json)";
    credentials_ = std::make_unique<portico::ssh::CaCredentialProvider>(
        portico::ssh::SigningKey::from_file(site_->ca_key), std::chrono::seconds(300));
    for (int i = 0; i < 4; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    if (threads_.empty()) return;  // skipped
    for (auto& pool : pools_) pool->shutdown();
    pools_.clear();
    work_.reset();
    // Everything should wind down by itself once the pools are shut down; don't hang if not.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!io_.stopped() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(io_.stopped()) << "work was left on the io_context after shutdown";
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  portico::config::Cluster cluster(std::uint16_t port = 0) const {
    portico::config::Cluster c;
    c.name = "hpc";
    c.ssh.host = site_->host;
    c.ssh.port = port ? port : site_->port;
    c.ssh.host_public_key = site_->host_public_key;
    c.ssh.max_sessions_per_connection = 10;
    c.ssh.max_connections_per_user = 4;
    c.ssh.connect_timeout = 5s;
    c.ssh.command_timeout = 30s;
    return c;
  }

  Pool& pool(const portico::config::Cluster& c, portico::ssh::CredentialProvider* credentials = nullptr) {
    pools_.push_back(std::make_unique<Pool>(io_.get_executor(), c, credentials ? *credentials : *credentials_));
    return *pools_.back();
  }

  std::future<CommandResult> start(Pool& pool, std::string user, Command c) {
    return asio::co_spawn(io_, pool.run(std::move(user), std::move(c)), asio::use_future);
  }

  CommandResult run(Pool& pool, std::string user, Command c) { return start(pool, std::move(user), std::move(c)).get(); }

  // The Failure a run throws; fails the test when it does not throw one.
  Failure run_failure(Pool& pool, std::string user, Command c) {
    try {
      run(pool, std::move(user), std::move(c));
    } catch (const Failure& f) {
      return f;
    }
    ADD_FAILURE() << "the run did not fail";
    return Failure(ErrorKind::internal, "no failure");
  }

  std::optional<Site> site_;
  std::unique_ptr<portico::ssh::CredentialProvider> credentials_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Pool>> pools_;
};

TEST_F(PoolTest, RunsACommandAsTheUser) {
  auto& p = pool(cluster());
  auto r = run(p, "alice", command({"id", "-un"}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.out, "alice\n");
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(r.timed_out);
  EXPECT_GT(r.duration.count(), 0);
  // The second command reuses the connection.
  EXPECT_EQ(run(p, "alice", command({"id", "-un"})).out, "alice\n");
  auto s = p.stats();
  EXPECT_EQ(s.connections_opened, 1u);
  EXPECT_EQ(s.connections, 1u);
  EXPECT_EQ(s.connections_failed, 0u);
}

TEST_F(PoolTest, ArgumentsReachTheCommandUnchanged) {
  auto& p = pool(cluster());
  const std::string hostile = "it's $(id) `id` ; a\"b *";
  auto r = run(p, "alice", command({"printf", "%s", hostile}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, hostile);
}

TEST_F(PoolTest, OneMegabyteOfBinaryStdinRoundTrips) {
  std::string data(1 << 20, '\0');
  std::mt19937 random(42);
  for (auto& c : data) c = static_cast<char>(random());
  auto& p = pool(cluster());
  auto echoed = run(p, "alice", command({"cat"}, data));
  EXPECT_TRUE(echoed.ok());
  EXPECT_FALSE(echoed.out_truncated);
  EXPECT_EQ(echoed.out.size(), data.size());
  EXPECT_TRUE(echoed.out == data);
  auto digest = run(p, "alice", command({"sha256sum"}, data));
  EXPECT_TRUE(digest.ok());
  EXPECT_EQ(digest.out, sha256_hex(data) + "  -\n");
}

TEST_F(PoolTest, OutputOverTheCapIsTruncatedAndTheCommandFinishes) {
  auto& p = pool(cluster());
  auto c = command({"sh", "-c", "head -c 3000000 /dev/zero; echo done >&2"});
  c.max_output = 1000;
  auto r = run(p, "alice", c);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.out_truncated);
  EXPECT_EQ(r.err, "done\n");
  EXPECT_FALSE(r.err_truncated);
}

TEST_F(PoolTest, StderrIsKeptApartFromStdout) {
  auto& p = pool(cluster());
  auto r = run(p, "alice", command({"sh", "-c", "echo out; echo err >&2; echo out2"}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "out\nout2\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST_F(PoolTest, ReportsTheExitStatus) {
  auto& p = pool(cluster());
  auto r = run(p, "alice", command({"sh", "-c", "exit 3"}));
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_EQ(r.signal, "");
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.ok());
}

TEST_F(PoolTest, ReportsTheSignalThatKilledTheCommand) {
  auto& p = pool(cluster());
  auto r = run(p, "alice", command({"sh", "-c", "kill -KILL $$"}));
  EXPECT_EQ(r.exit_status, -1);
  EXPECT_EQ(r.signal, "KILL");
  EXPECT_FALSE(r.timed_out);
}

TEST_F(PoolTest, TheRemoteTimeoutStopsALongCommand) {
  auto& p = pool(cluster());
  auto c = command({"sleep", "30"});
  c.timeout = 1s;
  auto r = run(p, "alice", c);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_status, 124);
  EXPECT_LT(r.duration, std::chrono::microseconds(20s));
  // The connection is still good afterwards.
  EXPECT_EQ(run(p, "alice", command({"id", "-un"})).out, "alice\n");
}

TEST_F(PoolTest, ManyMoreConcurrentCommandsThanChannelsAllSucceed) {
  auto c = cluster();
  c.ssh.max_sessions_per_connection = 10;
  c.ssh.max_connections_per_user = 4;
  auto& p = pool(c);
  std::vector<std::future<CommandResult>> runs;
  for (int i = 0; i < 250; ++i) runs.push_back(start(p, "alice", command({"echo", std::to_string(i)})));
  int ok = 0;
  for (int i = 0; i < 250; ++i) {
    try {
      auto r = runs[i].get();
      EXPECT_TRUE(r.ok()) << i << ": " << r.err;
      EXPECT_EQ(r.out, std::to_string(i) + "\n");
      ok += r.ok();
    } catch (const Failure& f) {
      ADD_FAILURE() << i << ": " << f.what() << " (" << f.detail() << ")";
    }
  }
  EXPECT_EQ(ok, 250);
  auto s = p.stats();
  EXPECT_LE(s.connections_opened, 4u);
  EXPECT_LE(s.connections, 4u);
  EXPECT_EQ(s.connections_failed, 0u);
  EXPECT_EQ(s.waiters, 0u);
}

TEST_F(PoolTest, OneConnectionServesMoreCommandsThanMaxSessionsOverTime) {
  // sshd frees a session only when it has our CLOSE too: a leak would make it refuse channels
  // once 100 (its MaxSessions) had been used.
  auto c = cluster();
  c.ssh.max_sessions_per_connection = 100;
  c.ssh.max_connections_per_user = 1;
  auto& p = pool(c);
  std::vector<std::future<CommandResult>> runs;
  for (int i = 0; i < 300; ++i) runs.push_back(start(p, "bob", command({"echo", std::to_string(i)})));
  int ok = 0;
  for (int i = 0; i < 300; ++i) {
    try {
      ok += runs[i].get().out == std::to_string(i) + "\n";
    } catch (const Failure& f) {
      ADD_FAILURE() << i << ": " << f.what() << " (" << f.detail() << ")";
    }
  }
  EXPECT_EQ(ok, 300);
  EXPECT_EQ(p.stats().connections_opened, 1u);
  EXPECT_EQ(p.stats().retries, 0u);
  // Refusals (tried again) are how sshd's late session release shows; they are not failures.
  std::cout << "channel opens refused and tried again: " << p.stats().refused << "\n";
}

TEST_F(PoolTest, LargeOutputOnBothStreamsArrivesWhole) {
  std::string expected;
  for (int i = 1; i <= 200000; ++i) expected += std::to_string(i) + "\n";
  auto& p = pool(cluster());
  auto r = run(p, "alice", command({"sh", "-c", "seq 1 200000; seq 1 200000 >&2"}));
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.out == expected);
  EXPECT_TRUE(r.err == expected);
}

TEST_F(PoolTest, WaitersAreServedInOrderAndGiveUpAtTheirDeadline) {
  auto c = cluster();
  c.ssh.max_sessions_per_connection = 1;
  c.ssh.max_connections_per_user = 1;
  auto& p = pool(c);
  // One slot: commands queued one after the other run (and finish) in that order.
  std::mutex mutex;
  std::vector<int> finished;
  auto one = [&](int i) -> asio::awaitable<void> {
    auto c = command({"echo", std::to_string(i)});  // g++ 12 mishandles braced lists inside co_await
    auto r = co_await p.run("alice", std::move(c));
    EXPECT_EQ(r.out, std::to_string(i) + "\n");
    std::lock_guard lock(mutex);
    finished.push_back(i);
  };
  std::vector<std::future<void>> runs;
  for (int i = 0; i < 8; ++i) {
    runs.push_back(asio::co_spawn(io_, one(i), asio::use_future));
    std::this_thread::sleep_for(20ms);
  }
  for (auto& r : runs) r.get();
  EXPECT_EQ(finished, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  // While the slot is taken, a request whose deadline passes fails with timeout.
  auto holder = [&p]() -> asio::awaitable<void> {
    auto channel = co_await p.exec("alice", "sleep 2", std::chrono::steady_clock::now() + 10s);
    co_await channel.wait_exit();
  };
  auto held = asio::co_spawn(io_, holder(), asio::use_future);
  std::this_thread::sleep_for(300ms);
  auto late = [&p]() -> asio::awaitable<void> {
    co_await p.exec("alice", "true", std::chrono::steady_clock::now() + 300ms);
  };
  try {
    asio::co_spawn(io_, late(), asio::use_future).get();
    ADD_FAILURE() << "got a channel that was taken";
  } catch (const Failure& f) {
    EXPECT_EQ(f.kind(), ErrorKind::timeout) << f.what();
  }
  EXPECT_EQ(p.stats().waiters, 0u);
  held.get();
}

TEST_F(PoolTest, UsersNeverShareAConnection) {
  auto& p = pool(cluster());
  std::vector<std::pair<std::string, std::future<CommandResult>>> runs;
  for (int i = 0; i < 60; ++i) {
    std::string user = i % 2 ? "bob" : "alice";
    runs.emplace_back(user, start(p, user, command({"id", "-un"})));
  }
  for (auto& [user, f] : runs) EXPECT_EQ(f.get().out, user + "\n");
  EXPECT_GE(p.stats().connections_opened, 2u);
}

TEST_F(PoolTest, ChannelsAreReleasedAndIdleConnectionsClose) {
  auto c = cluster();
  c.ssh.idle_timeout = 300ms;
  auto& p = pool(c);
  EXPECT_TRUE(run(p, "alice", command({"true"})).ok());
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (p.stats().connections > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  auto s = p.stats();
  EXPECT_EQ(s.connections, 0u);
  EXPECT_EQ(s.channels_in_use, 0u);
  // A new request opens a new connection.
  EXPECT_TRUE(run(p, "alice", command({"true"})).ok());
  EXPECT_EQ(p.stats().connections_opened, 2u);
}

TEST_F(PoolTest, KeepalivesKeepAnIdleConnectionUsable) {
  auto c = cluster();
  c.ssh.keepalive = 100ms;  // several rounds, and several "dead after 3 silent periods" checks
  auto& p = pool(c);
  EXPECT_TRUE(run(p, "alice", command({"true"})).ok());
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(run(p, "alice", command({"sleep", "0.5"})).ok());  // quiet for longer than 3 periods
  EXPECT_TRUE(run(p, "alice", command({"true"})).ok());
  EXPECT_EQ(p.stats().connections_opened, 1u);
}

TEST_F(PoolTest, AWrongPinnedHostKeyIsRefused) {
  auto c = cluster();
  c.ssh.host_public_key = read_line(site_->ca_key + ".pub");  // an ed25519 key, but not the host's
  auto& p = pool(c);
  auto f = run_failure(p, "alice", command({"true"}));
  EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable);
  EXPECT_NE(std::string(f.what()).find("host key does not match the pinned key"), std::string::npos) << f.what();
  EXPECT_NE(f.detail().find("SHA256:"), std::string::npos) << f.detail();
  EXPECT_EQ(p.stats().connections_failed, 1u);
  EXPECT_EQ(p.stats().connections, 0u);
}

TEST_F(PoolTest, ACertificateFromAnUntrustedCaIsRefused) {
  const auto dir = temp_dir("portico-ca");
  const auto key = (dir / "ca").string();
  ASSERT_EQ(std::system(("ssh-keygen -q -t ed25519 -N '' -C other-ca -f " + portico::core::shell_quote(key)).c_str()), 0);
  portico::ssh::CaCredentialProvider other(portico::ssh::SigningKey::from_file(key), std::chrono::seconds(300));
  auto& p = pool(cluster(), &other);
  auto f = run_failure(p, "alice", command({"true"}));
  EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable);
  EXPECT_NE(std::string(f.what()).find("refused the credential for alice"), std::string::npos) << f.what();
  fs::remove_all(dir);
}

TEST_F(PoolTest, AnUnreachableServerFailsEveryWaiterQuickly) {
  auto& p = pool(cluster(free_port()));
  std::vector<std::future<CommandResult>> runs;
  for (int i = 0; i < 20; ++i) runs.push_back(start(p, "alice", command({"true"})));
  for (auto& r : runs) {
    try {
      r.get();
      ADD_FAILURE() << "connected to a closed port";
    } catch (const Failure& f) {
      EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable);
      EXPECT_EQ(std::string(f.what()).rfind("cannot reach hpc over SSH: ", 0), 0u) << f.what();
    }
  }
  EXPECT_GE(p.stats().connections_failed, 1u);
  EXPECT_EQ(p.stats().waiters, 0u);
}

TEST_F(PoolTest, RefusesInvalidRequestsBeforeConnecting) {
  auto& p = pool(cluster());
  EXPECT_EQ(run_failure(p, "../root", command({"true"})).kind(), ErrorKind::forbidden);
  EXPECT_EQ(run_failure(p, "alice", command({})).kind(), ErrorKind::bad_request);
  EXPECT_EQ(run_failure(p, "alice", command({std::string("a\0b", 3)})).kind(), ErrorKind::bad_request);
  EXPECT_EQ(p.stats().connections_opened, 0u);
}

TEST_F(PoolTest, AChannelStreamsBothWays) {
  auto& p = pool(cluster());
  auto body = [&p]() -> asio::awaitable<std::string> {
    auto channel = co_await p.exec("alice", "tr a-z A-Z", std::chrono::steady_clock::now() + 10s);
    co_await channel.async_write(asio::buffer(std::string_view("hello, channel\n")));
    co_await channel.send_eof();
    std::string out;
    char buffer[7];  // small on purpose: several reads
    for (;;) {
      auto n = co_await channel.async_read_some(portico::ssh::Stream::out, asio::buffer(buffer));
      if (n == 0) break;
      out.append(buffer, n);
    }
    EXPECT_EQ(co_await channel.async_read_some(portico::ssh::Stream::err, asio::buffer(buffer)), 0u);
    auto exit = co_await channel.wait_exit();
    EXPECT_EQ(exit.status, 0);
    co_return out;
  };
  EXPECT_EQ(asio::co_spawn(io_, body(), asio::use_future).get(), "HELLO, CHANNEL\n");
  // A reader that falls behind holds the command back rather than losing or reordering output.
  auto slow = [&p]() -> asio::awaitable<std::string> {
    auto channel = co_await p.exec("alice", "seq 1 400000", std::chrono::steady_clock::now() + 10s);
    asio::steady_timer pause(co_await asio::this_coro::executor, 500ms);
    co_await pause.async_wait(asio::use_awaitable);  // output piles up past every buffer meanwhile
    std::string out;
    std::vector<char> buffer(1000);
    for (;;) {
      auto n = co_await channel.async_read_some(portico::ssh::Stream::out, asio::buffer(buffer));
      if (n == 0) break;
      out.append(buffer.data(), n);
    }
    co_await channel.wait_exit();
    co_return out;
  };
  std::string expected;
  for (int i = 1; i <= 400000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_TRUE(asio::co_spawn(io_, slow(), asio::use_future).get() == expected);
  // Closing a channel early releases its slot.
  auto early = [&p]() -> asio::awaitable<void> {
    auto channel = co_await p.exec("alice", "sleep 30", std::chrono::steady_clock::now() + 10s);
    channel.close();
    try {
      co_await channel.wait_exit();
      ADD_FAILURE() << "wait_exit() after close() returned";
    } catch (const boost::system::system_error& e) {
      EXPECT_EQ(e.code(), asio::error::operation_aborted);
    }
  };
  asio::co_spawn(io_, early(), asio::use_future).get();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (p.stats().channels_in_use > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(p.stats().channels_in_use, 0u);
}

class PrivateSshdTest : public PoolTest {
 protected:
  void SetUp() override {
    PoolTest::SetUp();
    if (IsSkipped()) return;
    if (::geteuid() != 0) GTEST_SKIP() << "starting an sshd needs root";
    sshd_.emplace(*site_);
  }
  void TearDown() override {
    PoolTest::TearDown();
    sshd_.reset();
  }
  std::optional<PrivateSshd> sshd_;
};

TEST_F(PrivateSshdTest, ADeadConnectionIsReplacedAfterSshdRestarts) {
  auto& p = pool(cluster(sshd_->port()));
  EXPECT_EQ(run(p, "alice", command({"id", "-un"})).out, "alice\n");
  sshd_->kill_all();
  sshd_->start();
  auto r = run(p, "alice", command({"id", "-un"}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "alice\n");
  EXPECT_EQ(p.stats().connections_opened, 2u);
  EXPECT_EQ(p.stats().connections, 1u);
}

TEST_F(PrivateSshdTest, AChannelOpenOnAConnectionThatDiesIsRetriedOnAFreshOne) {
  auto& p = pool(cluster(sshd_->port()));
  EXPECT_EQ(run(p, "alice", command({"id", "-un"})).out, "alice\n");
  // The connection stops answering, so the next request's channel open stays pending on it...
  sshd_->freeze_sessions();
  auto pending = start(p, "alice", command({"id", "-un"}));
  std::this_thread::sleep_for(300ms);
  // ... when sshd restarts and the old connection's processes die.
  const auto old = sshd_->sessions();
  sshd_->kill_listener();
  sshd_->start();
  for (pid_t pid : old) ::kill(pid, SIGKILL);
  auto r = pending.get();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "alice\n");
  EXPECT_EQ(p.stats().retries, 1u);
  EXPECT_EQ(p.stats().connections_opened, 2u);
}

TEST_F(PrivateSshdTest, AConnectionThatStopsAnsweringKeepalivesIsDropped) {
  auto c = cluster(sshd_->port());
  c.ssh.keepalive = 100ms;
  auto& p = pool(c);
  EXPECT_TRUE(run(p, "alice", command({"true"})).ok());
  sshd_->freeze_sessions();  // the TCP connection stays up; nothing answers on it
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (p.stats().connections > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(p.stats().connections, 0u);
  EXPECT_TRUE(run(p, "alice", command({"true"})).ok());  // the listener still works
  EXPECT_EQ(p.stats().connections_opened, 2u);
}

TEST_F(PrivateSshdTest, TheLocalDeadlineEndsACommandOnAFrozenServer) {
  auto& p = pool(cluster(sshd_->port()));
  auto c = command({"sleep", "60"});
  c.timeout = 1s;
  auto pending = start(p, "alice", c);
  std::this_thread::sleep_for(500ms);
  sshd_->freeze_sessions();  // the remote `timeout` is frozen too: only the local deadline is left
  auto r = pending.get();
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_status, -1);
  EXPECT_GE(r.duration, std::chrono::microseconds(9s));
  EXPECT_LT(r.duration, std::chrono::microseconds(20s));
}

}  // namespace
