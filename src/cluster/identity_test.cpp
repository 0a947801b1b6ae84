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

// The demo site's answer to account_lookup_command (getent, then id), as the probe user ran it.
constexpr const char* kAlice =
    "alice:x:1001:1002::/home/alice:/bin/bash\n"
    "uid=1001(alice) gid=1002(alice) groups=1002(alice),1001(hpcusers)\n";

TEST(Identity, ReadsTheAccountItsGroupsAndIdsFromRealOutput) {
  auto a = parse_account_lookup(kAlice, "alice");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->uid, 1001u);
  EXPECT_EQ(a->groups, (std::vector<std::string>{"alice", "hpcusers"}));
  EXPECT_EQ(a->info.user.id, 1001u);
  EXPECT_EQ(a->info.user.name, "alice");
  EXPECT_EQ(a->info.group.id, 1002u);
  ASSERT_EQ(a->info.groups.size(), 2u);
  EXPECT_EQ(a->info.groups[1].id, 1001u);
  EXPECT_EQ(a->info.groups[1].name, "hpcusers");
}

TEST(Identity, RefusesAnAnswerAboutAnotherNameOrMalformed) {
  const std::string id = "uid=1001(alice) gid=1002(alice) groups=1002(alice)\n";
  EXPECT_FALSE(parse_account_lookup("bob:*:1002:1002::/home/bob:/bin/bash\n" + id, "alice"));
  EXPECT_FALSE(parse_account_lookup("alice:*:x:1001::/home/alice:/bin/bash\n" + id, "alice"));
  EXPECT_FALSE(parse_account_lookup("alice:*:1001:1001::/home/alice\n" + id, "alice"));
  EXPECT_FALSE(parse_account_lookup("alice:*:1001:1002::/home/alice:/bin/bash\nalice hpcusers\n", "alice"));
  // id about another uid than the passwd entry's.
  EXPECT_FALSE(parse_account_lookup("alice:*:1001:1002::/home/alice:/bin/bash\nuid=7(x) gid=7(x)\n", "alice"));
  EXPECT_FALSE(parse_account_lookup("", "alice"));
}

TEST(Identity, TheCommandNamesTheUserAsOneWord) {
  EXPECT_EQ(account_lookup_command("alice").size() > 0, true);
  auto argv = account_lookup_command("alice");
  std::string joined;
  for (const auto& w : argv) joined += w + " ";
  EXPECT_NE(joined.find("getent passwd -- alice"), std::string::npos) << joined;
  EXPECT_NE(joined.find("env LC_ALL=C id -- alice"), std::string::npos) << joined;
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
  UnixAccount daemon{"daemon", 1, {"daemon"}, {}};
  EXPECT_NE(account_refusal("daemon", daemon, c).find("system account (uid 1)"), std::string::npos);
  UnixAccount toor{"toor", 0, {"root"}, {}};
  c.access.min_uid = 0;
  EXPECT_NE(account_refusal("toor", toor, c), "");  // uid 0 whatever the minimum
  UnixAccount alice{"alice", 1001, {"alice"}, {}};
  c.access.min_uid = 1000;
  EXPECT_EQ(account_refusal("alice", alice, c), "");
  c.access.min_uid = 2000;
  EXPECT_NE(account_refusal("alice", alice, c), "");
  c.access.min_uid = 1000;
  UnixAccount slurm{"slurm", 64030, {"slurm"}, {}};  // Debian's package account
  EXPECT_NE(account_refusal("slurm", slurm, c).find("system account (uid 64030)"), std::string::npos);
}

}  // namespace
}  // namespace portico::cluster
