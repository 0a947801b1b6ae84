#include "auth/authenticator.hpp"
#include "auth/test_tokens.hpp"
#include "net/test_http_server.hpp"

#include "core/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

using namespace portico::auth;
using namespace portico::auth::testing;
using portico::core::ErrorKind;
using portico::core::Failure;
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::seconds;

namespace {

// Keys from memory; a refresh swaps in `next` and is counted.
class FakeKeys : public KeySource {
 public:
  explicit FakeKeys(std::string jwks_doc) : current_(std::make_shared<const KeySet>(parse_jwks(jwks_doc))) {}
  std::shared_ptr<const KeySet> keys() const override { return current_; }
  asio::awaitable<std::shared_ptr<const KeySet>> refresh_for_unknown_key() override {
    ++refreshes;
    if (next) current_ = next;
    co_return current_;
  }
  void replace(std::shared_ptr<const KeySet> keys) { current_ = std::move(keys); }
  std::shared_ptr<const KeySet> next;
  int refreshes = 0;

 private:
  std::shared_ptr<const KeySet> current_;
};

portico::config::Auth auth_config() {
  portico::config::Auth auth;
  auth.issuer = "https://idp.test";
  auth.audiences = {"https://portico.test/api"};
  return auth;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  const std::chrono::system_clock::time_point now{seconds(1'700'000'000)};
  std::shared_ptr<FakeKeys> keys =
      std::make_shared<FakeKeys>(jwks({public_jwk(rsa()), public_jwk(ec()), public_jwk(ed())}));
  portico::config::Auth config = auth_config();

  Identity authenticate(const std::string& header) {
    Authenticator authenticator(keys, config, [this] { return now; });
    asio::io_context ioc;
    auto result = asio::co_spawn(ioc, authenticator.authenticate(header), asio::use_future);
    ioc.run();
    return result.get();
  }

  // The Failure authenticate() throws; its message and detail must not contain the token.
  Failure refusal(const std::string& header) {
    try {
      authenticate(header);
    } catch (const Failure& f) {
      EXPECT_EQ(f.kind(), ErrorKind::unauthorized);
      auto token = bearer_token(header);
      if (token && token->size() > 20) {
        EXPECT_EQ(std::string(f.what()).find(*token), std::string::npos);
        EXPECT_EQ(f.detail().find(token->substr(token->size() - 20)), std::string::npos) << f.detail();
      }
      return f;
    }
    ADD_FAILURE() << "not refused: " << header.substr(0, 40);
    return Failure(ErrorKind::internal, "");
  }

  json::object claims() { return good_claims(now); }
  std::string bearer(const json::object& c, const TestKey& key = rsa()) { return "Bearer " + sign_token(key, c); }
};

}  // namespace

TEST(BearerToken, AcceptsBearerSchemeCaseInsensitively) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER   abc  "), "abc");
  EXPECT_EQ(bearer_token("Bearer a-b_c~d+e/f="), "a-b_c~d+e/f=");
}

TEST(BearerToken, RefusesOtherSchemesAndShapes) {
  for (const char* header : {"", "Bearer", "Bearer ", "Bearerabc", "Basic YWxpY2U6cHc=", "Token abc", "Bearer a b",
                             "Bearer a,b", "Bearer \"abc\"", " Bearer abc"})
    EXPECT_FALSE(bearer_token(header)) << header;
}

TEST_F(AuthenticatorTest, ValidTokensOfEachAlgorithmGiveTheIdentity) {
  for (const TestKey* key : {&rsa(), &ec(), &ed()}) {
    auto c = claims();
    c["client_id"] = "alice-client";
    c["scope"] = "openid  firecrest-v2 profile";
    c["jti"] = "token-7";
    auto id = authenticate(bearer(c, *key));
    EXPECT_EQ(id.username, "alice") << key->alg;
    EXPECT_EQ(id.subject, "subject-1");
    EXPECT_EQ(id.client_id, "alice-client");
    EXPECT_EQ(id.scopes, (std::vector<std::string>{"openid", "firecrest-v2", "profile"}));
    EXPECT_EQ(id.token_id, "token-7");
    EXPECT_EQ(id.expires, now + seconds(300));
  }
  EXPECT_EQ(keys->refreshes, 0);
}

TEST_F(AuthenticatorTest, ClientIdFallsBackToAzpAndScopesToScp) {
  auto c = claims();
  c["azp"] = "bob-client";
  c["scp"] = json::array{"read", "write"};
  auto id = authenticate(bearer(c));
  EXPECT_EQ(id.client_id, "bob-client");
  EXPECT_EQ(id.scopes, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(id.token_id, "");
}

TEST_F(AuthenticatorTest, UsesTheConfiguredUsernameClaim) {
  config.username_claim = "hpc_user";
  auto c = claims();
  c["hpc_user"] = "bob";
  EXPECT_EQ(authenticate(bearer(c)).username, "bob");
  c.erase("hpc_user");
  EXPECT_STREQ(refusal(bearer(c)).what(), "token has no hpc_user claim");
}

TEST_F(AuthenticatorTest, MissingOrNonBearerCredentialIsRefused) {
  EXPECT_STREQ(refusal("").what(), "missing bearer token");
  EXPECT_STREQ(refusal("Basic YWxpY2U6cHc=").what(), "missing bearer token");
  EXPECT_STREQ(refusal("Bearer").what(), "missing bearer token");
  EXPECT_EQ(authenticate("bEaReR " + sign_token(rsa(), claims())).username, "alice");
}

TEST_F(AuthenticatorTest, EachVerificationFailureHasAClearMessage) {
  auto expired = claims();
  expired["exp"] = epoch(now) - 3600;
  EXPECT_STREQ(refusal(bearer(expired)).what(), "token expired");

  auto future = claims();
  future["nbf"] = epoch(now) + 3600;
  EXPECT_STREQ(refusal(bearer(future)).what(), "token not yet valid");

  auto wrong_iss = claims();
  wrong_iss["iss"] = "https://evil.test";
  EXPECT_STREQ(refusal(bearer(wrong_iss)).what(), "token issuer not accepted");

  auto wrong_aud = claims();
  wrong_aud["aud"] = json::array{"https://elsewhere.test"};
  EXPECT_STREQ(refusal(bearer(wrong_aud)).what(), "token audience not accepted");

  auto token = sign_token(rsa(), claims());
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_STREQ(refusal("Bearer " + token).what(), "token signature invalid");

  EXPECT_STREQ(refusal("Bearer not.a.jwt").what(), "token malformed");
  EXPECT_STREQ(refusal("Bearer " + std::string(17 * 1024, 'a')).what(), "token too large");
  EXPECT_STREQ(refusal("Bearer " + sign_hs256(public_key_pem(rsa()), claims(), {{"kid", "rsa-1"}})).what(),
               "token algorithm not accepted");
  auto f = refusal(bearer(expired));
  EXPECT_NE(f.detail().find("expired 3600 s ago"), std::string::npos) << f.detail();
}

TEST_F(AuthenticatorTest, RefusesUserNamesThatAreNotUnixNames) {
  for (const char* name : {"../x", "a b", "a'b", "$(id)", "", "Alice", "alice;id", "a\"b", "`id`", "-rf"}) {
    auto c = claims();
    c["preferred_username"] = name;
    auto f = refusal(bearer(c));
    EXPECT_STREQ(f.what(), "token user name not accepted") << name;
    EXPECT_NE(f.detail().find("not a valid Unix user name"), std::string::npos) << f.detail();
  }
  auto c = claims();
  c["preferred_username"] = 42;
  EXPECT_STREQ(refusal(bearer(c)).what(), "token has no preferred_username claim");
}

TEST_F(AuthenticatorTest, UnknownKidAsksTheKeySourceOnceThenSucceedsAfterRotation) {
  TestKey rotated = make_key("ES256", "rotated");
  keys->next = std::make_shared<const KeySet>(parse_jwks(jwks({public_jwk(rotated), public_jwk(rsa())})));
  EXPECT_EQ(authenticate(bearer(claims(), rotated)).username, "alice");
  EXPECT_EQ(keys->refreshes, 1);
  EXPECT_EQ(authenticate(bearer(claims(), rotated)).username, "alice");
  EXPECT_EQ(keys->refreshes, 1);  // now known: no further refresh
}

TEST_F(AuthenticatorTest, UnknownKidStillUnknownAfterRefreshIsRefused) {
  TestKey stranger = make_key("EdDSA", "stranger");
  EXPECT_STREQ(refusal(bearer(claims(), stranger)).what(), "token signing key unknown");
  EXPECT_EQ(keys->refreshes, 1);
}

TEST_F(AuthenticatorTest, OtherFailuresDoNotTriggerARefresh) {
  auto expired = claims();
  expired["exp"] = epoch(now) - 3600;
  refusal(bearer(expired));
  refusal(bearer(claims(), ec()).replace(7, 0, "x"));
  refusal("Bearer " + sign_token(ec(), claims(), {{"kid", "rsa-1"}}));
  EXPECT_EQ(keys->refreshes, 0);
}

// The wiring a server uses: a JwksCache fed by a provider over HTTP, behind the Authenticator.
TEST(AuthenticatorWithJwksCache, FollowsAKeyRotationAtTheProvider) {
  std::mutex mutex;
  std::string doc = jwks({public_jwk(rsa())});
  portico::net::testing::TestHttpServer provider([&](const auto&) {
    std::lock_guard lock(mutex);
    return std::optional(portico::net::testing::TestHttpServer::response(200, doc));
  });
  auto config = auth_config();
  config.jwks_url = provider.url("/jwks");

  asio::io_context ioc;
  auto options = JwksCache::Options::from(config);
  options.unknown_key_interval = std::chrono::milliseconds(0);  // the 10 s limit is tested in jwks_cache_test
  auto cache = JwksCache::create(ioc.get_executor(), options, std::make_shared<const portico::net::HttpClient>());
  Authenticator authenticator(cache, config);
  auto login = [&](const TestKey& key) {
    auto c = good_claims(std::chrono::system_clock::now());
    auto result = asio::co_spawn(ioc, authenticator.authenticate("Bearer " + sign_token(key, c)), asio::use_future);
    ioc.restart();
    ioc.run();
    return result.get();
  };
  EXPECT_EQ(login(rsa()).username, "alice");  // first use fetches
  {
    std::lock_guard lock(mutex);
    doc = jwks({public_jwk(ec()), public_jwk(rsa())});
  }
  EXPECT_EQ(login(ec()).username, "alice");  // unknown kid: one refetch
  EXPECT_EQ(login(ec()).username, "alice");
  EXPECT_EQ(login(rsa()).username, "alice");
  EXPECT_EQ(provider.requests(), 2u);
}

// The cache of verified tokens: one signature check per token per minute, and never past the
// token's own expiry or past a minute after the provider withdrew the key.
TEST(AuthenticatorCache, RemembersAVerifiedTokenForAMinuteAtMostAndNeverPastItsExpiry) {
  auto t0 = std::chrono::system_clock::time_point(seconds(1'700'000'000));
  auto now = t0;
  auto keys = std::make_shared<FakeKeys>(jwks({public_jwk(rsa())}));
  Authenticator authenticator(keys, auth_config(), [&now] { return now; });
  auto run = [&](const std::string& header) {
    asio::io_context ioc;
    auto result = asio::co_spawn(ioc, authenticator.authenticate(header), asio::use_future);
    ioc.run();
    return result.get();
  };
  json::object c{{"iss", "https://idp.test"}, {"aud", "https://portico.test/api"}, {"sub", "s"},
                 {"preferred_username", "alice"}, {"iat", 1'700'000'000}, {"exp", 1'700'000'090}};
  const std::string header = "Bearer " + sign_token(rsa(), c);
  EXPECT_EQ(run(header).username, "alice");

  // The provider withdraws the key: the remembered token still passes within the minute...
  keys->replace(std::make_shared<const KeySet>(parse_jwks(jwks({public_jwk(ec())}))));
  now = t0 + seconds(30);
  EXPECT_EQ(run(header).username, "alice");
  // ...and not after it: verified again, the key is gone (the refresh finds no new key either).
  now = t0 + seconds(61);
  EXPECT_THROW(run(header), Failure);

  // A token is never remembered past its own expiry.
  Authenticator fresh(std::make_shared<FakeKeys>(jwks({public_jwk(rsa())})), auth_config(), [&now] { return now; });
  now = t0 + seconds(80);
  auto run_fresh = [&](const std::string& h) {
    asio::io_context ioc;
    auto result = asio::co_spawn(ioc, fresh.authenticate(h), asio::use_future);
    ioc.run();
    return result.get();
  };
  EXPECT_EQ(run_fresh(header).username, "alice");
  now = t0 + seconds(121);  // past exp and the 30 s leeway
  try {
    run_fresh(header);
    ADD_FAILURE() << "an expired token was accepted from the cache";
  } catch (const Failure& f) {
    EXPECT_STREQ(f.what(), "token expired");
  }
}
