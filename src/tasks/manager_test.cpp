#include "tasks/manager.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <chrono>

#include "core/error.hpp"
#include "core/time.hpp"

namespace portico::tasks {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// Each command waits until the test opens the gate, or until it is stopped (as the pool closes a
// stopped command's channel).
class GateRunner : public core::CommandRunner {
 public:
  explicit GateRunner(asio::io_context& io) : io_(io) {}
  int started = 0;
  int stopped = 0;
  bool open = false;
  std::vector<asio::steady_timer*> waiting;

  void open_gate() {
    open = true;
    for (auto* t : waiting) t->cancel();
  }

  asio::awaitable<core::CommandResult> run(core::Command command) override {
    ++started;
    asio::steady_timer timer(io_, std::chrono::hours(1));
    waiting.push_back(&timer);
    bool was_stopped = false;
    if (command.stop) command.stop->on_stop([&] { was_stopped = true; timer.cancel(); });
    if (!open) {
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (command.stop) command.stop->clear();
    std::erase(waiting, &timer);
    core::CommandResult r;
    if (was_stopped) {
      ++stopped;
      r.exit_status = -1;
      r.signal = "KILL";
    } else {
      r.exit_status = 0;
      r.out = command.argv.empty() ? "" : command.argv.front();
    }
    co_return r;
  }

 private:
  asio::io_context& io_;
};

Work echo(std::string word) {
  return [word](core::CommandRunner& runner) -> asio::awaitable<std::string> {
    core::Command c;
    c.argv = {word};
    auto r = co_await runner.run(std::move(c));
    if (!r.ok()) throw core::Failure(core::ErrorKind::bad_request, "killed");
    co_return json::serialize(json::object{{"output", r.out}});
  };
}

Work failing() {
  return [](core::CommandRunner&) -> asio::awaitable<std::string> {
    throw core::Failure(core::ErrorKind::not_found, "ls: cannot access '/x': No such file or directory");
    co_return std::string();
  };
}

class TasksTest : public ::testing::Test {
 protected:
  asio::io_context io;
  std::unique_ptr<store::Store> store = store::open_sqlite(":memory:");
  std::shared_ptr<GateRunner> runner = std::make_shared<GateRunner>(io);
  config::Tasks settings;

