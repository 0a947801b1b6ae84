// SFTP sessions through the pool against the demo site's real sshd (internal-sftp), and against
// private sshd instances for a server without the subsystem and for one that stops answering.
// Files are made in alice's scratch directory and removed at the end.

#include "ssh/sftp_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <future>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "ssh/credentials.hpp"
#include "ssh/pool.hpp"
#include "ssh/sshd_support.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace portico::ssh::testing;
using portico::core::Command;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::core::FileError;
using portico::core::FileStatus;
using portico::core::RemoteFile;
using portico::core::RemoteFiles;
using portico::ssh::Pool;
using portico::ssh::SftpResult;
using portico::ssh::SftpSession;

namespace {

using Task = asio::awaitable<void>;

class SftpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    site_ = load_site();
    if (!site_) GTEST_SKIP() << "the demo site is not running (no var/site/site.json)";
    credentials_ = std::make_unique<portico::ssh::CaCredentialProvider>(
        portico::ssh::SigningKey::from_file(site_->ca_key), std::chrono::seconds(300));
    for (int i = 0; i < 3; ++i) threads_.emplace_back([this] { io_.run(); });
    dir_ = "/scratch/alice/sftp-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device()());
  }

  void TearDown() override {
    if (threads_.empty()) return;
    if (made_dir_) {
      auto& p = pool(cluster());
      Command rm;
      rm.argv = {"rm", "-rf", "--", dir_};
      run(p.run("alice", rm));
    }
    for (auto& pool : pools_) pool->shutdown();
    pools_.clear();
    work_.reset();
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

  Pool& pool(const portico::config::Cluster& c) {
    pools_.push_back(std::make_unique<Pool>(io_.get_executor(), c, *credentials_));
    return *pools_.back();
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    return asio::co_spawn(io_, std::move(work), asio::use_future).get();
  }

  SftpResult sftp(Pool& p, const std::string& user = "alice") {
    return run(p.sftp(user, std::chrono::steady_clock::now() + 10s));
  }

  std::shared_ptr<SftpSession> session(Pool& p, const std::string& user = "alice") {
    auto r = sftp(p, user);
    if (!r.session) throw std::runtime_error("no SFTP session");
    return r.session;
  }

  std::string shell(Pool& p, const std::string& user, std::vector<std::string> argv) {
    Command c;
    c.argv = std::move(argv);
    auto r = run(p.run(user, c));
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

  // The scratch directory of the test, made on first use.
  const std::string& dir(Pool& p) {
    if (!made_dir_) {
      shell(p, "alice", {"mkdir", "-p", "--", dir_});
      made_dir_ = true;
    }
    return dir_;
  }

  static asio::awaitable<void> put(std::shared_ptr<RemoteFiles> files, std::string path, std::string content) {
    auto file = co_await files->open(path, RemoteFiles::Open::create_new);
    co_await file->write(std::move(content));
    co_await file->sync();
    co_await file->close();
  }

  static asio::awaitable<std::string> get(std::shared_ptr<RemoteFiles> files, std::string path, std::uint64_t offset = 0,
                                          std::uint64_t length = UINT64_MAX) {
    auto file = co_await files->open(path, RemoteFiles::Open::read);
    file->read_range(offset, length);
    std::string all;
    for (;;) {
      auto piece = co_await file->read();
      if (piece.empty()) break;
      all += piece;
    }
    co_await file->close();
    co_return all;
  }

  // The FileError status a call throws; fails the test when it throws none.
  template <class T>
  FileStatus refusal(asio::awaitable<T> work) {
    try {
      run(std::move(work));
    } catch (const FileError& e) {
      return e.status();
    }
    ADD_FAILURE() << "the call was not refused";
    return FileStatus::ok;
  }

  std::optional<Site> site_;
  std::unique_ptr<portico::ssh::CredentialProvider> credentials_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Pool>> pools_;
  std::string dir_;
  bool made_dir_ = false;
};

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

TEST_F(SftpTest, AFileWrittenIsReadBackWholeAndInRanges) {
  auto& p = pool(cluster());
  auto files = session(p);
  const auto path = dir(p) + "/data.bin";
  const auto content = random_bytes(5 * 1024 * 1024 + 17, 1);  // many pieces, the last one short
  run(put(files, path, content));
  EXPECT_EQ(shell(p, "alice", {"sha256sum", "--", path}).substr(0, 64),
            shell(p, "alice", {"sh", "-c", "head -c 5242897 -- \"$1\" | sha256sum", "sh", path}).substr(0, 64));
  EXPECT_TRUE(run(get(files, path)) == content);
  EXPECT_TRUE(run(get(files, path, 1000, 300000)) == content.substr(1000, 300000));
  EXPECT_TRUE(run(get(files, path, content.size() - 5, 1000)) == content.substr(content.size() - 5));
  EXPECT_EQ(run(get(files, path, content.size() + 10, 10)), "");
  auto attrs = run(files->stat(path, true));
  EXPECT_EQ(attrs.size, content.size());
  EXPECT_TRUE(attrs.is_regular());
  // The server made it as alice, 0666 less the umask, as a shell redirection does.
  EXPECT_EQ(shell(p, "alice", {"stat", "-c", "%U %a", "--", path}), "alice 644\n");
}

TEST_F(SftpTest, ManyRequestsInFlightEachGetTheirOwnAnswer) {
  auto& p = pool(cluster());
  auto files = session(p);
  const auto& d = dir(p);
  // Files of distinct sizes, then twice as many stats as requests may be in flight, all at once.
  shell(p, "alice", {"sh", "-c", "cd \"$1\" && for i in $(seq 0 99); do head -c $i /dev/zero > f$i; done", "sh", d});
  std::vector<std::future<portico::core::FileAttributes>> stats;
  for (int i = 0; i < 2 * static_cast<int>(SftpSession::kMaxInFlight); ++i)
    stats.push_back(asio::co_spawn(io_, files->stat(d + "/f" + std::to_string(i % 100), true), asio::use_future));
  for (int i = 0; i < static_cast<int>(stats.size()); ++i) EXPECT_EQ(stats[i].get().size, static_cast<std::uint64_t>(i % 100));
  EXPECT_EQ(files->in_flight(), 0u);
}

TEST_F(SftpTest, RefusalsCarryTheServersStatus) {
  auto& p = pool(cluster());
  auto files = session(p);
  const auto& d = dir(p);
  EXPECT_EQ(refusal(files->stat(d + "/missing", true)), FileStatus::no_such_file);
  EXPECT_EQ(refusal(files->open("/home/bob/.profile", RemoteFiles::Open::read)), FileStatus::permission_denied);
  EXPECT_EQ(refusal(files->open("/home/bob/x", RemoteFiles::Open::create_new)), FileStatus::permission_denied);
  run(put(files, d + "/once", "x"));
  EXPECT_EQ(refusal(files->open(d + "/once", RemoteFiles::Open::create_new)), FileStatus::failure);  // EEXIST
  EXPECT_EQ(refusal(files->remove(d)), FileStatus::failure);  // a directory: EISDIR
  EXPECT_EQ(refusal(files->make_directory(d)), FileStatus::failure);  // EEXIST
  // A refusal leaves the session usable.
  EXPECT_EQ(run(files->stat(d + "/once", true)).size, 1u);
}

TEST_F(SftpTest, HostileNamesReachTheServerAsTheyAre) {
  auto& p = pool(cluster());
  auto files = session(p);
  const auto& d = dir(p);
  for (std::string name : {"with space", "quote'single", "quote\"double", "$(id)", "`id`", "new\nline", "-leading-dash",
                           "semi;colon", "star*"}) {
    const auto path = d + "/" + name;
    run(put(files, path, name));
    EXPECT_EQ(shell(p, "alice", {"cat", "--", path}), name);
    run(files->make_symlink(name, path + ".ln"));
    EXPECT_EQ(run(files->read_link(path + ".ln")), name);
    EXPECT_EQ(shell(p, "alice", {"readlink", "--", path + ".ln"}), name + "\n");
    run(files->rename(path, path + ".moved"));
    EXPECT_EQ(run(get(files, path + ".moved")), name);
    run(files->set_mode(path + ".moved", 0600));
    EXPECT_EQ(shell(p, "alice", {"stat", "-c", "%a", "--", path + ".moved"}), "600\n");
    run(files->remove(path + ".moved"));
    run(files->remove(path + ".ln"));
    run(files->make_directory(path));
    EXPECT_TRUE(run(files->stat(path, false)).is_directory());
  }
  EXPECT_EQ(shell(p, "alice", {"find", d, "-mindepth", "1", "-printf", "x"}), "xxxxxxxxx");  // 9 directories
}

TEST_F(SftpTest, RenameReplacesTheTargetAsRenameDoes) {
  auto& p = pool(cluster());
  auto files = session(p);
  const auto& d = dir(p);
  run(put(files, d + "/new", "new"));
  run(put(files, d + "/old", "old"));
  run(files->rename(d + "/new", d + "/old"));
  EXPECT_EQ(run(get(files, d + "/old")), "new");
  EXPECT_EQ(refusal(files->stat(d + "/new", true)), FileStatus::no_such_file);
}

TEST_F(SftpTest, NamesUsersAndGroupsAsLsDoes) {
  auto& p = pool(cluster());
  auto files = session(p);
  const auto uid = static_cast<std::uint32_t>(std::stoul(shell(p, "alice", {"id", "-u"})));
  const auto gid = static_cast<std::uint32_t>(std::stoul(shell(p, "alice", {"id", "-g"})));
  EXPECT_EQ(run(files->user_name(uid)), "alice");
  EXPECT_EQ(run(files->group_name(gid)), shell(p, "alice", {"id", "-gn"}).substr(0, shell(p, "alice", {"id", "-gn"}).size() - 1));
  EXPECT_EQ(run(files->user_name(0)), "root");
  EXPECT_EQ(run(files->user_name(4'000'000'000u)), "");  // no such user
}

TEST_F(SftpTest, ReadsTheClustersTimeZoneOnce) {
  auto& p = pool(cluster());
  auto files = session(p);
  // The site's sshd is on this machine: its /etc/localtime is ours ("" when there is none).
  const auto expected = shell(p, "alice", {"sh", "-c", "cat /etc/localtime 2>/dev/null || true"});
  EXPECT_EQ(run(files->local_time_zone()), expected);
  EXPECT_EQ(run(files->local_time_zone()), expected);
}

TEST_F(SftpTest, EachConnectionKeepsOneSessionBesideItsCommands) {
  auto& p = pool(cluster());
  auto first = session(p);
  EXPECT_EQ(session(p), first);
  std::vector<std::future<SftpResult>> more;
  for (int i = 0; i < 20; ++i) more.push_back(asio::co_spawn(io_, p.sftp("alice", std::chrono::steady_clock::now() + 10s), asio::use_future));
  for (auto& m : more) EXPECT_EQ(m.get().session, first);
  EXPECT_EQ(shell(p, "alice", {"id", "-un"}), "alice\n");
  auto s = p.stats();
  EXPECT_EQ(s.sftp_sessions, 1u);
  EXPECT_EQ(s.connections, 1u);
  EXPECT_EQ(s.connections_opened, 1u);
  // Another user has a session of their own.
  auto bobs = session(p, "bob");
  EXPECT_NE(bobs, first);
  EXPECT_EQ(p.stats().sftp_sessions, 2u);
}

TEST_F(SftpTest, AnIdleConnectionClosesWithItsSession) {
  auto c = cluster();
  c.ssh.idle_timeout = 300ms;
  auto& p = pool(c);
  auto files = session(p);
  EXPECT_EQ(run(files->stat("/scratch/alice", true)).is_directory(), true);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((p.stats().connections > 0 || files->alive()) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(p.stats().connections, 0u);
  EXPECT_EQ(p.stats().sftp_sessions, 0u);
  EXPECT_EQ(p.stats().channels_in_use, 0u);
  EXPECT_FALSE(files->alive());
  // The next call opens a connection and a session again.
  auto again = session(p);
  EXPECT_NE(again, files);
  EXPECT_TRUE(run(again->stat("/scratch/alice", true)).is_directory());
  EXPECT_EQ(p.stats().connections_opened, 2u);
}

class PrivateSshdSftpTest : public SftpTest {
 protected:
  void start_sshd(bool sftp) {
    if (::geteuid() != 0) GTEST_SKIP() << "starting an sshd needs root";
    sshd_.emplace(*site_, sftp);
  }
  void TearDown() override {
    SftpTest::TearDown();
    sshd_.reset();
  }
  std::optional<PrivateSshd> sshd_;
};

TEST_F(PrivateSshdSftpTest, AServerWithoutTheSubsystemIsAskedOncePerConnection) {
  start_sshd(false);
  auto& p = pool(cluster(sshd_->port()));
  for (int i = 0; i < 3; ++i) {
    auto r = sftp(p);
    EXPECT_FALSE(r.session);
    EXPECT_TRUE(r.no_subsystem);
  }
  EXPECT_EQ(p.stats().sftp_refused, 1u);
  EXPECT_EQ(p.stats().sftp_sessions, 0u);
  EXPECT_EQ(p.stats().channels_in_use, 0u);
  // Commands go on as before, on the same connection.
  EXPECT_EQ(shell(p, "alice", {"id", "-un"}), "alice\n");
  EXPECT_EQ(p.stats().connections_opened, 1u);
}

TEST_F(PrivateSshdSftpTest, ASessionEndsWithItsConnectionAndANewOneFollows) {
  start_sshd(true);
  auto& p = pool(cluster(sshd_->port()));
  auto files = session(p);
  EXPECT_TRUE(run(files->stat("/scratch/alice", true)).is_directory());
  sshd_->kill_all();
  try {
    run(files->stat("/scratch/alice", true));
    ADD_FAILURE() << "a call on a dead connection succeeded";
  } catch (const Failure& f) {
    EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable) << f.what();
  }
  EXPECT_FALSE(files->alive());
  sshd_->start();
  auto again = session(p);
  EXPECT_TRUE(again->alive());
  EXPECT_TRUE(run(again->stat("/scratch/alice", true)).is_directory());
}

TEST_F(PrivateSshdSftpTest, AServerThatStopsAnsweringTimesOutAndTheSessionCloses) {
  start_sshd(true);
  auto c = cluster(sshd_->port());
  c.ssh.command_timeout = 1s;
  auto& p = pool(c);
  auto files = session(p);
  EXPECT_TRUE(run(files->stat("/scratch/alice", true)).is_directory());
  sshd_->freeze_sessions();
  try {
    run(files->stat("/scratch/alice", true));
    ADD_FAILURE() << "a call on a frozen server succeeded";
  } catch (const Failure& f) {
    EXPECT_EQ(f.kind(), ErrorKind::timeout) << f.what();
  }
  EXPECT_FALSE(files->alive());
  sshd_->kill_all();  // frozen processes do not close their connections by themselves
}

}  // namespace
