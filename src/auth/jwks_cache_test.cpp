#include "auth/jwks_cache.hpp"
#include "auth/test_tokens.hpp"
#include "net/test_http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <thread>

using namespace portico::auth;
using namespace portico::auth::testing;
using portico::net::HttpClient;
using portico::net::testing::TestHttpServer;
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// A second key the provider rotates to (its kid differs from that of the shared ec() key).
const TestKey& ec2() {
  static const TestKey key = make_key("ES256", "ec-2");
  return key;
}

// A provider: a JWKS at /jwks and a discovery document, both replaceable while it runs.
class Provider {
 public:
  Provider() {
    set_jwks(jwks({public_jwk(rsa())}));
    set_discovery(issuer(), issuer() + "/jwks");
  }

  std::string issuer() const { return "http://127.0.0.1:" + std::to_string(server.port()); }
  void set_jwks(std::string doc, unsigned status = 200) {
    std::lock_guard lock(mutex_);
    jwks_ = std::move(doc);
    status_ = status;
  }
  void set_discovery(const std::string& iss, const std::string& jwks_uri) {
    std::lock_guard lock(mutex_);
    discovery_ = boost::json::serialize(boost::json::object{{"issuer", iss}, {"jwks_uri", jwks_uri}});
  }
  std::size_t jwks_requests() const { return jwks_requests_; }

 private:
  std::optional<TestHttpServer::Response> handle(const TestHttpServer::Request& req) {
    std::lock_guard lock(mutex_);
    if (req.target() == "/jwks") {
      ++jwks_requests_;
      return TestHttpServer::response(status_, jwks_);
    }
    if (req.target() == "/.well-known/openid-configuration") return TestHttpServer::response(200, discovery_);
    return TestHttpServer::response(404, "{}");
  }

  mutable std::mutex mutex_;
  std::string jwks_, discovery_;
  unsigned status_ = 200;
  std::atomic<std::size_t> jwks_requests_{0};

 public:
  TestHttpServer server{[this](const auto& req) { return handle(req); }};
};

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> task) {
  auto result = asio::co_spawn(ioc, std::move(task), asio::use_future);
  ioc.restart();
  ioc.run();
  return result.get();
}

bool has_kid(const KeySet& set, const std::string& kid) {
  for (const auto& k : set.keys)
    if (k.kid == kid) return true;
  return false;
}

class JwksCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<JwksCache> make_cache(JwksCache::Options options = {}) {
    if (options.jwks_url.empty() && options.issuer.empty()) options.jwks_url = provider.server.url("/jwks");
    if (options.fetch_timeout == JwksCache::Options{}.fetch_timeout) options.fetch_timeout = std::chrono::seconds(5);
    return JwksCache::create(ioc.get_executor(), options, http);
  }

  asio::io_context ioc;
  std::shared_ptr<const HttpClient> http = std::make_shared<const HttpClient>();
  Provider provider;
};

// Captures log lines for the duration of a test.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::size_t count(const std::string& text) const {
    std::string all = lines_.str();
    std::size_t n = 0;
    for (auto pos = all.find(text); pos != std::string::npos; pos = all.find(text, pos + 1)) ++n;
    return n;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream lines_;
};

}  // namespace

TEST_F(JwksCacheTest, EmptyUntilFetchedThenHoldsTheKeys) {
  auto cache = make_cache();
  ASSERT_NE(cache->keys(), nullptr);
  EXPECT_TRUE(cache->keys()->keys.empty());
  EXPECT_TRUE(run(ioc, cache->refresh()));
  EXPECT_TRUE(has_kid(*cache->keys(), "rsa-1"));
  EXPECT_EQ(provider.jwks_requests(), 1u);
}

TEST_F(JwksCacheTest, FindsTheJwksThroughDiscovery) {
  auto cache = make_cache({.issuer = provider.issuer()});
  EXPECT_TRUE(run(ioc, cache->refresh()));
  EXPECT_TRUE(has_kid(*cache->keys(), "rsa-1"));
  EXPECT_EQ(provider.jwks_requests(), 1u);
}

TEST_F(JwksCacheTest, RefusesADiscoveryDocumentOfAnotherIssuer) {
  provider.set_discovery("https://evil.test", provider.issuer() + "/jwks");
  LogCapture log;
  auto cache = make_cache({.issuer = provider.issuer()});
  EXPECT_FALSE(run(ioc, cache->refresh()));
  EXPECT_TRUE(cache->keys()->keys.empty());
  EXPECT_EQ(provider.jwks_requests(), 0u);
  EXPECT_EQ(log.count("names another issuer"), 1u);
}

TEST_F(JwksCacheTest, UnknownKidTriggersOneRefresh) {
  auto cache = make_cache({.unknown_key_interval = milliseconds(0)});
  ASSERT_TRUE(run(ioc, cache->refresh()));
  provider.set_jwks(jwks({public_jwk(ec2()), public_jwk(rsa())}));  // rotation: new key first
  auto keys = run(ioc, cache->refresh_for_unknown_key());
  EXPECT_TRUE(has_kid(*keys, "ec-2"));
  EXPECT_TRUE(has_kid(*cache->keys(), "ec-2"));
  EXPECT_EQ(provider.jwks_requests(), 2u);
}

