#include "filesystem/ls_parse.hpp"

#include "core/error.hpp"
#include "filesystem/test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

using namespace portico::filesystem;
using namespace portico::filesystem::fstest;
using portico::core::ErrorKind;
using portico::core::Failure;

namespace {

// Names that break naive parsers: quoting, shell syntax, the " -> " separator, newlines, a
// leading dash, C escapes, and bytes that are not UTF-8.
const std::vector<std::string>& adversarial_names() {
  static const std::vector<std::string> names{
      "plain",        "with space",    "it's",           "say \"hi\"",   "$(id)",       "`id`",
      "new\nline",    "-rf",           "--help",         "\xff\xfe",     "tab\there",   "back\\slash",
      "a -> b",       "caf\xc3\xa9",   " leading space", "trailing ",    "bell\a\x01",  "question??",
      "x\"",          "\x7f" "del",    "total 5",        "star*",        "semi;colon",
  };
  return names;
}

std::map<std::string, LsEntry> by_name(const std::vector<LsEntry>& entries) {
  std::map<std::string, LsEntry> out;
  for (const auto& e : entries) out.emplace(e.directory + "|" + e.name, e);
  return out;
}

LsEntry only_entry(std::string_view output) {
  auto entries = parse_ls(output);
  EXPECT_EQ(entries.size(), 1u);
  return entries.empty() ? LsEntry{} : entries.front();
}

Failure failure_of(std::string_view output) {
  try {
    parse_ls(output);
  } catch (const Failure& e) {
    return e;
  }
  ADD_FAILURE() << "no Failure thrown";
  return Failure(ErrorKind::validation, "none");
}

}  // namespace

TEST(LsCommand, BuildsTheDocumentedArgv) {
  EXPECT_EQ(ls_command("/home/alice", {}),
            (std::vector<std::string>{"env", "LC_ALL=C", "ls", "-l", "--quoting-style=c",
                                      "--time-style=+%Y-%m-%dT%H:%M:%S", "--", "/home/alice"}));
  LsOptions all{true, true, true, true};
  EXPECT_EQ(ls_command("-x", all),
            (std::vector<std::string>{"env", "LC_ALL=C", "ls", "-l", "--quoting-style=c",
                                      "--time-style=+%Y-%m-%dT%H:%M:%S", "-A", "-n", "-R", "-L", "--", "-x"}));
}

TEST(LsCommand, ItselfDescribesThePathNotItsContents) {
  LsOptions itself;
  itself.itself = true;
  EXPECT_EQ(ls_command("/home/alice", itself),
            (std::vector<std::string>{"env", "LC_ALL=C", "ls", "-l", "--quoting-style=c",
                                      "--time-style=+%Y-%m-%dT%H:%M:%S", "-d", "--", "/home/alice"}));
}

TEST(TakeCQuoted, DecodesEveryEscape) {
  std::string_view text = R"("a\tb\n\\\"\'\?\a\b\f\r\v\001\377\0z" rest)";
  EXPECT_EQ(take_c_quoted(text), std::string("a\tb\n\\\"'?\a\b\f\r\v\x01\xff") + std::string(1, '\0') + "z");
  EXPECT_EQ(text, " rest");
}

TEST(TakeCQuoted, RefusesMalformedStrings) {
  for (std::string_view bad : {R"(abc)", R"("abc)", R"("ab\)", R"("\q")", R"("\777")"}) {
    std::string_view text = bad;
    EXPECT_THROW(take_c_quoted(text), Failure) << bad;
  }
}

TEST(ParseLs, ReadsEachFieldOfALine) {
  auto e = only_entry("total 8\n-rw-r--r-- 1 alice hpcusers 1234 2026-11-24T19:47:54 \"data.txt\"\n");
  EXPECT_EQ(e.name, "data.txt");
  EXPECT_EQ(e.directory, "");
  EXPECT_EQ(e.type, '-');
  EXPECT_FALSE(e.link_target.has_value());
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.group, "hpcusers");
  EXPECT_EQ(e.permissions, "rw-r--r--");
  EXPECT_EQ(e.last_modified, "2026-11-24T19:47:54");
  EXPECT_EQ(e.size, "1234");
}

TEST(ParseLs, DropsAclAndSelinuxMarkers) {
  EXPECT_EQ(only_entry("drwxrwsr-t+ 2 1001 1001 4096 2026-11-24T19:47:54 \"d\"\n").permissions, "rwxrwsr-t");
  EXPECT_EQ(only_entry("-rwSr--r-T. 1 1001 1001 0 2026-11-24T19:47:54 \"f\"").permissions, "rwSr--r-T");
}

TEST(ParseLs, ReadsDevicesWithAlignedNumbers) {
  auto e = only_entry("brw-rw---- 1 root disk 259,   1 2026-11-20T02:57:18 \"nvme0n1p1\"\n");
  EXPECT_EQ(e.type, 'b');
  EXPECT_EQ(e.size, "259, 1");
}

