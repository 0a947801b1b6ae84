// Entries made from attributes against what the real `ls -ld` prints (ls_command, parse_ls) for
// the same files on this machine, in its own time zone.

#include "filesystem/ls_entry.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "filesystem/test_support.hpp"

using namespace portico::filesystem;
using namespace portico::filesystem::fstest;
using portico::core::FileAttributes;

namespace {

FileAttributes attributes_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  FileAttributes a;
  a.size = static_cast<std::uint64_t>(st.st_size);
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.mode = st.st_mode;
  a.atime = static_cast<std::uint32_t>(st.st_atime);
  a.mtime = static_cast<std::uint32_t>(st.st_mtime);
  return a;
}

std::string user_name(std::uint32_t uid) {
  auto* pw = ::getpwuid(uid);
  return pw ? pw->pw_name : "";
}

std::string group_name(std::uint32_t gid) {
  auto* gr = ::getgrgid(gid);
  return gr ? gr->gr_name : "";
}

TimeZone local_zone() {
  std::ifstream in("/etc/localtime", std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto zone = TimeZone::from_tzif(bytes.str());
  EXPECT_TRUE(zone);
  return zone.value_or(TimeZone());
}

std::optional<LsEntry> from_attributes(const std::string& path) {
  auto a = attributes_of(path);
  std::optional<std::string> target;
  if (a.is_symlink()) {
    char buffer[4096];
    auto n = ::readlink(path.c_str(), buffer, sizeof buffer);
    if (n >= 0) target = std::string(buffer, static_cast<std::size_t>(n));
  }
  return ls_entry(path, a, target, user_name(*a.uid), group_name(*a.gid), local_zone());
}

LsEntry from_ls(const std::string& path) {
  LsOptions itself;
  itself.itself = true;
  auto out = run(ls_command(path, itself));
  EXPECT_EQ(out.status, 0) << path;
  auto entries = parse_ls(out.out);
  EXPECT_EQ(entries.size(), 1u);
  return entries.empty() ? LsEntry{} : entries.front();
}

void expect_same(const std::string& path) {
  auto made = from_attributes(path);
  ASSERT_TRUE(made) << path;
  auto listed = from_ls(path);
  EXPECT_EQ(made->name, listed.name);
  EXPECT_EQ(made->type, listed.type) << path;
  EXPECT_EQ(made->link_target, listed.link_target) << path;
  EXPECT_EQ(made->user, listed.user) << path;
  EXPECT_EQ(made->group, listed.group) << path;
  EXPECT_EQ(made->permissions, listed.permissions) << path;
  EXPECT_EQ(made->last_modified, listed.last_modified) << path;
  EXPECT_EQ(made->size, listed.size) << path;
}

void set_mtime(const std::string& path, std::int64_t t) {
  struct timespec times[2] = {{static_cast<time_t>(t), 0}, {static_cast<time_t>(t), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

}  // namespace

TEST(LsEntry, PermissionTextAsLsWritesIt) {
  EXPECT_EQ(permission_text(0100644), "rw-r--r--");
  EXPECT_EQ(permission_text(04755), "rwsr-xr-x");
  EXPECT_EQ(permission_text(04644), "rwSr--r--");
  EXPECT_EQ(permission_text(02750), "rwxr-s---");
  EXPECT_EQ(permission_text(02740), "rwxr-S---");
  EXPECT_EQ(permission_text(01777), "rwxrwxrwt");
  EXPECT_EQ(permission_text(01776), "rwxrwxrwT");
  EXPECT_EQ(permission_text(0), "---------");
}

TEST(LsEntry, TheSameAsLsForEveryKindOfFileAndMode) {
  TempDir dir;
  const std::string d = dir.path();
  for (auto [name, mode] : std::initializer_list<std::pair<const char*, mode_t>>{
           {"plain", 0644}, {"setuid", 04755}, {"setuid-no-x", 04644}, {"setgid", 02750}, {"none", 0}, {"all", 07777}}) {
    const auto path = d + "/" + name;
    write_file(path, "some bytes");
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    expect_same(path);
  }
  for (auto [name, mode] : std::initializer_list<std::pair<const char*, mode_t>>{{"dir", 0755}, {"sticky", 01777}, {"sticky-no-x", 01776}}) {
    const auto path = d + "/" + name;
    ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    expect_same(path);
  }
  int links = 0;
  for (std::string target : {"plain", "../a b", "new\nline -> x", "$(id)", "caf\xe9"}) {
    const auto link = d + "/link-" + std::to_string(++links);
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    expect_same(link);
  }
  ASSERT_EQ(::mkfifo((d + "/fifo").c_str(), 0600), 0);
  expect_same(d + "/fifo");
  // Names ls must quote, and times across the year (a zone's summer and winter).
  for (std::string name : {"with space", "quote'single", "-leading-dash", "new\nline"}) {
    const auto path = d + "/" + name;
    write_file(path, name);
    for (std::int64_t t : {0LL, 86399LL, 1700000000LL, 1719000000LL, 2147483647LL}) {
      set_mtime(path, t);
      expect_same(path);
    }
  }
  // An owner and a group without names: ls prints the numbers.
  if (::geteuid() == 0) {
    const auto path = d + "/nobody-knows";
    write_file(path, "x");
    ASSERT_EQ(::chown(path.c_str(), 4242424, 4242424), 0);
    expect_same(path);
  }
}

TEST(LsEntry, WhatAttributesCannotShowIsLeftToLs) {
  EXPECT_FALSE(from_attributes("/dev/null"));  // a device: "1, 3"
  FileAttributes old;
  old.size = 1;
  old.uid = 0;
  old.gid = 0;
  old.mode = 0100644;
  old.mtime = 0xfffffff0u;  // 2106, or 16 s before 1970 cut to 32 bits: cannot tell
  EXPECT_FALSE(ls_entry("/x", old, std::nullopt, "root", "root", TimeZone()));
  old.mtime = 1;
  EXPECT_TRUE(ls_entry("/x", old, std::nullopt, "root", "root", TimeZone()));
  old.mode = 0120777;  // a link whose target is unknown
  EXPECT_FALSE(ls_entry("/x", old, std::nullopt, "root", "root", TimeZone()));
}
