#include "scheduler/id_parse.hpp"

#include "core/error.hpp"
#include "scheduler/golden.hpp"

#include <gtest/gtest.h>

using namespace portico::scheduler;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::scheduler::testing::golden;

namespace {

void expect_identity(const PosixIdentity& identity, std::uint32_t id, std::optional<std::string> name) {
  EXPECT_EQ(identity.id, id);
  EXPECT_EQ(identity.name, name);
}

}  // namespace

TEST(ParseId, GoldenDebian12Alice) {
  UserInfo info = parse_id(golden("id_alice.txt"));
  expect_identity(info.user, 1001, "alice");
  expect_identity(info.group, 1002, "alice");
  ASSERT_EQ(info.groups.size(), 2u);
  expect_identity(info.groups[0], 1002, "alice");
  expect_identity(info.groups[1], 1001, "hpcusers");
}

TEST(ParseId, IdsWithoutNames) {
  UserInfo info = parse_id("uid=1001(alice) gid=1002(alice) groups=1002(alice),4242,1001(hpcusers)\n");
  ASSERT_EQ(info.groups.size(), 3u);
  expect_identity(info.groups[1], 4242, std::nullopt);
  expect_identity(info.groups[2], 1001, "hpcusers");

  info = parse_id("uid=5000 gid=5000 groups=5000");
  expect_identity(info.user, 5000, std::nullopt);
  expect_identity(info.group, 5000, std::nullopt);
}

TEST(ParseId, DirectoryNamesWithSpacesAndSelinuxContext) {
  UserInfo info = parse_id(
      "uid=70001(jdoe) gid=70513(domain users) groups=70513(domain users),70600(hpc users) "
      "context=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023\n");
  expect_identity(info.group, 70513, "domain users");
  ASSERT_EQ(info.groups.size(), 2u);
  expect_identity(info.groups[1], 70600, "hpc users");
}

TEST(ParseId, MissingGroupsGivesThePrimaryGroup) {
  UserInfo info = parse_id("uid=1001(alice) gid=1002(alice)");
  ASSERT_EQ(info.groups.size(), 1u);
  expect_identity(info.groups[0], 1002, "alice");
}

TEST(ParseId, MalformedFails) {
  for (const char* text : {"", "\n", "id: 'nosuch': no such user", "uid=abc(alice) gid=1(a)", "gid=1(a) groups=1(a)",
                           "uid=1(alice gid=1(a)", "uid=1() gid=1(a)", "uid=1(a)x gid=1(a)", "uid=1(a) gid=1(a) groups=1(a),",
                           "uid=99999999999(a) gid=1(a)", "Uid=1(a) gid=1(a)"}) {
    try {
      parse_id(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Failure& e) {
      EXPECT_EQ(e.kind(), ErrorKind::internal) << text;
      EXPECT_NE(std::string(e.what()).find("unexpected id output"), std::string::npos) << e.what();
    }
  }
}

TEST(ParseGetentPasswd, GoldenUidsToNames) {
  auto names = parse_getent_passwd(golden("getent_passwd.txt"));  // asked for 0, 1001, 99999
  EXPECT_EQ(names, (std::map<std::string, std::string>{{"0", "root"}, {"1001", "alice"}}));
  EXPECT_TRUE(parse_getent_passwd("").empty());
  EXPECT_TRUE(parse_getent_passwd("garbage\n:x:5:5::/:/bin/sh\nname:x:notanumber:1::/:/bin/sh\n").empty());
}