TEST(ParseLs, ReadsSizesOver4GiB) {
  EXPECT_EQ(only_entry("-rw-r--r-- 1 a a 18446744073709551615 2026-11-24T19:47:54 \"huge\"\n").size,
            "18446744073709551615");
}

TEST(ParseLs, ReadsEntriesLsCouldNotStat) {
  auto e = only_entry("l????????? ? ? ? ?                   ? \"gone\"\n");
  EXPECT_EQ(e.type, 'l');
  EXPECT_EQ(e.permissions, "?????????");
  EXPECT_EQ(e.size, "?");
}

TEST(ParseLs, AnEmptyListingIsEmpty) {
  EXPECT_TRUE(parse_ls("").empty());
  EXPECT_TRUE(parse_ls("total 0\n").empty());
}

TEST(ParseLs, RefusesOtherShapes) {
  EXPECT_EQ(failure_of("garbage\n").kind(), ErrorKind::internal);
  EXPECT_STREQ(failure_of("garbage\n").what(), "unexpected output from ls");
  // Without --quoting-style=c: refused rather than guessed.
  failure_of("-rw-r--r-- 1 a a 0 2026-11-24T19:47:54 data.txt\n");
  // Without --time-style: the name would start at "24".
  failure_of("-rw-r--r-- 1 a a 0 Nov 24 19:47 \"x\"\n");
  failure_of("-rw-r--r-- 1 a a 0 2026-11-24T19:47:54 \"x\" junk\n");
  failure_of("-rw-r--r-- 1 a a 0 2026-11-24T19:47:54 \"x\" -> \n");
  failure_of("-rw-r--r-- 1 a a 12x 2026-11-24T19:47:54 \"x\"\n");
  failure_of("xrw-r--r-- 1 a a 0 2026-11-24T19:47:54 \"x\"\n");
  failure_of("-rw-r--r--! 1 a a 0 2026-11-24T19:47:54 \"x\"\n");
  failure_of("total many\n");
  failure_of("\"/home/alice\" junk\n");
  failure_of("-rw-r--r-- 1 a a 0 2026-11-24T19:47:54 \"unterminated\n");
}

TEST(ParseLs, TheFailureDetailNamesTheLineWithoutControlBytes) {
  auto f = failure_of("-rw-r--r-- 1 a a 0 2026-11-24T19:47:54 \"x\" \x1b[31mjunk\n");
  EXPECT_THAT(f.detail(), ::testing::HasSubstr("after the name"));
  EXPECT_EQ(f.detail().find('\x1b'), std::string::npos);
}

