#include "cluster/cluster.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "cluster/identity.hpp"
#include "core/error.hpp"
#include "core/names.hpp"
#include "core/shell.hpp"
#include "scheduler/pbs_cli.hpp"
#include "scheduler/slurm_cli.hpp"
#include "scheduler/slurm_rest.hpp"
#include "ssh/sftp_session.hpp"

namespace portico::cluster {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;

namespace {

// "ssh:<program>" for the audit line; `env NAME=value program ...` is named for the program.
std::string describe(const core::Command& command) {
  std::size_t i = 0;
  if (i < command.argv.size() && command.argv[i] == "env") ++i;
  while (i < command.argv.size() && command.argv[i].find('=') != std::string::npos) ++i;
  return i < command.argv.size() ? "ssh:" + command.argv[i] : std::string("ssh");
}
}  // namespace

UserRunner::UserRunner(ssh::Pool& pool, const status::HealthChecker* health, std::string user,
                       std::vector<http::BackendCall>* log)
    : pool_(pool), health_(health), user_(std::move(user)), log_(log) {}

asio::awaitable<core::CommandResult> UserRunner::run(core::Command command) {
  if (health_ && health_->is_down(status::ServiceType::ssh))
    throw Failure(ErrorKind::unavailable, "the SSH service of system '" + health_->cluster() + "' is down");
  auto what = describe(command);
  auto start = std::chrono::steady_clock::now();
  try {
    auto result = co_await pool_.run(user_, std::move(command));
    if (log_) log_->push_back({what, result.exit_status, result.duration});
    co_return result;
  } catch (...) {
    if (log_)
      log_->push_back({what, -1, std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)});
    throw;
  }
}

asio::awaitable<ssh::Channel> UserRunner::open(std::vector<std::string> argv,
                                               std::chrono::steady_clock::time_point deadline) {
  if (health_ && health_->is_down(status::ServiceType::ssh))
    throw Failure(ErrorKind::unavailable, "the SSH service of system '" + health_->cluster() + "' is down");
  core::Command command;
  command.argv = std::move(argv);
  auto what = describe(command) + " (stream)";
  auto start = std::chrono::steady_clock::now();
  auto line = core::command_line(command.argv);
  try {
    auto channel = co_await pool_.exec(user_, std::move(line), deadline);
    if (log_) log_->push_back({what, 0, std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)});
    co_return channel;
  } catch (...) {
    if (log_)
      log_->push_back({what, -1, std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)});
    throw;
  }
}

namespace {
// One scheduler per cluster, by its configured type.
std::unique_ptr<scheduler::Scheduler> make_scheduler(const config::Cluster& config,
                                                     std::shared_ptr<const net::HttpClient> http) {
  switch (config.scheduler.type) {
    case config::SchedulerType::slurm:
      return std::make_unique<scheduler::SlurmCli>();
    case config::SchedulerType::slurm_rest: {
      scheduler::SlurmRestOptions options;
      options.api_url = config.scheduler.api_url;
      options.api_version = config.scheduler.api_version;
      options.timeout = config.ssh.command_timeout;
      if (!http) http = std::make_shared<const net::HttpClient>();
      return std::make_unique<scheduler::SlurmRest>(std::move(http), std::move(options),
                                                    scheduler::SlurmTokenMinter::from_file(config.scheduler.jwt_key_file));
    }
    case config::SchedulerType::pbs:
      return std::make_unique<scheduler::PbsCli>(config.scheduler.projects);
  }
  throw Failure(ErrorKind::internal, "unknown scheduler type");
}
}  // namespace

void UserRunner::record_call(std::string what, int status, std::chrono::microseconds duration) {
  if (log_) log_->push_back({std::move(what), status, duration});
}

asio::awaitable<std::shared_ptr<core::RemoteFiles>> UserRunner::files() {
  if (health_ && health_->is_down(status::ServiceType::ssh))
    throw Failure(ErrorKind::unavailable, "the SSH service of system '" + health_->cluster() + "' is down");
  const auto deadline = std::chrono::steady_clock::now() + pool_.command_timeout();
  auto sftp = co_await pool_.sftp(user_, deadline);
  co_return std::move(sftp.session);
}

