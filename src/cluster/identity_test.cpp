#include "cluster/identity.hpp"

#include <gtest/gtest.h>

namespace portico::cluster {
namespace {

config::Cluster site() {
  config::Cluster c;
  c.name = "hpc";
  c.probe_user = "portico-probe";
  c.access.deny_users = {"slurm"};
  return c;
}

// The demo site's answers to account_lookup_command (getent, then id -Gn).
TEST(Identity, ReadsTheAccountAndItsGroups) {
  auto a = parse_account_lookup("alice:*:1001:1001::/home/alice:/bin/bash\nalice hpcusers\n", "alice");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->uid, 1001u);
  EXPECT_EQ(a->groups, (std::vector<std::string>{"alice", "hpcusers"}));
}

TEST(Identity, RefusesAnAnswerAboutAnotherNameOrMalformed) {
  EXPECT_FALSE(parse_account_lookup("bob:*:1002:1002::/home/bob:/bin/bash\nbob\n", "alice"));
  EXPECT_FALSE(parse_account_lookup("alice:*:x:1001::/home/alice:/bin/bash\nalice\n", "alice"));
  EXPECT_FALSE(parse_account_lookup("alice:*:1001:1001::/home/alice\nalice\n", "alice"));
  EXPECT_FALSE(parse_account_lookup("", "alice"));
}

TEST(Identity, TheCommandNamesTheUserAsOneWord) {
  EXPECT_EQ(account_lookup_command("alice").size() > 0, true);
  auto argv = account_lookup_command("alice");
  std::string joined;
  for (const auto& w : argv) joined += w + " ";
  EXPECT_NE(joined.find("getent passwd -- alice"), std::string::npos) << joined;
  EXPECT_NE(joined.find("id -Gn -- alice"), std::string::npos) << joined;
}

TEST(Identity, RootTheProbeUserAndDeniedNamesAreRefusedByName) {
  auto c = site();
  EXPECT_NE(name_refusal("root", c), "");
  EXPECT_NE(name_refusal("portico-probe", c), "");
  EXPECT_NE(name_refusal("slurm", c), "");
  EXPECT_EQ(name_refusal("alice", c), "");
  c.probe_user.clear();
  EXPECT_NE(name_refusal("root", c), "");  // with or without a probe user
}

TEST(Identity, MissingAndSystemAccountsAreRefused) {
  auto c = site();
  EXPECT_NE(account_refusal("ghost", std::nullopt, c), "");
  UnixAccount daemon{"daemon", 1, {"daemon"}};
  EXPECT_NE(account_refusal("daemon", daemon, c).find("system account (uid 1)"), std::string::npos);
  UnixAccount toor{"toor", 0, {"root"}};
  c.access.min_uid = 0;
  EXPECT_NE(account_refusal("toor", toor, c), "");  // uid 0 whatever the minimum
  UnixAccount alice{"alice", 1001, {"alice"}};
  c.access.min_uid = 1000;
  EXPECT_EQ(account_refusal("alice", alice, c), "");
  c.access.min_uid = 2000;
  EXPECT_NE(account_refusal("alice", alice, c), "");
  c.access.min_uid = 1000;
  UnixAccount slurm{"slurm", 64030, {"slurm"}};  // Debian's package account
  EXPECT_NE(account_refusal("slurm", slurm, c).find("system account (uid 64030)"), std::string::npos);
}

}  // namespace
}  // namespace portico::cluster
