#pragma once
// A command run on a cluster as a user, and its outcome. The argv is never joined by hand:
// shell.hpp's command_line() is the one place that builds a remote command line.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/remote_files.hpp"
#include "core/stop.hpp"

namespace portico::core {

struct Command {
  std::vector<std::string> argv;
  std::string stdin_data;                 // written to the command's stdin, then EOF
  std::chrono::milliseconds timeout{0};   // 0: the cluster's configured command timeout
  std::size_t max_output = 0;             // per stream; 0: the cluster's configured cap
  std::shared_ptr<Stop> stop;             // when set, stop() kills the command (a cancelled task)
};

struct CommandResult {
  int exit_status = -1;                   // -1 when killed by a signal
  std::string signal;                     // "KILL", "TERM", ... when killed by a signal
  std::string out;
  std::string err;
  bool out_truncated = false;
  bool err_truncated = false;
  bool timed_out = false;                 // the remote `timeout` fired (exit 124) or the local deadline
  std::chrono::microseconds duration{0};

  bool ok() const noexcept { return exit_status == 0 && !timed_out; }
};

// Runs commands on one cluster as one user. Implemented by the SSH pool; faked in unit tests.
// Throws core::Failure (backend_unreachable, timeout, unavailable) when the command cannot run.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual boost::asio::awaitable<CommandResult> run(Command command) = 0;

  // The user the commands run as, for backends that act as the user by other means (a Slurm
  // token for slurmrestd); "" when the runner does not say.
  virtual std::string user() const { return {}; }
  // Records a call to a backend that is not a command, e.g. "slurmrestd:GET /slurm/v0.0.38/jobs"
  // with its HTTP status (-1 when it could not be made), in the request's audit trail.
  virtual void record_call(std::string /*what*/, int /*status*/, std::chrono::microseconds /*duration*/) {}

  // File calls without a command (remote_files.hpp), as the same user; null when the runner has
  // none (switched off, a server without SFTP, a session that could not start): then every
  // operation is a command. Runners that wrap another pass its files on.
  virtual boost::asio::awaitable<std::shared_ptr<RemoteFiles>> files() { co_return nullptr; }
};

}  // namespace portico::core
