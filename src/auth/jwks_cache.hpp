#pragma once
// The identity provider's token-signing keys, fetched over HTTP(S) and kept fresh.
//
// The keys come from config::Auth::jwks_url or, when that is empty, from the "jwks_uri" of the
// issuer's OIDC discovery document (<issuer>/.well-known/openid-configuration, whose "issuer"
// must equal the configured one). They are refetched every refresh_interval and when a token
// names an unknown kid (key rotation); that second path is rate-limited to one fetch per
// unknown_key_interval, and concurrent callers share one fetch. A failed fetch keeps the cached
// keys and logs one warning per attempt; a document without any usable key counts as failed.
//
// Usage:
//   auto http = std::make_shared<const net::HttpClient>();
//   auto cache = JwksCache::create(ioc.get_executor(), JwksCache::Options::from(config.auth), http);
//   cache->start();                                  // fetch now, then every jwks_refresh
//   auth::Authenticator authenticator(cache, config.auth);
//   ...
//   cache->stop();                                   // at shutdown: ends the refresh loop
//
// Thread-safety: every member may be called concurrently from any thread. keys() (the hot path)
// only copies a shared_ptr under a mutex that is never held across I/O; each fetch publishes a
// new immutable KeySet.

#include "auth/jwk.hpp"
#include "config/config.hpp"
#include "net/http_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace portico::auth {

// Where an Authenticator gets its keys. JwksCache is the real one; tests substitute their own.
class KeySource {
 public:
  virtual ~KeySource() = default;

  // The current keys; never null (empty until a first fetch succeeds). No I/O.
  virtual std::shared_ptr<const KeySet> keys() const = 0;

  // For a token whose kid is not in keys(): refetches unless that would exceed the rate limit,
  // sharing a fetch already in flight, and returns the keys afterwards (perhaps unchanged).
  // Never throws because of the provider.
  virtual boost::asio::awaitable<std::shared_ptr<const KeySet>> refresh_for_unknown_key() = 0;
};

class JwksCache final : public KeySource, public std::enable_shared_from_this<JwksCache> {
 public:
  struct Options {
    std::string issuer{};    // for discovery when jwks_url is empty
    std::string jwks_url{};  // used as is when set
    std::chrono::milliseconds refresh_interval{std::chrono::hours(1)};
    std::chrono::milliseconds retry_interval{std::chrono::seconds(30)};  // after a failed periodic fetch
    std::chrono::milliseconds unknown_key_interval{std::chrono::seconds(10)};
    std::chrono::milliseconds fetch_timeout{std::chrono::seconds(10)};  // per HTTP request
    std::size_t max_document_bytes = 1024 * 1024;

    static Options from(const config::Auth& auth);
  };

  // `executor` runs the fetches and the refresh loop.
  static std::shared_ptr<JwksCache> create(boost::asio::any_io_executor executor, Options options,
                                           std::shared_ptr<const net::HttpClient> http);
  ~JwksCache() override;

  // Starts the refresh loop: a fetch now, then every refresh_interval (retry_interval after a
  // failure). The loop keeps the cache alive until stop(). Calling start() again does nothing.
  void start();
  // Ends the refresh loop (a fetch in flight still completes and publishes).
  void stop();

  // Fetches now, or joins the fetch in flight; not rate-limited. True when keys were published.
  boost::asio::awaitable<bool> refresh();

  std::shared_ptr<const KeySet> keys() const override;
  boost::asio::awaitable<std::shared_ptr<const KeySet>> refresh_for_unknown_key() override;

 private:
  struct Flight;

  JwksCache(boost::asio::any_io_executor executor, Options options, std::shared_ptr<const net::HttpClient> http);

  // The fetch in flight, or a new one; nullptr when rate_limited and the last fetch is too recent.
  std::shared_ptr<Flight> join_or_start(bool rate_limited);
  static boost::asio::awaitable<void> fetch(std::shared_ptr<JwksCache> self, std::shared_ptr<Flight> flight);
  static boost::asio::awaitable<bool> wait(std::shared_ptr<Flight> flight);
  static boost::asio::awaitable<void> refresh_loop(std::shared_ptr<JwksCache> self);
  boost::asio::awaitable<net::HttpResponse> get(const std::string& url) const;
  boost::asio::awaitable<std::string> jwks_location(std::string& source) const;

  const boost::asio::any_io_executor executor_;
  const Options options_;
  const std::shared_ptr<const net::HttpClient> http_;

  mutable std::mutex mutex_;  // guards the three members below; held for a few instructions only
  std::shared_ptr<const KeySet> keys_;
  std::shared_ptr<Flight> flight_;
  std::optional<std::chrono::steady_clock::time_point> last_fetch_;

  // The refresh loop's state, used on strand_ only.
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  std::atomic<bool> started_{false};
};

}  // namespace portico::auth