Cluster::Cluster(asio::any_io_executor executor, const config::Cluster& config, ssh::CredentialProvider& credentials,
                 const config::Config& root, std::shared_ptr<const net::HttpClient> http)
    : config_(config) {
  if (root.rate_limits.enabled && config_.user_rate_limit)
    user_rate_limit_ = std::make_unique<limits::TokenBuckets>(*config_.user_rate_limit, root.rate_limits.max_buckets);
  pool_ = std::make_unique<ssh::Pool>(executor, config_, credentials);
  scheduler_ = make_scheduler(config_, http);

  std::vector<status::Probe> probes;
  if (!config_.probe_user.empty()) {
    auto user = config_.probe_user;
    // SSH: a login and a command, then the file service (which the snapshot names when
    // file operations cannot use it).
    probes.push_back({status::ServiceType::ssh, "", [this, user]() -> asio::awaitable<std::string> {
                        UserRunner runner(*pool_, nullptr, user, nullptr);
                        core::Command c;
                        c.argv = {"true"};
                        auto r = co_await runner.run(std::move(c));
                        if (!r.ok()) throw std::runtime_error("`true` exited with " + std::to_string(r.exit_status));
                        if (!config_.ssh.sftp) co_return "SFTP switched off: file operations run as commands";
                        const auto deadline = std::chrono::steady_clock::now() + config_.probe_timeout;
                        auto sftp = co_await pool_->sftp(user, deadline);
                        if (sftp.session) co_return "";
                        if (sftp.no_subsystem) co_return "no SFTP subsystem: file operations run as commands";
                        co_return "SFTP did not start: file operations run as commands";
                      }});
    probes.push_back({status::ServiceType::scheduler, "", [this, user]() -> asio::awaitable<std::string> {
                        UserRunner runner(*pool_, nullptr, user, nullptr);
                        auto health = co_await scheduler_->ping(runner);
                        if (!health.healthy) throw std::runtime_error(health.message);
                        auto version = co_await scheduler_->version(runner);
                        std::lock_guard lock(version_mutex_);
                        scheduler_version_ = version;
                        co_return "";
                      }});
    for (const auto& fs : config_.file_systems) {
      probes.push_back({status::ServiceType::filesystem, fs.path, [this, user, path = fs.path]() -> asio::awaitable<std::string> {
                          UserRunner runner(*pool_, nullptr, user, nullptr);
                          core::Command c;
                          c.argv = {"test", "-d", path};
                          auto r = co_await runner.run(std::move(c));
                          if (r.timed_out) throw std::runtime_error("timed out checking " + path);
                          if (!r.ok()) throw std::runtime_error(path + " is not an accessible directory");
                          co_return "";
                        }});
    }
  }
  if (root.s3 && http) {
    // Any answer below 500 means the endpoint is up: an unsigned request may well be refused.
    probes.push_back({status::ServiceType::s3, "", [http, endpoint = root.s3->endpoint, timeout = config_.probe_timeout]()
                                                        -> asio::awaitable<std::string> {
                        net::HttpRequest request;
                        request.url = endpoint + "/";
                        request.timeout = timeout;
                        request.max_response_bytes = 64 * 1024;
                        auto response = co_await http->request(std::move(request));
                        if (response.status >= 500)
                          throw std::runtime_error("S3 endpoint answered HTTP " + std::to_string(response.status));
                        co_return "";
                      }});
  }
  health_ = std::make_unique<status::HealthChecker>(executor, config_.name, config_.health_interval,
                                                    config_.probe_timeout, std::move(probes));
}

Cluster::~Cluster() { stop(); }

void Cluster::start() { health_->start(); }

void Cluster::stop() {
  if (health_) health_->stop();
  if (pool_) pool_->shutdown();
}

std::string Cluster::scheduler_version() const {
  std::lock_guard lock(version_mutex_);
  return scheduler_version_;
}

