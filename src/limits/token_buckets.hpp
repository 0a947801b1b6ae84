#pragma once
// Token buckets by key (a client address, a user name): each lets `rate` requests per second
// through on average and `burst` at once. Memory is bounded: at most max_buckets are kept, the
// least recently used forgotten first, and one that has refilled is forgotten as soon as it is
// the least recently used (a new bucket is full too, so forgetting it changes nothing). A flood
// of distinct keys therefore costs at most max_buckets buckets.
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"
#include "core/error.hpp"

namespace portico::limits {

class TokenBuckets {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // clock: steady_clock::now unless given (tests step their own).
  TokenBuckets(config::Rate rate, std::size_t max_buckets, Clock clock = {});

  // Takes a token from key's bucket. Zero when there was one; else how long until there will
  // be one, and nothing is taken (a refused request costs the client nothing more).
  std::chrono::nanoseconds take(std::string_view key);

  std::size_t size() const;
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  const config::Rate& rate() const { return rate_; }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;  // when `tokens` was right
    std::list<std::string>::iterator recent;   // its key's place in recent_
  };

  double tokens_at(const Bucket& b, std::chrono::steady_clock::time_point now) const;

  const config::Rate rate_;
  const std::size_t max_buckets_;
  const Clock clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string_view, Bucket> buckets_;  // keys point into recent_'s strings
  std::list<std::string> recent_;                          // most recently used first
  std::atomic<std::uint64_t> refused_{0};
};

// The 429 of a refused take: `whose` names the limit ("per client address"), Retry-After is the
// wait in whole seconds, rounded up.
core::Failure too_many_requests(std::chrono::nanoseconds wait, std::string_view whose);

// Takes a token or throws too_many_requests(...).
void charge(TokenBuckets& buckets, std::string_view key, std::string_view whose);

}  // namespace portico::limits
