#include "limits/token_buckets.hpp"

#include <algorithm>
#include <cmath>

namespace portico::limits {

using steady = std::chrono::steady_clock;

TokenBuckets::TokenBuckets(config::Rate rate, std::size_t max_buckets, Clock clock)
    : rate_(rate), max_buckets_(std::max<std::size_t>(1, max_buckets)), clock_(clock ? std::move(clock) : Clock(steady::now)) {}

double TokenBuckets::tokens_at(const Bucket& b, steady::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.at).count();
  return std::min(rate_.burst, b.tokens + std::max(0.0, elapsed) * rate_.rate);
}

std::chrono::nanoseconds TokenBuckets::take(std::string_view key) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    recent_.emplace_front(key);
    it = buckets_.emplace(recent_.front(), Bucket{rate_.burst, now, recent_.begin()}).first;
  } else {
    recent_.splice(recent_.begin(), recent_, it->second.recent);
  }
  Bucket& bucket = it->second;
  bucket.tokens = tokens_at(bucket, now);
  bucket.at = now;
  std::chrono::nanoseconds wait{0};
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
  } else {
    wait = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>((1 - bucket.tokens) / rate_.rate));
    wait = std::max(wait, std::chrono::nanoseconds(1));
    refused_.fetch_add(1, std::memory_order_relaxed);
  }
  // Forget from the least recently used end: beyond the bound, or refilled (never the one just used).
  while (recent_.size() > 1) {
    auto last = buckets_.find(recent_.back());
    if (recent_.size() <= max_buckets_ && tokens_at(last->second, now) < rate_.burst) break;
    buckets_.erase(last);
    recent_.pop_back();
  }
  return wait;
}

std::size_t TokenBuckets::size() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

core::Failure too_many_requests(std::chrono::nanoseconds wait, std::string_view whose) {
  const auto seconds = std::max<long long>(1, static_cast<long long>(std::ceil(std::chrono::duration<double>(wait).count())));
  core::Failure failure(core::ErrorKind::rate_limited,
                        "too many requests " + std::string(whose) + ": try again in " + std::to_string(seconds) + " s");
  failure.set_retry_after(std::chrono::seconds(seconds));
  return failure;
}

void charge(TokenBuckets& buckets, std::string_view key, std::string_view whose) {
  auto wait = buckets.take(key);
  if (wait.count() > 0) throw too_many_requests(wait, whose);
}

}  // namespace portico::limits
