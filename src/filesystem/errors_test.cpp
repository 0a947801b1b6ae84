#include "filesystem/errors.hpp"

#include "filesystem/test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace portico::filesystem;
using portico::core::CommandResult;
using portico::core::ErrorKind;
using ::testing::HasSubstr;

namespace {

CommandResult failed(int exit_status, std::string err) {
  CommandResult r;
  r.exit_status = exit_status;
  r.err = std::move(err);
  return r;
}

struct Case {
  const char* err;
  ErrorKind kind;
};

}  // namespace

// stderr of GNU coreutils 9.1 under LC_ALL=C, captured on Debian 12 (the "Permission denied"
// and "Operation not permitted" ones as user nobody).
TEST(CommandFailure, MapsRealCoreutilsMessages) {
  const Case cases[] = {
      {"ls: cannot access '/nonexistent': No such file or directory\n", ErrorKind::not_found},
      {"stat: cannot statx '/nonexistent': No such file or directory\n", ErrorKind::not_found},
      {"rm: cannot remove '/nonexistent': No such file or directory\n", ErrorKind::not_found},
      {"chmod: cannot access '/nonexistent': No such file or directory\n", ErrorKind::not_found},
      {"head: cannot open '/nonexistent' for reading: No such file or directory\n", ErrorKind::not_found},
      {"tail: cannot open '/nonexistent' for reading: No such file or directory\n", ErrorKind::not_found},
      {"mkdir: cannot create directory '/nonexistent/x': No such file or directory\n", ErrorKind::not_found},
      {"ls: cannot open directory '/root': Permission denied\n", ErrorKind::forbidden},
      {"stat: cannot statx '/root/x': Permission denied\n", ErrorKind::forbidden},
      {"mkdir: cannot create directory '/root/x': Permission denied\n", ErrorKind::forbidden},
      {"rm: cannot remove '/etc/passwd': Permission denied\n", ErrorKind::forbidden},
      {"head: cannot open '/etc/shadow' for reading: Permission denied\n", ErrorKind::forbidden},
      {"tail: cannot open '/etc/shadow' for reading: Permission denied\n", ErrorKind::forbidden},
      {"ln: failed to create symbolic link '/etc/x': Permission denied\n", ErrorKind::forbidden},
      {"chmod: changing permissions of '/tmp/errcap/f': Operation not permitted\n", ErrorKind::forbidden},
      {"chown: changing ownership of '/tmp/errcap/f': Operation not permitted\n", ErrorKind::forbidden},
      {"mkdir: cannot create directory '/tmp/errcap/d': File exists\n", ErrorKind::conflict},
      {"ln: failed to create symbolic link '/tmp/errcap/f': File exists\n", ErrorKind::conflict},
      {"rm: cannot remove '/tmp/errcap/d': Is a directory\n", ErrorKind::bad_request},
      {"chown: invalid user: 'nosuchuser'\n", ErrorKind::bad_request},
      {"chmod: invalid mode: 'zz'\nTry 'chmod --help' for more information.\n", ErrorKind::bad_request},
  };
  for (const auto& c : cases) {
    auto f = command_failure(failed(1, c.err), "tool");
    EXPECT_EQ(f.kind(), c.kind) << c.err;
    std::string first_line(c.err, std::string_view(c.err).find('\n'));
    EXPECT_EQ(std::string(f.what()), first_line);
    EXPECT_THAT(f.detail(), HasSubstr("tool: exit status 1"));
  }
}

