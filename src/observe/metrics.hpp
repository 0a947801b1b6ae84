#pragma once
// Prometheus metrics: request counts and latency histograms by route and status, plus gauges
// that other modules report through callbacks (SSH pool sizes, health state).
// Thread-safety: every method may be called from any thread. The per-request path takes a
// shared (reader) lock and bumps atomics; only the first request of a new label set writes.

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <vector>

namespace portico::observe {

class Metrics {
 public:
  // Latency buckets in seconds (upper bounds); +Inf is implicit.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

  void observe_request(const std::string& api, const std::string& route, const std::string& method, int status,
                       std::chrono::microseconds latency);

  // A gauge family: the callback appends "name{labels} value\n" lines when /metrics is read.
  void add_collector(std::string help_and_type, std::function<void(std::string&)> collect);

  std::string render() const;

 private:
  struct Series {
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_us{0};
    std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};
  };
  using Key = std::tuple<std::string, std::string, std::string, int>;  // api, route, method, status

  mutable std::shared_mutex mutex_;
  std::map<Key, std::unique_ptr<Series>> series_;
  std::vector<std::pair<std::string, std::function<void(std::string&)>>> collectors_;
};

// Escapes a Prometheus label value (backslash, quote, newline).
std::string label_value(const std::string& value);

}  // namespace portico::observe
