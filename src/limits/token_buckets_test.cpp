#include "limits/token_buckets.hpp"

#include <gtest/gtest.h>

#include "limits/rate_limits.hpp"

using namespace portico;
using namespace std::chrono_literals;
using limits::TokenBuckets;

namespace {

// A clock the test moves.
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  TokenBuckets::Clock fn() {
    return [this] { return now; };
  }
};

}  // namespace

TEST(TokenBuckets, BurstThenRateWithTheWaitUntilTheNextToken) {
  FakeClock clock;
  TokenBuckets b({2, 3}, 100, clock.fn());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.take("alice").count(), 0) << i;
  EXPECT_EQ(b.take("alice"), 500ms);  // 2 per second: one token every 500 ms
  clock.now += 200ms;
  EXPECT_EQ(b.take("alice"), 300ms);  // a refusal takes nothing
  clock.now += 300ms;
  EXPECT_EQ(b.take("alice").count(), 0);
  EXPECT_GT(b.take("alice").count(), 0);
  EXPECT_EQ(b.refused(), 3u);
}

TEST(TokenBuckets, RefillsUpToTheBurstOnly) {
  FakeClock clock;
  TokenBuckets b({10, 2}, 100, clock.fn());
  b.take("a");
  b.take("a");
  clock.now += 1h;
  EXPECT_EQ(b.take("a").count(), 0);
  EXPECT_EQ(b.take("a").count(), 0);
  EXPECT_GT(b.take("a").count(), 0);
}

TEST(TokenBuckets, KeysHaveTheirOwnBuckets) {
  FakeClock clock;
  TokenBuckets b({1, 1}, 100, clock.fn());
  EXPECT_EQ(b.take("alice").count(), 0);
  EXPECT_GT(b.take("alice").count(), 0);
  EXPECT_EQ(b.take("bob").count(), 0);
}

TEST(TokenBuckets, AFloodOfDistinctKeysKeepsAtMostMaxBuckets) {
  FakeClock clock;
  TokenBuckets b({1, 5}, 100, clock.fn());
  for (int i = 0; i < 100'000; ++i) {
    EXPECT_EQ(b.take("client-" + std::to_string(i)).count(), 0);
    ASSERT_LE(b.size(), 100u);
  }
  EXPECT_EQ(b.size(), 100u);
}

TEST(TokenBuckets, ForgetsTheLeastRecentlyUsedAndKeepsTheState) {
  FakeClock clock;
  TokenBuckets b({0.001, 2}, 2, clock.fn());
  b.take("a");
  b.take("a");                       // a is empty
  b.take("b");                       // recent: b, a
  EXPECT_GT(b.take("a").count(), 0);  // recent: a, b
  b.take("c");                       // b forgotten, not a
  EXPECT_EQ(b.size(), 2u);
  EXPECT_GT(b.take("a").count(), 0);
}

TEST(TokenBuckets, RefilledBucketsAreForgotten) {
  FakeClock clock;
  TokenBuckets b({1, 2}, 100, clock.fn());
  for (int i = 0; i < 50; ++i) b.take("idle-" + std::to_string(i));
  EXPECT_EQ(b.size(), 50u);
  clock.now += 2s;  // every bucket has refilled
  b.take("busy");
  EXPECT_EQ(b.size(), 1u);
}

TEST(TokenBuckets, RetryAfterIsWholeSecondsRoundedUp) {
  auto f = limits::too_many_requests(1200ms, "from this user");
  EXPECT_EQ(f.kind(), core::ErrorKind::rate_limited);
  EXPECT_EQ(f.retry_after(), 2s);
  EXPECT_NE(std::string(f.what()).find("from this user"), std::string::npos);
  EXPECT_EQ(limits::too_many_requests(1ns, "x").retry_after(), 1s);
  EXPECT_EQ(limits::too_many_requests(3s, "x").retry_after(), 3s);
}

TEST(TokenBuckets, ChargeThrowsTheRefusal) {
  FakeClock clock;
  TokenBuckets b({0.25, 1}, 10, clock.fn());
  limits::charge(b, "alice", "from this user");
  try {
    limits::charge(b, "alice", "from this user");
    FAIL() << "not refused";
  } catch (const core::Failure& f) {
    EXPECT_EQ(f.kind(), core::ErrorKind::rate_limited);
    EXPECT_EQ(f.retry_after(), 4s);
  }
}

TEST(RateLimits, EachApiHasItsOwnUserBuckets) {
  FakeClock clock;
  config::RateLimits c;
  c.per_user = {1, 1};
  c.iri = config::Rate{1, 2};
  limits::RateLimits r(c, clock.fn());
  r.charge_user(limits::Api::firecrest, "alice");
  EXPECT_THROW(r.charge_user(limits::Api::firecrest, "alice"), core::Failure);
  r.charge_user(limits::Api::iri, "alice");
  r.charge_user(limits::Api::iri, "alice");
  EXPECT_THROW(r.charge_user(limits::Api::iri, "alice"), core::Failure);
  EXPECT_EQ(r.users(limits::Api::iri)->refused(), 1u);
}

TEST(RateLimits, AddressesAreChargedByIpv4AddressOrIpv6Slash64) {
  FakeClock clock;
  config::RateLimits c;
  c.per_address = {1, 1};
  limits::RateLimits r(c, clock.fn());
  auto ip = [](const char* text) { return boost::asio::ip::make_address(text); };
  EXPECT_FALSE(r.refuse_address(ip("192.0.2.1")));
  auto refused = r.refuse_address(ip("::ffff:192.0.2.1"));  // the same client, IPv4-mapped
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->retry_after(), 1s);
  EXPECT_FALSE(r.refuse_address(ip("192.0.2.2")));
  EXPECT_FALSE(r.refuse_address(ip("2001:db8:1:2::1")));
  EXPECT_TRUE(r.refuse_address(ip("2001:db8:1:2:ffff::9")));  // same /64
  EXPECT_FALSE(r.refuse_address(ip("2001:db8:1:3::1")));
  EXPECT_EQ(limits::address_key(ip("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
}

TEST(RateLimits, OffMeansNoBuckets) {
  config::RateLimits c;
  c.enabled = false;
  c.per_address = {1, 1};
  c.per_user = {1, 1};
  limits::RateLimits r(c);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(r.refuse_address(boost::asio::ip::make_address("192.0.2.1")));
    r.charge_user(limits::Api::firecrest, "alice");
  }
  EXPECT_EQ(r.addresses(), nullptr);
}