// The same messages straight from the tools on this machine, so a coreutils update that
// rewords them shows up here.
TEST(CommandFailure, MapsMessagesOfTheToolsHere) {
  fstest::TempDir dir;
  fstest::write_file(dir.path() + "/f");
  const std::string missing = dir.path() + "/missing";
  struct Live {
    std::vector<std::string> argv;
    ErrorKind kind;
  };
  const Live cases[] = {
      {{"env", "LC_ALL=C", "ls", "-l", "--", missing}, ErrorKind::not_found},
      {{"env", "LC_ALL=C", "stat", "--", missing}, ErrorKind::not_found},
      {{"env", "LC_ALL=C", "head", "-c", "1", "--", missing}, ErrorKind::not_found},
      {{"env", "LC_ALL=C", "tail", "-n", "1", "--", missing}, ErrorKind::not_found},
      {{"env", "LC_ALL=C", "rm", "--", missing}, ErrorKind::not_found},
      {{"env", "LC_ALL=C", "chmod", "--", "700", missing}, ErrorKind::not_found},
      {{"env", "LC_ALL=C", "mkdir", "--", dir.path()}, ErrorKind::conflict},
      {{"env", "LC_ALL=C", "ln", "-s", "--", "x", dir.path() + "/f"}, ErrorKind::conflict},
      {{"env", "LC_ALL=C", "rm", "--", dir.path()}, ErrorKind::bad_request},
  };
  for (const auto& c : cases) {
    auto r = fstest::run(c.argv, "2>&1 >/dev/null");
    ASSERT_NE(r.status, 0) << c.argv[2];
    auto f = command_failure(failed(r.status, r.out), c.argv[2]);
    EXPECT_EQ(f.kind(), c.kind) << r.out;
  }
}

TEST(CommandFailure, TimeoutWins) {
  auto f = command_failure(failed(124, "anything: Permission denied\n"), "ls");
  EXPECT_EQ(f.kind(), ErrorKind::timeout);
  EXPECT_THAT(f.what(), HasSubstr("exit status:124"));  // the client's fallback looks for this
  CommandResult r = failed(-1, "");
  r.timed_out = true;
  EXPECT_EQ(command_failure(r, "ls").kind(), ErrorKind::timeout);
}

TEST(CommandFailure, KilledBySignalIsInternal) {
  CommandResult r = failed(-1, "");
  r.signal = "KILL";
  auto f = command_failure(r, "tail");
  EXPECT_EQ(f.kind(), ErrorKind::internal);
  EXPECT_STREQ(f.what(), "tail was killed by signal KILL");
}

TEST(CommandFailure, UnknownErrorsGiveOnlyTheFirstLine) {
  auto f = command_failure(failed(2, "\nls: something odd\nsecond line\nthird\n"), "ls");
  EXPECT_EQ(f.kind(), ErrorKind::internal);
  EXPECT_STREQ(f.what(), "ls: something odd");
  EXPECT_EQ(command_failure(failed(3, ""), "ls").what(), std::string("ls failed with exit status 3"));
}

TEST(CommandFailure, TheFirstKnownLineDecides) {
  auto f = command_failure(failed(1,
                                  "rm: cannot remove '/home/alice/a': Permission denied\n"
                                  "rm: cannot remove '/home/alice/b': No such file or directory\n"),
                           "rm");
  EXPECT_EQ(f.kind(), ErrorKind::forbidden);
  EXPECT_STREQ(f.what(), "rm: cannot remove '/home/alice/a': Permission denied");
}

TEST(CommandFailure, MessagesAreShortSingleLines) {
  std::string err = "ls: " + std::string(1000, 'x') + "\r\x1b: No such file or directory\n";
  auto f = command_failure(failed(2, err), "ls");
  EXPECT_EQ(f.kind(), ErrorKind::not_found);
  EXPECT_LE(std::string(f.what()).size(), 203u);
  EXPECT_EQ(std::string(f.what()).find('\x1b'), std::string::npos);
}

TEST(SuccessfulOutput, ReturnsStdoutOrThrows) {
  CommandResult ok;
  ok.exit_status = 0;
  ok.out = "x\n";
  EXPECT_EQ(successful_output(ok, "ls"), "x\n");
  ok.out_truncated = true;
  try {
    successful_output(ok, "ls");
    FAIL() << "no Failure thrown";
  } catch (const portico::core::Failure& e) {
    EXPECT_EQ(e.kind(), ErrorKind::too_large);
  }
  try {
    successful_output(failed(2, "ls: cannot access 'x': No such file or directory\n"), "ls");
    FAIL() << "no Failure thrown";
  } catch (const portico::core::Failure& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
  }
}
