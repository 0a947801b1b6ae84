#include "filesystem/paths.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

using namespace portico::filesystem;
using portico::config::FileSystem;
using portico::core::ErrorKind;
using portico::core::Failure;

namespace {

std::vector<FileSystem> file_systems() {
  FileSystem home;
  home.path = "/home";
  FileSystem scratch;
  scratch.path = "/scratch/";  // a trailing slash in the configuration still matches
  return {home, scratch};
}

std::string confined(std::string_view path) { return confine(path, file_systems(), "query", "path"); }

// The field error a refusal carries, or "" when there was none.
std::string refusal(std::string_view path) {
  try {
    confine(path, file_systems(), "query", "path");
  } catch (const Failure& e) {
    EXPECT_EQ(e.kind(), ErrorKind::validation);
    EXPECT_EQ(e.fields().size(), 1u);
    if (e.fields().empty()) return "no field";
    EXPECT_EQ(e.fields()[0].location, "query");
    EXPECT_EQ(e.fields()[0].name, "path");
    return e.fields()[0].message;
  }
  return "";
}

}  // namespace

TEST(Confine, KeepsANormalPath) {
  EXPECT_EQ(confined("/home/alice/data.txt"), "/home/alice/data.txt");
  EXPECT_EQ(confined("/home"), "/home");
  EXPECT_EQ(confined("/scratch/alice"), "/scratch/alice");
}

TEST(Confine, NormalisesLexically) {
  EXPECT_EQ(confined("//home///alice//"), "/home/alice");
  EXPECT_EQ(confined("/home/./alice/./x"), "/home/alice/x");
  EXPECT_EQ(confined("/home/alice/../bob"), "/home/bob");
  EXPECT_EQ(confined("/home/alice/.."), "/home");
  EXPECT_EQ(confined("/home/alice/sub/../../bob/."), "/home/bob");
}

TEST(Confine, KeepsAnyByteButNul) {
  std::string odd = "/home/alice/a b\n'\"$(id)`x`-\xff\xfe\t";
  EXPECT_EQ(confined(odd), odd);
  EXPECT_EQ(confined("/home/alice/-rf"), "/home/alice/-rf");
  EXPECT_EQ(confined("/home/alice/..."), "/home/alice/...");
}

TEST(Confine, RefusesRelativeAndEmpty) {
  EXPECT_EQ(refusal(""), "must not be empty");
  EXPECT_EQ(refusal("home/alice"), "must be an absolute path");
  EXPECT_EQ(refusal("./home"), "must be an absolute path");
  EXPECT_EQ(refusal("~alice"), "must be an absolute path");
}

TEST(Confine, RefusesNul) {
  EXPECT_EQ(refusal(std::string_view("/home/a\0b", 9)), "must not contain a NUL byte");
}

TEST(Confine, RefusesOutsideTheFileSystems) {
  EXPECT_EQ(refusal("/"), "is not inside a configured file system");
  EXPECT_EQ(refusal("/etc/passwd"), "is not inside a configured file system");
  EXPECT_EQ(refusal("/homex"), "is not inside a configured file system");
  EXPECT_EQ(refusal("/homex/alice"), "is not inside a configured file system");
  EXPECT_EQ(refusal("/scratchy"), "is not inside a configured file system");
}

TEST(Confine, RefusesDotDotLeavingAFileSystem) {
  EXPECT_EQ(refusal("/home/.."), "must not use '..' to leave a configured file system");
  EXPECT_EQ(refusal("/home/alice/../../etc/passwd"), "must not use '..' to leave a configured file system");
  EXPECT_EQ(refusal("/home/../scratch/alice"), "must not use '..' to leave a configured file system");
  EXPECT_EQ(refusal("/.."), "must not use '..' above '/'");
  EXPECT_EQ(refusal("/../home"), "must not use '..' above '/'");
}

TEST(Confine, CapsTheLength) {
  std::string longest = "/home/" + std::string(max_path_bytes - 6, 'a');
  EXPECT_EQ(confined(longest), longest);
  EXPECT_EQ(refusal(longest + "a"), "is longer than 4096 bytes");
}

TEST(Confine, NamesTheFieldItWasGiven) {
  try {
    confine("/etc", file_systems(), "body", "sourcePath");
    FAIL() << "no Failure thrown";
  } catch (const Failure& e) {
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].location, "body");
    EXPECT_EQ(e.fields()[0].name, "sourcePath");
    EXPECT_STREQ(e.what(), "sourcePath: is not inside a configured file system");
  }
}

TEST(Confine, NoFileSystemsAdmitNothing) {
  EXPECT_THROW(confine("/home/alice", {}, "query", "path"), Failure);
}

TEST(Confine, RootFileSystemAdmitsEverything) {
  FileSystem root;
  root.path = "/";
  EXPECT_EQ(confine("/etc/../var//log", {root}, "query", "path"), "/var/log");
  EXPECT_EQ(confine("/", {root}, "query", "path"), "/");
}

TEST(ConfineTargetName, AcceptsOrdinaryAndOddNames) {
  EXPECT_EQ(confine_target_name("data.txt", "body", "file"), "data.txt");
  EXPECT_EQ(confine_target_name("-rf", "body", "file"), "-rf");
  EXPECT_EQ(confine_target_name("a b\n$(id)\xff", "body", "file"), "a b\n$(id)\xff");
  EXPECT_EQ(confine_target_name("...", "body", "file"), "...");
  EXPECT_EQ(confine_target_name(std::string(255, 'x'), "body", "file"), std::string(255, 'x'));
}

TEST(ConfineTargetName, RefusesWhatIsNotOneName) {
  for (std::string_view bad : {std::string_view(""), std::string_view("."), std::string_view(".."),
                               std::string_view("a/b"), std::string_view("/"), std::string_view("../x"),
                               std::string_view("a\0b", 3)}) {
    EXPECT_THROW(confine_target_name(bad, "body", "file"), Failure) << bad;
  }
  EXPECT_THROW(confine_target_name(std::string(256, 'x'), "body", "file"), Failure);
}

TEST(ChildPath, Joins) {
  EXPECT_EQ(child_path("/home/alice", "x"), "/home/alice/x");
  EXPECT_EQ(child_path("/", "x"), "/x");
}
