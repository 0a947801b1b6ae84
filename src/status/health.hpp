#pragma once
// The health checker: per cluster, periodic probes of each backend service (SSH login,
// scheduler, each file system, S3), with latency. One cached snapshot per cluster is shared by
// all requests, so a service that is down makes dependent endpoints answer 503 at once instead
// of each request waiting for its own timeout.
// Thread-safety: snapshot() and is_down() from any thread; start()/stop() from one.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace portico::status {

enum class ServiceType { ssh, scheduler, filesystem, s3 };
const char* to_string(ServiceType type) noexcept;

struct ServiceHealth {
  ServiceType type = ServiceType::ssh;
  std::string path;  // the file system's path, for filesystem probes
  bool healthy = false;
  std::string message;
  std::optional<double> latency_seconds;
  std::chrono::system_clock::time_point last_checked{};
};

struct ClusterHealth {
  std::vector<ServiceHealth> services;
  std::optional<std::chrono::system_clock::time_point> last_run;  // unset until the first round ends
};

// A probe checks one service and says how it went. It may throw; a throw counts as unhealthy
// with the exception's message. A healthy service's message is "OK", followed by what the check
// returns when that is not empty ("OK (no SFTP subsystem: ...)").
struct Probe {
  ServiceType type;
  std::string path;
  std::function<boost::asio::awaitable<std::string>()> check;
};

class HealthChecker {
 public:
  HealthChecker(boost::asio::any_io_executor executor, std::string cluster, std::chrono::milliseconds interval,
                std::chrono::milliseconds probe_timeout, std::vector<Probe> probes);
  ~HealthChecker();

  void start();
  void stop();

  // Called with each round's result once it is published, on the checker's executor (the
  // facility's status book turns changes into events). Set before start().
  void on_round(std::function<void(std::shared_ptr<const ClusterHealth>)> callback) { on_round_ = std::move(callback); }

  // Runs every probe once, concurrently, and publishes the result.
  boost::asio::awaitable<void> run_once();

  std::shared_ptr<const ClusterHealth> snapshot() const;

  // True only when the last round found this service type unhealthy (never true before the
  // first round: the benefit of the doubt beats refusing requests at startup).
  bool is_down(ServiceType type) const;

  const std::string& cluster() const { return cluster_; }

 private:
  boost::asio::awaitable<ServiceHealth> run_probe(const Probe& probe);
  boost::asio::awaitable<void> loop();

  boost::asio::any_io_executor executor_;
  std::string cluster_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds probe_timeout_;
  std::vector<Probe> probes_;
  mutable std::mutex mutex_;
  std::shared_ptr<const ClusterHealth> snapshot_ = std::make_shared<ClusterHealth>();
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::function<void(std::shared_ptr<const ClusterHealth>)> on_round_;
};

}  // namespace portico::status
