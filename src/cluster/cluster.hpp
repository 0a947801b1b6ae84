#pragma once
// One configured cluster and its backends: the SSH pool that acts as users, the scheduler,
// the health checker, and the access rule. API layers reach a cluster only through this.
// Thread-safety: all methods may be called from any thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/identity.hpp"
#include "config/config.hpp"
#include "core/command.hpp"
#include "http/types.hpp"
#include "limits/token_buckets.hpp"
#include "net/http_client.hpp"
#include "scheduler/scheduler.hpp"
#include "ssh/pool.hpp"
#include "status/health.hpp"

namespace portico::cluster {

// Runs commands as one user over the cluster's pool and records each in the request's
// audit trail. Refuses at once (503) when the health checker knows SSH is down.
class UserRunner final : public core::CommandRunner {
 public:
  UserRunner(ssh::Pool& pool, const status::HealthChecker* health, std::string user,
             std::vector<http::BackendCall>* log);
  boost::asio::awaitable<core::CommandResult> run(core::Command command) override;
  std::string user() const override { return user_; }
  void record_call(std::string what, int status, std::chrono::microseconds duration) override;
  // The SFTP session of the user's pooled connection, unless switched off or the server has
  // none; refused at once (503) when SSH is known to be down, as run() is.
  boost::asio::awaitable<std::shared_ptr<core::RemoteFiles>> files() override;

  // Starts argv (joined by core::command_line, without the remote `timeout` run() adds: a
  // transfer lasts as long as its data) and returns its channel for streaming. The audit line
  // gets the call when it starts; `deadline` bounds only the wait for a channel.
  boost::asio::awaitable<ssh::Channel> open(std::vector<std::string> argv,
                                            std::chrono::steady_clock::time_point deadline);

 private:
  ssh::Pool& pool_;
  const status::HealthChecker* health_;
  std::string user_;
  std::vector<http::BackendCall>* log_;
};

class Cluster {
 public:
  // http: for the S3 probe when the configuration has an s3 section.
  Cluster(boost::asio::any_io_executor executor, const config::Cluster& config,
          ssh::CredentialProvider& credentials, const config::Config& root,
          std::shared_ptr<const net::HttpClient> http);
  ~Cluster();

  void start();  // starts health probes
  void stop();

  const config::Cluster& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  ssh::Pool& pool() { return *pool_; }
  scheduler::Scheduler& scheduler() { return *scheduler_; }
  status::HealthChecker& health() { return *health_; }
  const status::HealthChecker& health() const { return *health_; }

  UserRunner runner(const std::string& user, std::vector<http::BackendCall>* log);

  // The user's Unix identity (`id`), from the account lookup authorize() made: remembered for
  // access.identity_ttl, looked up as the probe user, so userinfo costs no login per call.
  boost::asio::awaitable<scheduler::UserInfo> user_info(const std::string& user, std::vector<http::BackendCall>* log);

  // The scheduler accounts the user may charge, remembered for kAccountsTtl: they change
  // rarely, and asking the accounting database costs far more than the rest of userinfo.
  static constexpr std::chrono::seconds kAccountsTtl{30};
  boost::asio::awaitable<std::vector<scheduler::Account>> accounts(const std::string& user, core::CommandRunner& runner);

  // The cluster's own bucket per user (clusters[].user_rate_limit), for the metrics; null without one.
  const limits::TokenBuckets* user_rate_limit() const { return user_rate_limit_.get(); }

  // The scheduler's version as the last health probe read it ("" until then).
  std::string scheduler_version() const;

  // Throws core::Failure(rate_limited) when the user is over this cluster's user_rate_limit
  // (each call is charged: one request naming the cluster), then core::Failure(forbidden) when
  // the user must not be reached through the gateway (root, the probe user, access.deny_users,
  // no such account, a uid below access.min_uid: identity.hpp) or the access rule refuses them. The account and its groups are looked up as the probe user
  // before anyone logs in as the user, and cached for access.identity_ttl. Every API calls this before
  // it runs anything as the user.
  boost::asio::awaitable<void> authorize(const std::string& user, const std::vector<std::string>& scopes,
                                         std::vector<http::BackendCall>* log);

 private:
  boost::asio::awaitable<std::optional<UnixAccount>> account_of(const std::string& user,
                                                                std::vector<http::BackendCall>* log);

  config::Cluster config_;
  std::unique_ptr<ssh::Pool> pool_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<status::HealthChecker> health_;
  std::unique_ptr<limits::TokenBuckets> user_rate_limit_;

  mutable std::mutex version_mutex_;
  std::string scheduler_version_;

  struct CachedAccount {
    std::optional<UnixAccount> account;  // nullopt: no such account
    std::chrono::steady_clock::time_point fetched;
  };
  std::mutex identities_mutex_;
  std::unordered_map<std::string, CachedAccount> identities_;

  struct CachedAccounts {
    std::vector<scheduler::Account> accounts;
    std::chrono::steady_clock::time_point fetched;
  };
  std::mutex accounts_mutex_;
  std::unordered_map<std::string, CachedAccounts> accounts_;
};

// Case-insensitive lookup of clusters by name, as FirecREST matches {system_name}.
class Clusters {
 public:
  void add(std::unique_ptr<Cluster> cluster);
  Cluster* find(std::string_view name) const;  // null when unknown
  const std::vector<std::unique_ptr<Cluster>>& all() const { return clusters_; }

 private:
  std::vector<std::unique_ptr<Cluster>> clusters_;
};

}  // namespace portico::cluster
