#include "transfer/job_scripts.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace portico::transfer {
namespace {

namespace fs = std::filesystem;

// Names that break any script that splices values into its text.
const std::vector<std::string> kHostileNames = {
    "plain", "with space", "quote'single", "quote\"double", "$(touch pwned)", "`touch pwned`",
    "new\nline", "-leading-dash", "semi;colon&amp", "back\\slash", "star*?[a]",
};

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs a job script with bash in `dir`, as a batch system would.
Run run_script(const std::string& script, const fs::path& dir) {
  auto file = dir / "job.sh";
  std::ofstream(file) << script;
  auto out = dir / "job.out", err = dir / "job.err";
  std::string cmd = "cd '" + dir.string() + "' && /bin/bash job.sh >job.out 2>job.err";
  Run r;
  int rc = std::system(cmd.c_str());
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::stringstream o, e;
  o << std::ifstream(out).rdbuf();
  e << std::ifstream(err).rdbuf();
  r.out = o.str();
  r.err = e.str();
  return r;
}

class JobScripts : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/portico-jobs-XXXXXX";
    dir_ = mkdtemp(name);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& content) const { std::ofstream(dir_ / name) << content; }
  std::string read(const std::string& name) const {
    std::stringstream s;
    s << std::ifstream(dir_ / name).rdbuf();
    return s.str();
  }
  fs::path dir_;
};

TEST_F(JobScripts, CopyKeepsEveryHostileNameLiteral) {
  for (const auto& name : kHostileNames) {
    write(name, "content of " + name);
    auto r = run_script(copy_script(path(name), path(name + ".copy"), false), dir_);
    EXPECT_EQ(r.status, 0) << name << ": " << r.err;
    EXPECT_EQ(r.out, "Files were successfully copied.\n");
    EXPECT_EQ(read(name + ".copy"), "content of " + name);
  }
  EXPECT_FALSE(fs::exists(dir_ / "pwned"));
}

TEST_F(JobScripts, CopyCopiesALinkOrWhatItPointsTo) {
  write("target", "x");
  fs::create_symlink("target", dir_ / "link");
  ASSERT_EQ(run_script(copy_script(path("link"), path("as-link"), false), dir_).status, 0);
  EXPECT_TRUE(fs::is_symlink(dir_ / "as-link"));
  ASSERT_EQ(run_script(copy_script(path("link"), path("as-file"), true), dir_).status, 0);
  EXPECT_FALSE(fs::is_symlink(dir_ / "as-file"));
  EXPECT_EQ(read("as-file"), "x");
}

