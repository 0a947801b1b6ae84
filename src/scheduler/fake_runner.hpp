#pragma once
// Test helpers for scheduler backends: a CommandRunner that records what it is asked to run and
// answers from a queue (the golden outputs), and a way to run one awaitable to completion.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/command.hpp"
#include "core/error.hpp"

namespace portico::scheduler::testing {

using Argv = std::vector<std::string>;

// Acts as `user`. With nothing queued it fails as an unreachable cluster would.
class FakeRunner : public core::CommandRunner {
 public:
  explicit FakeRunner(std::string user = {}) : user_(std::move(user)) {}

  std::vector<core::Command> commands;                      // every command run, in order
  std::vector<std::pair<std::string, int>> backend_calls;   // record_call(): what, status
  std::deque<core::CommandResult> answers;

  FakeRunner& answer(std::string out, int exit_status = 0, std::string err = {}) {
    core::CommandResult r;
    r.exit_status = exit_status;
    r.out = std::move(out);
    r.err = std::move(err);
    answers.push_back(std::move(r));
    return *this;
  }

  // The argv of every command run, in order.
  std::vector<Argv> argvs() const {
    std::vector<Argv> out;
    for (const auto& c : commands) out.push_back(c.argv);
    return out;
  }

  boost::asio::awaitable<core::CommandResult> run(core::Command command) override {
    commands.push_back(command);
    if (answers.empty()) throw core::Failure(core::ErrorKind::backend_unreachable, "cannot connect to the cluster");
    core::CommandResult r = std::move(answers.front());
    answers.pop_front();
    co_return r;
  }
  std::string user() const override { return user_; }
  void record_call(std::string what, int status, std::chrono::microseconds) override {
    backend_calls.emplace_back(std::move(what), status);
  }

 private:
  std::string user_;
};

template <class T>
T await(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

// The Failure the task throws (a test failure when it throws none).
template <class T>
core::Failure failure_of(boost::asio::awaitable<T> task) {
  try {
    await(std::move(task));
  } catch (const core::Failure& e) {
    return e;
  }
  ADD_FAILURE() << "no Failure thrown";
  return core::Failure(core::ErrorKind::internal, "none");
}

}  // namespace portico::scheduler::testing
