#include "observe/metrics.hpp"

#include <fmt/format.h>

namespace portico::observe {

std::string label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Metrics::observe_request(const std::string& api, const std::string& route, const std::string& method, int status,
                              std::chrono::microseconds latency) {
  Key key{api, route, method, status};
  Series* series = nullptr;
  {
    std::shared_lock lock(mutex_);
    auto it = series_.find(key);
    if (it != series_.end()) series = it->second.get();
  }
  if (!series) {
    std::unique_lock lock(mutex_);
    auto& slot = series_[key];
    if (!slot) slot = std::make_unique<Series>();
    series = slot.get();
  }
  series->count.fetch_add(1, std::memory_order_relaxed);
  series->sum_us.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
  const double seconds = static_cast<double>(latency.count()) / 1e6;
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) {
      series->buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;  // stored per bucket, made cumulative when rendered
    }
}

void Metrics::add_collector(std::string help_and_type, std::function<void(std::string&)> collect) {
  std::unique_lock lock(mutex_);
  collectors_.emplace_back(std::move(help_and_type), std::move(collect));
}

std::string Metrics::render() const {
  std::string out;
  std::shared_lock lock(mutex_);
  out += "# HELP portico_http_requests_total HTTP requests answered, by API, route template, method and status.\n"
         "# TYPE portico_http_requests_total counter\n";
  for (const auto& [key, s] : series_) {
    const auto& [api, route, method, status] = key;
    out += fmt::format("portico_http_requests_total{{api=\"{}\",route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", api,
                       label_value(route), method, status, s->count.load());
  }
  out += "# HELP portico_http_request_duration_seconds Time from the end of the request headers to the response.\n"
         "# TYPE portico_http_request_duration_seconds histogram\n";
  for (const auto& [key, s] : series_) {
    const auto& [api, route, method, status] = key;
    auto labels = fmt::format("api=\"{}\",route=\"{}\",method=\"{}\",status=\"{}\"", api, label_value(route), method, status);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += s->buckets[i].load();
      out += fmt::format("portico_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, kBuckets[i], cumulative);
    }
    out += fmt::format("portico_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, s->count.load());
    out += fmt::format("portico_http_request_duration_seconds_sum{{{}}} {:.6f}\n", labels, s->sum_us.load() / 1e6);
    out += fmt::format("portico_http_request_duration_seconds_count{{{}}} {}\n", labels, s->count.load());
  }
  for (const auto& [header, collect] : collectors_) {
    out += header;
    if (!header.empty() && header.back() != '\n') out += '\n';
    collect(out);
  }
  return out;
}

}  // namespace portico::observe
