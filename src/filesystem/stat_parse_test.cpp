#include "filesystem/stat_parse.hpp"

#include "core/error.hpp"
#include "filesystem/test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

using namespace portico::filesystem;
using namespace portico::filesystem::fstest;
using portico::core::ErrorKind;
using portico::core::Failure;

namespace {

// The real stat(1) against stat(2) on the same path.
void expect_matches_lstat_or_stat(const std::string& path, bool dereference) {
  auto r = run(stat_command(path, dereference));
  ASSERT_EQ(r.status, 0) << r.out;
  StatResult s = parse_stat(r.out);
  struct stat st {};
  ASSERT_EQ(dereference ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st), 0);
  EXPECT_EQ(s.mode, st.st_mode);
  EXPECT_EQ(s.ino, st.st_ino);
  EXPECT_EQ(s.dev, st.st_dev);
  EXPECT_EQ(s.nlink, st.st_nlink);
  EXPECT_EQ(s.uid, st.st_uid);
  EXPECT_EQ(s.gid, st.st_gid);
  EXPECT_EQ(s.size, static_cast<std::uint64_t>(st.st_size));
  EXPECT_EQ(s.atime, st.st_atim.tv_sec);
  EXPECT_EQ(s.mtime, st.st_mtim.tv_sec);
  EXPECT_EQ(s.ctime, st.st_ctim.tv_sec);
}

}  // namespace

TEST(StatCommand, BuildsTheDocumentedArgv) {
  EXPECT_EQ(stat_command("/home/alice", false),
            (std::vector<std::string>{"env", "LC_ALL=C", "stat", "--printf=%f %i %d %h %u %g %s %X %Y %Z\\n", "--",
                                      "/home/alice"}));
  EXPECT_EQ(stat_command("-x", true),
            (std::vector<std::string>{"env", "LC_ALL=C", "stat", "-L", "--printf=%f %i %d %h %u %g %s %X %Y %Z\\n",
                                      "--", "-x"}));
}

TEST(ParseStat, ReadsEveryField) {
  StatResult s = parse_stat("81a4 123 2049 1 1001 1002 5368709120 -86400 1767323045 1795549852\n");
  EXPECT_EQ(s.mode, 0100644u);
  EXPECT_EQ(s.mode, 33188u);
  EXPECT_EQ(s.ino, 123u);
  EXPECT_EQ(s.dev, 2049u);
  EXPECT_EQ(s.nlink, 1u);
  EXPECT_EQ(s.uid, 1001u);
  EXPECT_EQ(s.gid, 1002u);
  EXPECT_EQ(s.size, 5368709120u);
  EXPECT_EQ(s.atime, -86400);
  EXPECT_EQ(s.mtime, 1767323045);
  EXPECT_EQ(s.ctime, 1795549852);
}

TEST(ParseStat, RefusesOtherShapes) {
  for (std::string_view bad : {"", "\n", "81a4 1 2 3 4 5 6 7 8 9", "81a4 1 2 3 4 5 6 7 8\n",
                               "81a4 1 2 3 4 5 6 7 8 9 10\n", "81a4  1 2 3 4 5 6 7 8 9\n", "zz 1 2 3 4 5 6 7 8 9\n",
                               "81a4 -1 2 3 4 5 6 7 8 9\n", "81a4 1 2 3 4 5 +6 7 8 9\n",
                               "81a4 1 2 3 4 5 99999999999999999999 7 8 9\n", "81a4 1 2 3 4 5 6 7 8 9\nextra\n"}) {
    try {
      parse_stat(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Failure& e) {
      EXPECT_EQ(e.kind(), ErrorKind::internal);
      EXPECT_STREQ(e.what(), "unexpected output from stat");
    }
  }
}

TEST(ParseStatRealTool, MatchesTheSystemCall) {
  TempDir dir;
  std::string file = dir.path() + "/it's a \"file\"\n$(id)\xff";
  write_file(file, "hello\n");
  ASSERT_EQ(::chmod(file.c_str(), 02750), 0);
  std::string sparse = dir.path() + "/sparse";
  write_file(sparse);
  ASSERT_EQ(::truncate(sparse.c_str(), 5ll << 30), 0);
  std::string link = dir.path() + "/-link";
  ASSERT_EQ(::symlink(file.c_str(), link.c_str()), 0);
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);

  expect_matches_lstat_or_stat(file, false);
  expect_matches_lstat_or_stat(sparse, false);
  expect_matches_lstat_or_stat(link, false);
  expect_matches_lstat_or_stat(link, true);
  expect_matches_lstat_or_stat(fifo, false);
  expect_matches_lstat_or_stat(dir.path(), false);
  expect_matches_lstat_or_stat("/dev/null", false);

  auto r = run(stat_command(link, true));
  EXPECT_EQ(parse_stat(r.out).mode, 0102750u);  // -L: the file's mode, not the link's
  EXPECT_EQ(parse_stat(run(stat_command(sparse, false)).out).size, 5368709120u);
}

TEST(ParseStatGolden, RealOutput) {
  StatResult file = parse_stat(golden("stat_file.txt"));
  EXPECT_EQ(file.mode, 0100640u);
  EXPECT_EQ(file.uid, 1001u);
  EXPECT_EQ(file.gid, 1001u);
  EXPECT_EQ(file.size, 6u);
  EXPECT_EQ(file.nlink, 1u);
  EXPECT_EQ(file.mtime, 1767323045);
  StatResult dir = parse_stat(golden("stat_dir.txt"));
  EXPECT_EQ(dir.mode, 040755u);
  EXPECT_EQ(dir.nlink, 3u);
  EXPECT_EQ(dir.gid, 1002u);
}
