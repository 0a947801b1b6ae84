#include "http/router.hpp"

#include <gtest/gtest.h>

using namespace portico::http;

TEST(Router, MatchesTemplatesAndCollectsParams) {
  Router<int> r;
  r.add(Verb::get, "/status/systems", 1);
  r.add(Verb::get, "/status/{system}/nodes", 2);
  r.add(Verb::post, "/compute/{system}/jobs", 3);
  r.add(Verb::get, "/compute/{system}/jobs", 4);
  r.add(Verb::get, "/files/{path...}", 5);

  auto m = r.find(Verb::get, "/status/Daint/nodes");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->handler, 2);
  EXPECT_EQ(*param(m.params, "system"), "Daint");

  EXPECT_EQ(r.find(Verb::get, "/status/systems").route->handler, 1);
  EXPECT_EQ(r.find(Verb::get, "/status/systems/").route->handler, 1);  // trailing slash
  EXPECT_EQ(r.find(Verb::post, "/compute/x/jobs").route->handler, 3);
  auto rest = r.find(Verb::get, "/files/a/b/c");
  EXPECT_EQ(*param(rest.params, "path"), "a/b/c");
}

TEST(Router, DistinguishesNotFoundFromWrongMethod) {
  Router<int> r;
  r.add(Verb::get, "/status/{system}/nodes", 1);
  r.add(Verb::put, "/status/{system}/nodes", 2);
  auto wrong = r.find(Verb::delete_, "/status/x/nodes");
  EXPECT_FALSE(wrong.route);
  EXPECT_EQ(wrong.allowed.size(), 2u);
  auto missing = r.find(Verb::get, "/status/x/nodes/extra");
  EXPECT_FALSE(missing.route);
  EXPECT_TRUE(missing.allowed.empty());
  EXPECT_FALSE(r.find(Verb::get, "/").route);
}
