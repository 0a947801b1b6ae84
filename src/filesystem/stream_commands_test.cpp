// The download and upload scripts run for real here, with the local /bin/sh and coreutils (the
// same Debian tools the cluster side runs), on files with hostile names. Permission cases need
// another user and are in tests/functional/test_transfer.py.
#include "filesystem/stream_commands.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace portico::filesystem;

namespace {

struct Outcome {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs argv directly (no shell joins it) with `input` on stdin.
Outcome run(const std::vector<std::string>& argv, const std::string& input, const fs::path& scratch) {
  auto in = scratch / "stdin", out = scratch / "stdout", err = scratch / "stderr";
  std::ofstream(in, std::ios::binary) << input;
  pid_t pid = fork();
  if (pid == 0) {
    std::freopen(in.c_str(), "rb", stdin);
    std::freopen(out.c_str(), "wb", stdout);
    std::freopen(err.c_str(), "wb", stderr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

class StreamCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("portico-stream-" + std::to_string(getpid()));
    fs::create_directories(root_ / "scratch");
    fs::create_directories(root_ / "dir");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

const std::string kHostile = "-n a b 'q' \"d\" $(id) `x` ;\n\xff.bin";

}  // namespace

TEST_F(StreamCommands, DownloadWholeFileWithHostileName) {
  std::string data("\0\r\n\xff binary", 12);
  auto file = root_ / "dir" / kHostile;
  std::ofstream(file, std::ios::binary) << data;
  auto r = run(download_argv(file.string(), false), "", root_ / "scratch");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "12\n" + data);
}

TEST_F(StreamCommands, DownloadRange) {
  auto file = root_ / "dir" / "f";
  std::ofstream(file, std::ios::binary) << "0123456789";
  auto r = run(download_argv(file.string(), true), "3 4\n", root_ / "scratch");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "10\n3456");
  r = run(download_argv(file.string(), true), "", root_ / "scratch");  // no range line: size only
  EXPECT_EQ(r.out, "10\n");
  r = run(download_argv(file.string(), true), "1 x\n", root_ / "scratch");  // never a non-number to dd
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "10\n");
}

TEST_F(StreamCommands, DownloadRefusesWhatIsNotARegularFile) {
  auto r = run(download_argv((root_ / "dir").string(), false), "", root_ / "scratch");
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("Is a directory"), std::string::npos) << r.err;

  r = run(download_argv((root_ / "missing").string(), false), "", root_ / "scratch");
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;

  r = run(download_argv("/dev/null", false), "", root_ / "scratch");
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(is_not_regular_file_message(r.err)) << r.err;
}

TEST_F(StreamCommands, UploadWritesTheTemporaryFileOnlyThenCommitRenames) {
  auto dir = (root_ / "dir").string();
  auto target = dir + "/" + kHostile;
  auto temp = upload_temp_name(dir, "\x01\xab");
  EXPECT_EQ(temp, dir + "/.portico-upload.01ab");
  std::string data("\0\r\nbytes\xff", 10);
  auto r = run(upload_argv(dir, temp), data, root_ / "scratch");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ready\n");
  EXPECT_EQ(slurp(temp), data);
  EXPECT_FALSE(fs::exists(target));

  r = run(upload_commit_argv(temp, target), "", root_ / "scratch");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(target), data);
  EXPECT_FALSE(fs::exists(temp));
}

TEST_F(StreamCommands, UploadRefusesBadDirectoriesBeforeReady) {
  auto dir = (root_ / "dir").string();
  // The directory is missing.
  auto r = run(upload_argv(dir + "/nope", dir + "/nope/.t"), "x", root_ / "scratch");
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
  // The "directory" is a file.
  std::ofstream(root_ / "dir" / "file") << "x";
  r = run(upload_argv(dir + "/file", dir + "/file/.t"), "x", root_ / "scratch");
  EXPECT_NE(r.err.find("Not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // The temporary name exists (a planted link): refused, nothing written through it.
  fs::create_symlink(root_ / "dir" / "victim", root_ / "dir" / ".t");
  r = run(upload_argv(dir, dir + "/.t"), "x", root_ / "scratch");
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(root_ / "dir" / "victim"));
}

TEST_F(StreamCommands, CommitNeverMovesIntoADirectory) {
  auto dir = (root_ / "dir").string();
  std::ofstream(dir + "/.t") << "data";
  fs::create_directories(dir + "/target");
  auto r = run(upload_commit_argv(dir + "/.t", dir + "/target"), "", root_ / "scratch");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Is a directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/target/.t"));
  EXPECT_FALSE(fs::exists(dir + "/.t"));  // removed after the refused rename
  auto cleanup = upload_cleanup_argv(dir + "/x");
  EXPECT_EQ(cleanup, (std::vector<std::string>{"rm", "-f", "--", dir + "/x"}));
}

TEST(StreamCommandsPure, SizeLine) {
  EXPECT_EQ(parse_size_line("0"), 0u);
  EXPECT_EQ(parse_size_line("6000000000"), 6000000000ull);
  EXPECT_EQ(parse_size_line(""), std::nullopt);
  EXPECT_EQ(parse_size_line("12 "), std::nullopt);
  EXPECT_EQ(parse_size_line("-1"), std::nullopt);
}
