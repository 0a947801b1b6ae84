#include "scheduler/slurm_cli.hpp"

#include "core/error.hpp"
#include "core/names.hpp"
#include "scheduler/command_output.hpp"
#include "scheduler/slurm_parse.hpp"

#include <fmt/format.h>

#include <chrono>

namespace portico::scheduler {

namespace {

// Each method builds its Command in a local before co_await: g++ 12 rejects a braced list of
// string literals inside a co_await expression ("array used as initializer").
core::Command command(std::vector<std::string> argv) {
  core::Command c;
  c.argv = std::move(argv);
  return c;
}

std::string describe(const std::vector<ControllerPing>& pings) {
  std::string text;
  for (const auto& p : pings) {
    if (!text.empty()) text += "; ";
    text += fmt::format("Slurmctld({}) at {} is {}", p.mode, p.host, p.up ? "UP" : "DOWN");
  }
  return text;
}

}  // namespace

boost::asio::awaitable<std::string> SlurmCli::version(core::CommandRunner& runner) {
  {
    std::lock_guard lock(mutex_);
    if (version_) co_return *version_;
  }
  core::Command cmd = command({"scontrol", "--version"});
  auto result = co_await runner.run(std::move(cmd));
  std::string version = parse_slurm_version(successful_output(result, "scontrol --version"));
  std::lock_guard lock(mutex_);
  version_ = version;
  co_return version;
}

boost::asio::awaitable<std::vector<Node>> SlurmCli::nodes(core::CommandRunner& runner) {
  core::Command cmd = command({"scontrol", "--all", "--oneliner", "show", "node"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_scontrol_nodes(successful_output(result, "scontrol show node"));
}

boost::asio::awaitable<std::vector<Partition>> SlurmCli::partitions(core::CommandRunner& runner) {
  core::Command cmd = command({"scontrol", "--all", "--oneliner", "show", "partition"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_scontrol_partitions(successful_output(result, "scontrol show partition"));
}

boost::asio::awaitable<std::vector<Reservation>> SlurmCli::reservations(core::CommandRunner& runner) {
  // Epoch seconds: scontrol's default is local time of the cluster, whose zone we do not know.
  core::Command cmd = command({"env", "SLURM_TIME_FORMAT=%s", "scontrol", "--oneliner", "show", "reservation"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_scontrol_reservations(successful_output(result, "scontrol show reservation"));
}

boost::asio::awaitable<std::vector<Account>> SlurmCli::accounts(core::CommandRunner& runner, std::string user) {
  // The argv is quoted for the shell, but sacctmgr itself would read "a,b" as two users.
  if (!core::valid_unix_name(user))
    throw core::Failure(core::ErrorKind::bad_request, "invalid user name", "accounts() for " + excerpt(user));
  core::Command cmd = command({"sacctmgr", "--noheader", "--parsable2", "show", "user",
                                             "name=" + user, "withassoc", "format=DefaultAccount,Account"});
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_sacctmgr_user_accounts(successful_output(result, "sacctmgr show user"));
}

boost::asio::awaitable<Health> SlurmCli::ping(core::CommandRunner& runner) {
  auto start = std::chrono::steady_clock::now();
  core::Command cmd = command({"scontrol", "ping"});
  auto result = co_await runner.run(std::move(cmd));
  Health health;
  health.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  if (result.timed_out) {
    health.message = "scontrol ping timed out";
    co_return health;
  }
  try {
    auto pings = parse_scontrol_ping(result.out);
    for (const auto& p : pings) health.healthy = health.healthy || p.up;
    health.message = describe(pings);
  } catch (const core::Failure& e) {
    // No controller line: scontrol itself failed (not installed, no slurm.conf, ...).
    health.message = result.exit_status != 0 && !result.err.empty()
                         ? fmt::format("scontrol ping failed with exit status {}: {}", result.exit_status,
                                       excerpt(result.err, 200))
                         : e.what();
  }
  co_return health;
}

}  // namespace portico::scheduler
