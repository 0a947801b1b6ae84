#include "status/health.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace portico::status {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

const char* to_string(ServiceType type) noexcept {
  switch (type) {
    case ServiceType::ssh: return "ssh";
    case ServiceType::scheduler: return "scheduler";
    case ServiceType::filesystem: return "filesystem";
    case ServiceType::s3: return "s3";
  }
  return "ssh";
}

HealthChecker::HealthChecker(asio::any_io_executor executor, std::string cluster, std::chrono::milliseconds interval,
                             std::chrono::milliseconds probe_timeout, std::vector<Probe> probes)
    : executor_(std::move(executor)),
      cluster_(std::move(cluster)),
      interval_(interval),
      probe_timeout_(probe_timeout),
      probes_(std::move(probes)) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  timer_ = std::make_shared<asio::steady_timer>(executor_);
  asio::co_spawn(executor_, loop(), asio::detached);
}

void HealthChecker::stop() {
  stopped_->store(true);
  if (timer_) timer_->cancel();
}

asio::awaitable<void> HealthChecker::loop() {
  auto stopped = stopped_;
  auto timer = timer_;
  while (!stopped->load()) {
    co_await run_once();
    timer->expires_after(interval_);
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

namespace {
struct Outcome {
  bool healthy = false;
  std::string message;
};

// The awaitable operator || waits for the first *success*; a probe that throws must complete
// at once with its error, so failures are turned into values here.
asio::awaitable<Outcome> outcome_of(const std::function<asio::awaitable<std::string>()>& check) {
  try {
    auto note = co_await check();
    co_return Outcome{true, note.empty() ? std::string("OK") : "OK (" + note + ")"};
  } catch (const std::exception& e) {
    std::string message = e.what();
    co_return Outcome{false, message.empty() ? std::string("failed") : message};
  }
}
}  // namespace

asio::awaitable<ServiceHealth> HealthChecker::run_probe(const Probe& probe) {
  ServiceHealth h;
  h.type = probe.type;
  h.path = probe.path;
  auto start = std::chrono::steady_clock::now();
  asio::steady_timer deadline(co_await asio::this_coro::executor, probe_timeout_);
  auto outcome = co_await (outcome_of(probe.check) || deadline.async_wait(asio::use_awaitable));
  if (outcome.index() == 0) {
    h.healthy = std::get<0>(outcome).healthy;
    h.message = std::move(std::get<0>(outcome).message);
  } else {
    h.message = "no answer within " + std::to_string(probe_timeout_.count()) + " ms";
  }
  h.latency_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  h.last_checked = std::chrono::system_clock::now();
  co_return h;
}

asio::awaitable<void> HealthChecker::run_once() {
  // Probes run concurrently: a round lasts as long as its slowest probe, at most the timeout.
  auto executor = co_await asio::this_coro::executor;
  auto results = std::make_shared<std::vector<ServiceHealth>>(probes_.size());
  auto remaining = std::make_shared<std::atomic<std::size_t>>(probes_.size());
  auto latch = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    asio::co_spawn(executor, run_probe(probes_[i]),
                   [results, remaining, latch, i](std::exception_ptr, ServiceHealth h) {
                     (*results)[i] = std::move(h);
                     if (remaining->fetch_sub(1) == 1) asio::post(latch->get_executor(), [latch] { latch->cancel(); });
                   });
  }
  if (!probes_.empty()) {
    boost::system::error_code ec;
    while (remaining->load() > 0) co_await latch->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  auto health = std::make_shared<ClusterHealth>();
  health->services = std::move(*results);
  health->last_run = std::chrono::system_clock::now();
  for (const auto& s : health->services)
    if (!s.healthy) spdlog::warn("health: {} {}{} is down: {}", cluster_, to_string(s.type), s.path.empty() ? "" : " " + s.path, s.message);
  {
    std::lock_guard lock(mutex_);
    snapshot_ = health;
  }
  if (on_round_) {
    try {
      on_round_(std::move(health));
    } catch (const std::exception& e) {
      spdlog::error("health: {}: recording the round failed: {}", cluster_, e.what());
    }
  }
}

std::shared_ptr<const ClusterHealth> HealthChecker::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

bool HealthChecker::is_down(ServiceType type) const {
  auto s = snapshot();
  for (const auto& h : s->services)
    if (h.type == type && !h.healthy) return true;
  return false;
}

}  // namespace portico::status