// The real ls, on a real directory of adversarial names: every name comes back byte-exact.
TEST(ParseLsRealTool, AdversarialNamesRoundTrip) {
  TempDir dir;
  std::set<std::string> expected;
  for (const auto& name : adversarial_names()) {
    write_file(dir.path() + "/" + name, "x");
    expected.insert(name);
  }
  ASSERT_EQ(::symlink("with space", (dir.path() + "/link -> \"odd\"").c_str()), 0);
  ASSERT_EQ(::symlink("new\nline\xff", (dir.path() + "/dangling").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir.path() + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::mkdir((dir.path() + "/sub dir").c_str(), 0750), 0);
  write_file(dir.path() + "/sparse");
  ASSERT_EQ(::truncate((dir.path() + "/sparse").c_str(), 5ll << 30), 0);  // 5 GiB, no blocks
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string socket_path = dir.path() + "/sock";
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  std::copy(socket_path.begin(), socket_path.end(), address.sun_path);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::close(sock);
  write_file(dir.path() + "/.hidden");
  ASSERT_EQ(::chmod((dir.path() + "/plain").c_str(), 04751), 0);
  for (const char* name : {"link -> \"odd\"", "dangling", "fifo", "sub dir", "sparse", "sock"}) expected.insert(name);

  auto listing = run(ls_command(dir.path(), {}));
  ASSERT_EQ(listing.status, 0) << listing.out;
  auto entries = parse_ls(listing.out);
  std::set<std::string> names;
  for (const auto& e : entries) names.insert(e.name);
  EXPECT_EQ(names, expected);
  EXPECT_EQ(entries.size(), expected.size());

  auto found = by_name(entries);
  EXPECT_EQ(found["|link -> \"odd\""].type, 'l');
  EXPECT_EQ(found["|link -> \"odd\""].link_target, "with space");
  EXPECT_EQ(found["|dangling"].link_target, "new\nline\xff");
  EXPECT_EQ(found["|fifo"].type, 'p');
  EXPECT_EQ(found["|fifo"].permissions, "rw-------");
  EXPECT_EQ(found["|sock"].type, 's');
  EXPECT_EQ(found["|sub dir"].type, 'd');
  EXPECT_EQ(found["|sub dir"].permissions, "rwxr-x---");
  EXPECT_EQ(found["|sparse"].size, "5368709120");
  EXPECT_EQ(found["|plain"].permissions, "rwsr-x--x");
  EXPECT_EQ(found["|plain"].size, "1");
  EXPECT_EQ(found["|with space"].last_modified.size(), std::string("2026-11-24T19:47:54").size());
  EXPECT_EQ(found["|with space"].last_modified[10], 'T');
  EXPECT_EQ(found.count("|.hidden"), 0u);
}

TEST(ParseLsRealTool, HiddenNumericRecursiveAndDereference) {
  TempDir dir;
  ASSERT_EQ(::mkdir((dir.path() + "/sub\ndir").c_str(), 0700), 0);
  write_file(dir.path() + "/sub\ndir/in\xff", "12345");
  write_file(dir.path() + "/.hidden", "ab");
  ASSERT_EQ(::symlink(".hidden", (dir.path() + "/link").c_str()), 0);

  LsOptions options;
  options.show_hidden = true;
  options.numeric_ids = true;
  options.recursive = true;
  options.dereference = true;
  auto listing = run(ls_command(dir.path(), options));
  ASSERT_EQ(listing.status, 0) << listing.out;
  auto found = by_name(parse_ls(listing.out));
  ASSERT_EQ(found.size(), 4u) << listing.out;
  EXPECT_EQ(found.count(dir.path() + "|.hidden"), 1u);
  EXPECT_EQ(found.count(dir.path() + "|.."), 0u);
  const auto& in = found[dir.path() + "/sub\ndir|in\xff"];
  EXPECT_EQ(in.size, "5");
  EXPECT_EQ(in.user, std::to_string(::getuid()));
  EXPECT_EQ(in.group, std::to_string(::getgid()));
  // -L: the link is described by what it points to.
  const auto& link = found[dir.path() + "|link"];
  EXPECT_EQ(link.type, '-');
  EXPECT_EQ(link.size, "2");
  EXPECT_FALSE(link.link_target.has_value());
}

TEST(ParseLsRealTool, DeviceFiles) {
  auto listing = run(ls_command("/dev/null", {}));
  ASSERT_EQ(listing.status, 0);
  auto e = only_entry(listing.out);
  EXPECT_EQ(e.name, "/dev/null");
  EXPECT_EQ(e.type, 'c');
  EXPECT_EQ(e.size, "1, 3");
}

TEST(ParseLsRealTool, FiveThousandEntries) {
  TempDir dir;
  std::set<std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    std::string name = "file \"" + std::to_string(i) + "\"\n\xfe";
    write_file(dir.path() + "/" + name);
    expected.insert(name);
  }
  auto listing = run(ls_command(dir.path(), {}));
  ASSERT_EQ(listing.status, 0);
  auto entries = parse_ls(listing.out);
  ASSERT_EQ(entries.size(), 5000u);
  std::set<std::string> names;
  for (const auto& e : entries) names.insert(e.name);
  EXPECT_EQ(names, expected);
}

// Static goldens (testdata/README.md): real output kept as is, so a parser change is checked
// against bytes the real tool wrote, not against what the test's own ls prints today.
TEST(ParseLsGolden, Adversarial) {
  auto found = by_name(parse_ls(golden("ls_adversarial.txt")));
  ASSERT_EQ(found.size(), 13u);
  EXPECT_EQ(found["|$(id)"].size, "0");
  EXPECT_EQ(found["|new\nline"].type, '-');
  EXPECT_EQ(found["|\xff\xfe"].user, "alice");
  EXPECT_EQ(found["|\xff\xfe"].group, "alice");
  EXPECT_EQ(found["|-rf"].last_modified, "2026-01-02T03:04:05");
  EXPECT_EQ(found["|it's \"quoted\""].permissions, "rw-r-----");
  EXPECT_EQ(found["|`id`"].name, "`id`");
  EXPECT_EQ(found["|link"].link_target, "with space");
  EXPECT_EQ(found["|fifo"].type, 'p');
  EXPECT_EQ(found["|sparse"].size, "5368709120");
  EXPECT_EQ(found["|sub dir"].type, 'd');
  EXPECT_EQ(found["|.hidden"].size, "7");
  EXPECT_EQ(found["|with space"].size, "11");
}

TEST(ParseLsGolden, RecursiveNumeric) {
  auto entries = parse_ls(golden("ls_recursive_numeric.txt"));
  auto found = by_name(entries);
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found["/tmp/portico-golden|sub dir"].type, 'd');
  EXPECT_EQ(found["/tmp/portico-golden/sub dir|in\nner"].size, "3");
  EXPECT_EQ(found["/tmp/portico-golden/sub dir|in\nner"].user, "1001");
  EXPECT_EQ(found["/tmp/portico-golden/sub dir/deeper|z"].group, "1002");
}