TEST_F(JwksCacheTest, UnknownKidRefreshesAreRateLimited) {
  auto cache = make_cache();  // default: one unknown-kid fetch per 10 s
  auto first = run(ioc, cache->refresh_for_unknown_key());  // nothing cached: fetches
  EXPECT_TRUE(has_kid(*first, "rsa-1"));
  provider.set_jwks(jwks({public_jwk(ec2()), public_jwk(rsa())}));
  for (int i = 0; i < 5; ++i) {
    auto keys = run(ioc, cache->refresh_for_unknown_key());
    EXPECT_FALSE(has_kid(*keys, "ec-2"));
  }
  EXPECT_EQ(provider.jwks_requests(), 1u);
  EXPECT_TRUE(run(ioc, cache->refresh()));  // an explicit refresh is not rate-limited
  EXPECT_TRUE(has_kid(*cache->keys(), "ec-2"));
  EXPECT_EQ(provider.jwks_requests(), 2u);
}

TEST_F(JwksCacheTest, ConcurrentMissesShareOneFetch) {
  auto cache = make_cache();
  std::vector<std::future<std::shared_ptr<const KeySet>>> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(asio::co_spawn(ioc, cache->refresh_for_unknown_key(), asio::use_future));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { ioc.run(); });
  for (auto& t : threads) t.join();
  for (auto& r : results) EXPECT_TRUE(has_kid(*r.get(), "rsa-1"));
  EXPECT_EQ(provider.jwks_requests(), 1u);
}

TEST_F(JwksCacheTest, CachedKeysSurviveTheProviderGoingAway) {
  auto cache = make_cache({.unknown_key_interval = milliseconds(0)});
  ASSERT_TRUE(run(ioc, cache->refresh()));
  LogCapture log;

  provider.set_jwks("{}", 500);
  EXPECT_FALSE(run(ioc, cache->refresh()));
  provider.set_jwks("not json");
  EXPECT_FALSE(run(ioc, cache->refresh()));
  provider.set_jwks(jwks({boost::json::object{{"kty", "oct"}, {"k", "c2VjcmV0"}}}));  // nothing usable
  EXPECT_FALSE(run(ioc, cache->refresh()));
  EXPECT_TRUE(has_kid(*cache->keys(), "rsa-1"));

  provider.server.stop();
  // Ten requests missing at once share one attempt, and so one log line.
  std::vector<std::future<std::shared_ptr<const KeySet>>> results;
  for (int i = 0; i < 10; ++i)
    results.push_back(asio::co_spawn(ioc, cache->refresh_for_unknown_key(), asio::use_future));
  ioc.restart();
  ioc.run();
  for (auto& r : results) EXPECT_TRUE(has_kid(*r.get(), "rsa-1"));
  EXPECT_TRUE(has_kid(*cache->keys(), "rsa-1"));
  EXPECT_EQ(log.count("cannot refresh the OIDC signing keys"), 4u);
  EXPECT_EQ(log.count("answered HTTP 500"), 1u);
  EXPECT_EQ(log.count("no usable signature key"), 1u);
  EXPECT_EQ(log.count("keeping 1 cached key(s)"), 4u);
}

TEST_F(JwksCacheTest, StartFetchesRetriesAndRefreshesPeriodically) {
  provider.set_jwks("{}", 503);
  auto cache = make_cache({.refresh_interval = milliseconds(50), .retry_interval = milliseconds(20)});
  cache->start();
  cache->start();  // no second loop
  // Waits (bounded) until the cache holds `kid`; not a timing assertion, only a way to poll.
  auto wait_for = [&](std::string kid) -> asio::awaitable<bool> {
    asio::steady_timer timer(ioc);
    for (int i = 0; i < 1000; ++i) {
      if (has_kid(*cache->keys(), kid)) co_return true;
      timer.expires_after(milliseconds(10));
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return false;
  };
  auto scenario = [&]() -> asio::awaitable<std::pair<bool, bool>> {
    asio::steady_timer timer(ioc, milliseconds(50));
    co_await timer.async_wait(asio::use_awaitable);
    provider.set_jwks(jwks({public_jwk(rsa())}));  // the provider recovers: the retry picks it up
    bool first = co_await wait_for("rsa-1");
    provider.set_jwks(jwks({public_jwk(ec2())}));   // rotation: the periodic refresh picks it up
    bool second = co_await wait_for("ec-2");
    cache->stop();
    co_return std::pair{first, second};
  };
  auto [first, second] = run(ioc, scenario());  // returns only once the loop has ended
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
  EXPECT_FALSE(has_kid(*cache->keys(), "rsa-1"));
}
