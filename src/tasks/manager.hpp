#pragma once
// Tasks: work that a request starts and a later request reads the outcome of (the IRI API's
// filesystem calls answer {task_id, task_uri} at once). A task runs as its user on an in-process
// worker (a coroutine on the gateway's executor), at most `per_user` of a user's at a time (more
// wait, pending, so one user's flood never holds the others' slots); every change of state is
// written to the store, so reads see it from any thread (or replica) and a restart keeps every
// ended task's result. A task the restart interrupted ends failed, saying so.
//
// States: pending -> active -> completed | failed | canceled. The result is the work's JSON
// object, or {"error": message} with the failure's client-safe words.
//
// Thread-safety: every method may be called from any thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/command.hpp"
#include "store/store.hpp"

namespace portico::tasks {

// Runs commands through `inner`, each stopped by `stop` (a cancelled task's command is killed).
class StoppableRunner final : public core::CommandRunner {
 public:
  StoppableRunner(core::CommandRunner& inner, std::shared_ptr<core::Stop> stop)
      : inner_(inner), stop_(std::move(stop)) {}
  boost::asio::awaitable<core::CommandResult> run(core::Command command) override;
  std::string user() const override { return inner_.user(); }
  void record_call(std::string what, int status, std::chrono::microseconds duration) override {
    inner_.record_call(std::move(what), status, duration);
  }
  // The inner runner's file calls: each is short and bounded by its own deadline, so a cancelled
  // task ends at its next call (none is given once it is stopped).
  boost::asio::awaitable<std::shared_ptr<core::RemoteFiles>> files() override;
  // The task's stop, for work that waits on something other than a command (a transfer job).
  const std::shared_ptr<core::Stop>& stop() const { return stop_; }

 private:
  core::CommandRunner& inner_;
  std::shared_ptr<core::Stop> stop_;
};

// Runs commands through `inner`, each for at most `limit` (the remote `timeout` kills it then),
// and remembers whether one ran out of time.
class LimitedRunner final : public core::CommandRunner {
 public:
  LimitedRunner(core::CommandRunner& inner, std::chrono::milliseconds limit) : inner_(inner), limit_(limit) {}
  boost::asio::awaitable<core::CommandResult> run(core::Command command) override;
  std::string user() const override { return inner_.user(); }
  void record_call(std::string what, int status, std::chrono::microseconds duration) override {
    inner_.record_call(std::move(what), status, duration);
  }
  boost::asio::awaitable<std::shared_ptr<core::RemoteFiles>> files() override { return inner_.files(); }
  bool outlasted() const { return outlasted_; }

 private:
  core::CommandRunner& inner_;
  std::chrono::milliseconds limit_;
  bool outlasted_ = false;
};

// What a task does, through a runner acting as its user (cancelling the task kills the command
// the runner is running). Returns the result, a serialized JSON object (a big listing is written
// as text at once, never as a tree); throws core::Failure when the operation failed.
using Work = std::function<boost::asio::awaitable<std::string>(StoppableRunner&)>;

class Manager {
 public:
  Manager(boost::asio::any_io_executor executor, store::Store& store, const config::Tasks& settings);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Ends, as failed, the tasks an earlier run left unfinished, and starts forgetting the tasks
  // that ended more than `retention` ago (checked every minute).
  void start();
  void stop();

  // Records a pending task of `user` and starts it, or queues it behind the user's running tasks.
  // `runner` acts as the user (made for the task: the request's audit trail is gone by the time
  // it runs); `command` is the task's {router, command, args}. Returns the task's id (a UUID).
  std::string submit(std::shared_ptr<core::CommandRunner> runner, const std::string& user, boost::json::object command,
                     Work work);

  // The task, if it is the user's (another user's task is as unknown as a missing one).
  std::optional<store::TaskRecord> get(const std::string& user, const std::string& id);
  // The user's tasks, oldest first.
  std::vector<store::TaskRecord> list(const std::string& user);
  // Cancels the user's task: a pending one never starts, an active one's command is killed; both
  // end canceled. A task that has already ended is left as it is. false: no such task of the user.
  bool cancel(const std::string& user, const std::string& id);

  // Tasks running or waiting in this process (for metrics and tests).
  std::size_t live() const;

 private:
  struct Live {
    store::TaskRecord record;
    std::shared_ptr<core::CommandRunner> runner;
    Work work;
    std::shared_ptr<core::Stop> stop = std::make_shared<core::Stop>();
    bool launched = false;  // guarded by mutex_
  };

  void claim_slot(Live& task);  // REQUIRES: mutex_ held
  void spawn(std::shared_ptr<Live> task);
  boost::asio::awaitable<void> run(std::shared_ptr<Live> task);
  void finished(const std::shared_ptr<Live>& task);
  boost::asio::awaitable<void> purge_loop();

  boost::asio::any_io_executor executor_;
  store::Store& store_;
  config::Tasks settings_;
  boost::asio::steady_timer purge_timer_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Live>> live_;  // pending and active, by id
  struct PerUser {
    std::size_t running = 0;
    std::deque<std::shared_ptr<Live>> waiting;
  };
  std::unordered_map<std::string, PerUser> users_;
  bool stopped_ = false;
};

}  // namespace portico::tasks