UserRunner Cluster::runner(const std::string& user, std::vector<http::BackendCall>* log) {
  return UserRunner(*pool_, health_.get(), user, log);
}

asio::awaitable<std::optional<UnixAccount>> Cluster::account_of(const std::string& user,
                                                                std::vector<http::BackendCall>* log) {
  {
    std::lock_guard lock(identities_mutex_);
    auto it = identities_.find(user);
    if (it != identities_.end() && std::chrono::steady_clock::now() - it->second.fetched < config_.access.identity_ttl)
      co_return it->second.account;
  }
  // As the probe user, so that a name is looked at before anyone logs in as it. Without a probe
  // user only the user itself can look (root, the deny list were refused before).
  auto r = runner(config_.probe_user.empty() ? user : config_.probe_user, log);
  core::Command c;
  c.argv = account_lookup_command(user);
  auto result = co_await r.run(std::move(c));
  std::optional<UnixAccount> account;
  if (result.ok()) {
    account = parse_account_lookup(result.out, user);
    if (!account) throw Failure(ErrorKind::internal, "unexpected answer of getent for '" + user + "' on " + name());
  } else if (result.exit_status != 2) {  // getent's "no such key"
    throw Failure(ErrorKind::backend_unreachable, "cannot look up the account '" + user + "' on " + name());
  }
  std::lock_guard lock(identities_mutex_);
  identities_[user] = {account, std::chrono::steady_clock::now()};
  co_return account;
}

asio::awaitable<scheduler::UserInfo> Cluster::user_info(const std::string& user, std::vector<http::BackendCall>* log) {
  auto account = co_await account_of(user, log);
  if (auto why = account_refusal(user, account, config_); !why.empty()) throw Failure(ErrorKind::forbidden, why);
  co_return account->info;
}

asio::awaitable<std::vector<scheduler::Account>> Cluster::accounts(const std::string& user, core::CommandRunner& runner) {
  {
    std::lock_guard lock(accounts_mutex_);
    auto it = accounts_.find(user);
    if (it != accounts_.end() && std::chrono::steady_clock::now() - it->second.fetched < kAccountsTtl)
      co_return it->second.accounts;
  }
  auto accounts = co_await scheduler_->accounts(runner, user);
  std::lock_guard lock(accounts_mutex_);
  accounts_[user] = {accounts, std::chrono::steady_clock::now()};
  co_return accounts;
}

asio::awaitable<void> Cluster::authorize(const std::string& user, const std::vector<std::string>& scopes,
                                         std::vector<http::BackendCall>* log) {
  if (user_rate_limit_) limits::charge(*user_rate_limit_, user, "from this user on system '" + name() + "'");
  const auto& access = config_.access;
  for (const auto& required : access.required_scopes)
    if (std::find(scopes.begin(), scopes.end(), required) == scopes.end())
      throw Failure(ErrorKind::forbidden, "the token lacks the scope '" + required + "' required for system '" + name() + "'");
  // Names refused whatever the cluster says: no lookup, no login.
  if (auto why = name_refusal(user, config_); !why.empty()) throw Failure(ErrorKind::forbidden, why);
  auto account = co_await account_of(user, log);
  if (auto why = account_refusal(user, account, config_); !why.empty()) throw Failure(ErrorKind::forbidden, why);
  if (access.users.empty() && access.groups.empty()) co_return;
  for (const auto& u : access.users)
    if (u == "*" || u == user) co_return;
  for (const auto& g : access.groups)
    if (std::find(account->groups.begin(), account->groups.end(), g) != account->groups.end()) co_return;
  throw Failure(ErrorKind::forbidden, "user '" + user + "' is not allowed to use system '" + name() + "'");
}

void Clusters::add(std::unique_ptr<Cluster> cluster) { clusters_.push_back(std::move(cluster)); }

Cluster* Clusters::find(std::string_view name) const {
  for (const auto& c : clusters_)
    if (boost::algorithm::iequals(c->name(), name)) return c.get();
  return nullptr;
}

}  // namespace portico::cluster
