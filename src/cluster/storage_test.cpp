#include "cluster/storage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.hpp"

using namespace portico::cluster;
using portico::config::Cluster;
using portico::config::FileSystem;
using ::testing::ElementsAre;

namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(PORTICO_SOURCE_DIR) + "/src/cluster/testdata/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing golden file testdata/" << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Cluster demo() {
  Cluster c;
  c.name = "hpc";
  c.file_systems.push_back(FileSystem{"/home", "users", true, {}});
  c.file_systems.push_back(FileSystem{"/scratch", "scratch", false, {}});
  return c;
}

}  // namespace

TEST(Quota, ReadsTheDocumentedFormat) {
  auto q = parse_quota(golden("quota_home_alice.txt"));
  EXPECT_EQ(q.used_bytes, 3247795u);
  EXPECT_EQ(q.limit_bytes, 10737418240u);
  EXPECT_EQ(q.used_inodes, 767u);
  EXPECT_EQ(q.limit_inodes, 100000u);
  auto spaced = parse_quota("\n  1\t2  3 0\r\nignored\n");
  EXPECT_EQ(spaced.limit_inodes, 0u);
  for (const char* bad : {"", "1 2 3", "1 2 3 4 5", "1 2 x 4", "-1 2 3 4"})
    EXPECT_THROW(parse_quota(bad), portico::core::Failure) << bad;
}

TEST(Quota, ReplacesEveryUserPlaceholderInItsOwnWord) {
  FileSystem fs{"/home", "users", false, {"site-quota", "--user={user}", "{user}{user}", "/home"}};
  EXPECT_THAT(quota_argv(fs, "alice"), ElementsAre("site-quota", "--user=alice", "alicealice", "/home"));
}

TEST(StorageProbe, ReadsTheRealAnswer) {
  auto probe = parse_storage_probe(golden("storage_probe_alice.txt"));
  EXPECT_EQ(probe.home, "/home/alice");
  ASSERT_EQ(probe.paths.size(), 5u);
  EXPECT_EQ(probe.paths[0].path, "/home/alice");
  EXPECT_TRUE(probe.paths[0].exists && probe.paths[0].read && probe.paths[0].write && probe.paths[0].execute);
  EXPECT_EQ(probe.paths[2].path, "/home");
  EXPECT_TRUE(probe.paths[2].read && !probe.paths[2].write && probe.paths[2].execute);
  auto odd = parse_storage_probe("home \n---- /no where\nd--- /scratch/bob\n");
  EXPECT_EQ(odd.home, "");
  EXPECT_EQ(odd.paths[0].path, "/no where");
  EXPECT_FALSE(odd.paths[0].exists);
  EXPECT_THROW(parse_storage_probe(""), portico::core::Failure);
  EXPECT_THROW(parse_storage_probe("drwx /home\n"), portico::core::Failure);
  EXPECT_THROW(parse_storage_probe("home /h\nbad\n"), portico::core::Failure);
}

TEST(StorageLocations, TheUsersOwnDirectoriesElseTheSharedRoot) {
  auto c = demo();
  EXPECT_THAT(storage_candidates(c, "alice", {"climate"}), ElementsAre("/home/alice", "/home", "/scratch/alice", "/scratch"));
  EXPECT_THAT(storage_probe_argv("alice", {"/home/alice"}), ElementsAre("sh", "-c", ::testing::_, "sh", "alice", "/home/alice"));
  auto locations = storage_locations(c, "alice", {"climate"}, parse_storage_probe(golden("storage_probe_alice.txt")));
  ASSERT_EQ(locations.size(), 2u);
  EXPECT_EQ(locations[0].logical_name, "home");
  EXPECT_EQ(locations[0].path, "/home/alice");
  EXPECT_EQ(locations[0].filesystem, "/home");
  EXPECT_FALSE(locations[0].shared);
  EXPECT_TRUE(locations[0].write);
  EXPECT_EQ(locations[1].logical_name, "scratch");
  EXPECT_EQ(locations[1].path, "/scratch/alice");

  // No own scratch directory: the file system's root, shared; a project file system per project.
  c.file_systems.push_back(FileSystem{"/project", "project", false, {}});
  c.file_systems.push_back(FileSystem{"/opt/tools", "tools", false, {}});
  auto probe = parse_storage_probe("home /home/alice\ndrwx /home/alice\n---- /scratch/alice\ndr-x /scratch\n"
                                   "drwx /project/climate\n---- /project/genomics\n");
  auto more = storage_locations(c, "alice", {"climate", "genomics"}, probe);
  ASSERT_EQ(more.size(), 3u);
  EXPECT_EQ(more[1].path, "/scratch");
  EXPECT_TRUE(more[1].shared);
  EXPECT_FALSE(more[1].write);
  EXPECT_EQ(more[2].logical_name, "project");
  EXPECT_EQ(more[2].path, "/project/climate");
  EXPECT_EQ(logical_name("store"), "campaign");
  EXPECT_EQ(logical_name("tools"), "");
}