TEST_F(JobScripts, AFailureNamesTheFileOnStderrAndNeverPrintsTheSuccessLine) {
  auto r = run_script(copy_script(path("missing 'x'"), path("b"), false), dir_);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out.find("successfully"), std::string::npos);
  EXPECT_NE(r.err.find("Could not copy " + path("missing 'x'")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST_F(JobScripts, MoveAndRemove) {
  for (const auto& name : kHostileNames) {
    write(name, "x");
    auto moved = run_script(move_script(path(name), path(name + ".moved")), dir_);
    EXPECT_EQ(moved.status, 0) << name << ": " << moved.err;
    EXPECT_EQ(moved.out, "Files were successfully moved.\n");
    EXPECT_FALSE(fs::exists(dir_ / name));
    auto removed = run_script(remove_script(path(name + ".moved")), dir_);
    EXPECT_EQ(removed.status, 0) << name << ": " << removed.err;
    EXPECT_EQ(removed.out, "Files were successfully deleted.\n");
    EXPECT_FALSE(fs::exists(dir_ / (name + ".moved")));
  }
  auto r = run_script(remove_script(path("absent")), dir_);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Could not delete " + path("absent")), std::string::npos) << r.err;
}

// A job taking over an interrupted attempt completes it: the copy into the exact target (not
// nested in what the attempt made), the move of a partly copied tree, the removal of a gone path.
TEST_F(JobScripts, ResumedTransfersCompleteWhatAnAttemptLeft) {
  std::string name = "tree $(x) 'q'";
  fs::create_directories(dir_ / name / "sub");
  write(name + "/a", "a");
  write(name + "/sub/b", "b");
  fs::create_directories(dir_ / "copy" / "sub");  // what an interrupted cp -R left
  write("copy/a", "partial");
  auto copied = run_script(copy_script(path(name), path("copy"), false, true), dir_);
  ASSERT_EQ(copied.status, 0) << copied.err;
  EXPECT_EQ(read("copy/a"), "a");
  EXPECT_EQ(read("copy/sub/b"), "b");
  EXPECT_FALSE(fs::exists(dir_ / "copy" / name));

  fs::create_directories(dir_ / "moved" / "sub");  // what an interrupted mv across file systems left
  auto moved = run_script(move_script(path(name), path("moved"), true), dir_);
  ASSERT_EQ(moved.status, 0) << moved.err;
  EXPECT_EQ(read("moved/sub/b"), "b");
  EXPECT_FALSE(fs::exists(dir_ / name));
  EXPECT_FALSE(fs::exists(dir_ / "moved" / name));

  write("file", "f");
  ASSERT_EQ(run_script(move_script(path("file"), path("file.moved"), true), dir_).status, 0);
  EXPECT_EQ(read("file.moved"), "f");

  auto removed = run_script(remove_script(path("absent"), true), dir_);
  EXPECT_EQ(removed.status, 0) << removed.err;
  EXPECT_EQ(removed.out, "Files were successfully deleted.\n");
}

TEST_F(JobScripts, CompressWithAPatternAndExtract) {
  std::string name = "dir $(x) 'q'";
  fs::create_directory(dir_ / name);
  write(name + "/a.txt", "a");
  write(name + "/b.log", "b");
  auto commands = filesystem::compress_commands(path(name), path("out.tar.gz"), std::string(".*\\.txt"), false,
                                                filesystem::Compression::gzip);
  auto r = run_script(compress_script(path(name), path("out.tar.gz"), commands), dir_);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Files were successfully compressed.\n");
  fs::create_directory(dir_ / "into");
  auto tar = filesystem::extract_command(path("out.tar.gz"), path("into"), filesystem::Compression::gzip);
  auto x = run_script(extract_script(path("out.tar.gz"), path("into"), tar), dir_);
  ASSERT_EQ(x.status, 0) << x.err;
  EXPECT_EQ(x.out, "Files were successfully extracted.\n");
  EXPECT_EQ(read("into/" + name + "/a.txt"), "a");
  EXPECT_FALSE(fs::exists(dir_ / "into" / name / "b.log"));
}

TEST_F(JobScripts, ACompressWhoseFindFailsFails) {
  auto commands = filesystem::compress_commands(path("absent"), path("out.tar"), std::string(".*"), false,
                                                filesystem::Compression::none);
  auto r = run_script(compress_script(path("absent"), path("out.tar"), commands), dir_);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out.find("successfully"), std::string::npos);
  EXPECT_NE(r.err.find("Could not compress"), std::string::npos) << r.err;
}

TEST_F(JobScripts, ExtractOfACorruptArchiveFails) {
  write("bad.tar.gz", "not an archive");
  fs::create_directory(dir_ / "into");
  auto tar = filesystem::extract_command(path("bad.tar.gz"), path("into"), filesystem::Compression::gzip);
  auto r = run_script(extract_script(path("bad.tar.gz"), path("into"), tar), dir_);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Could not extract " + path("bad.tar.gz")), std::string::npos) << r.err;
}

// The staging scripts carry URLs as values too: never as script text.
TEST(StagingScripts, UrlsAndNamesAreValuesOfTheSetLine) {
  std::string url = "http://s3/b/k?X-Amz-Signature=abc&x='$(touch pwned)'";
  auto up = upload_script("/home/u/a'b", url, url, 10);
  auto down = download_script("/home/u/a'b", 5 << 20, 4, {url, url}, url);
  for (const auto& script : {up, down}) {
    auto set = script.find("\nset -- ");
    ASSERT_NE(set, std::string::npos) << script;
    auto end = script.find('\n', set + 1);
    // Every occurrence of the URL's hostile part is inside the one set line.
    auto at = script.find("$(touch pwned)");
    ASSERT_NE(at, std::string::npos);
    EXPECT_GT(at, set);
    EXPECT_LT(script.rfind("$(touch pwned)"), end);
  }
}

TEST(StagingScripts, PartsForASize) {
  EXPECT_EQ(parts_for(0, 5), 1u);
  EXPECT_EQ(parts_for(1, 5), 1u);
  EXPECT_EQ(parts_for(5, 5), 1u);
  EXPECT_EQ(parts_for(6, 5), 2u);
  EXPECT_EQ(parts_for(3ull << 30, 1ull << 30), 3u);
}

}  // namespace
}  // namespace portico::transfer