  // Runs the loop until `done` holds (bounded: each step waits at most 10 ms for work).
  template <class F>
  bool run_until(F done) {
    for (int i = 0; i < 1000 && !done(); ++i) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
    return done();
  }
  std::string status(Manager& m, const std::string& id, const std::string& user = "alice") {
    auto t = m.get(user, id);
    return t ? t->status : "none";
  }
};

TEST_F(TasksTest, ACompletedTaskKeepsItsCommandAndResult) {
  Manager m(io.get_executor(), *store, settings);
  m.start();
  runner->open = true;
  auto id = m.submit(runner, "alice", {{"router", "filesystem"}, {"command", "ls"}, {"args", json::object{}}}, echo("x"));
  EXPECT_EQ(id.size(), 36u);
  ASSERT_TRUE(run_until([&] { return status(m, id) == "completed"; }));
  auto t = m.get("alice", id);
  EXPECT_EQ(json::parse(t->result), (json::object{{"output", "x"}}));
  EXPECT_EQ(json::parse(t->command).at("command"), "ls");
  EXPECT_TRUE(t->ended);
  EXPECT_EQ(m.live(), 0u);
}

TEST_F(TasksTest, AFailureEndsFailedWithTheToolsWords) {
  Manager m(io.get_executor(), *store, settings);
  auto id = m.submit(runner, "alice", {}, failing());
  ASSERT_TRUE(run_until([&] { return status(m, id) == "failed"; }));
  EXPECT_EQ(json::parse(m.get("alice", id)->result),
            (json::object{{"error", "ls: cannot access '/x': No such file or directory"}}));
}

TEST_F(TasksTest, AnotherUsersTaskIsUnknown) {
  Manager m(io.get_executor(), *store, settings);
  auto id = m.submit(runner, "alice", {}, echo("x"));
  EXPECT_FALSE(m.get("bob", id));
  EXPECT_FALSE(m.cancel("bob", id));
  EXPECT_TRUE(m.list("bob").empty());
  EXPECT_EQ(m.list("alice").size(), 1u);
  runner->open_gate();
  ASSERT_TRUE(run_until([&] { return status(m, id) == "completed"; }));
}

TEST_F(TasksTest, AUsersTasksBeyondTheBoundWaitPendingAndOthersAreNotHeldUp) {
  settings.per_user = 2;
  Manager m(io.get_executor(), *store, settings);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(m.submit(runner, "alice", {}, echo("a")));
  ASSERT_TRUE(run_until([&] { return runner->started == 2; }));
  auto bobs = m.submit(runner, "bob", {}, echo("b"));
  ASSERT_TRUE(run_until([&] { return runner->started == 3; }));  // bob's starts at once
  EXPECT_EQ(status(m, ids[0]), "active");
  EXPECT_EQ(status(m, ids[1]), "active");
  EXPECT_EQ(status(m, ids[2]), "pending");
  EXPECT_EQ(status(m, ids[3]), "pending");
  EXPECT_EQ(status(m, bobs, "bob"), "active");
  runner->open_gate();
  ASSERT_TRUE(run_until([&] {
    for (auto& id : ids)
      if (status(m, id) != "completed") return false;
    return status(m, bobs, "bob") == "completed";
  }));
  EXPECT_EQ(runner->started, 5);
}

TEST_F(TasksTest, CancellingKillsAnActiveTasksCommandAndAPendingOneNeverStarts) {
  settings.per_user = 1;
  Manager m(io.get_executor(), *store, settings);
  auto active = m.submit(runner, "alice", {}, echo("a"));
  auto pending = m.submit(runner, "alice", {}, echo("b"));
  ASSERT_TRUE(run_until([&] { return runner->started == 1; }));
  EXPECT_TRUE(m.cancel("alice", pending));
  EXPECT_EQ(status(m, pending), "canceled");  // at once
  EXPECT_TRUE(m.cancel("alice", active));
  ASSERT_TRUE(run_until([&] { return status(m, active) == "canceled"; }));
  EXPECT_EQ(runner->stopped, 1);
  EXPECT_EQ(runner->started, 1);  // the pending one never ran
  EXPECT_EQ(m.live(), 0u);
  // An ended task is left as it is.
  EXPECT_TRUE(m.cancel("alice", active));
  EXPECT_EQ(status(m, active), "canceled");
}

TEST_F(TasksTest, ARestartEndsUnfinishedTasksFailedAndKeepsEndedOnes) {
  store->put_task({"11111111-1111-4111-8111-111111111111", "alice", "active", "{}", "", 1, 1, {}});
  store->put_task({"22222222-2222-4222-8222-222222222222", "alice", "completed", "{}", R"({"output":1})", 1, 2, 2});
  Manager m(io.get_executor(), *store, settings);
  m.start();
  auto interrupted = m.get("alice", "11111111-1111-4111-8111-111111111111");
  EXPECT_EQ(interrupted->status, "failed");
  EXPECT_NE(interrupted->result.find("restart"), std::string::npos);
  EXPECT_EQ(m.get("alice", "22222222-2222-4222-8222-222222222222")->result, R"({"output":1})");
}

TEST_F(TasksTest, EndedTasksAreForgottenAfterTheRetention) {
  const auto old = core::now_millis() - 2 * 3600 * 1000;
  store->put_task({"33333333-3333-4333-8333-333333333333", "alice", "completed", "{}", "{}", old, old, old});
  settings.retention = std::chrono::hours(1);
  Manager m(io.get_executor(), *store, settings);
  m.start();
  ASSERT_TRUE(run_until([&] { return !m.get("alice", "33333333-3333-4333-8333-333333333333"); }));
  m.stop();
}

}  // namespace
}  // namespace portico::tasks
