#include "core/shell.hpp"
#include "core/names.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using namespace portico::core;

namespace {

// Runs a command line through /bin/sh and returns its stdout.
std::string shell_output(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// What the shell makes of `printf %s <quoted>`.
std::string through_shell(const std::string& word) { return shell_output("printf %s " + shell_quote(word)); }

}  // namespace

TEST(ShellQuote, PlainWordsStayReadable) {
  EXPECT_EQ(shell_quote("sacct"), "sacct");
  EXPECT_EQ(shell_quote("/home/alice/a.txt"), "/home/alice/a.txt");
  EXPECT_EQ(shell_quote("--format=JobID,State"), "--format=JobID,State");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(ShellQuote, HostileWordsRoundTripThroughARealShell) {
  const std::string words[] = {
      "it's", "a b", "$(id)", "`id`", "a;rm -rf ~", "line\nbreak", "-rf", "\\", "'", "''", "\"", "*", "~",
      "$HOME", "a\tb", std::string("\xff\xfe non-utf8"), "!event", "{a,b}", "#comment", "a'b'c",
  };
  for (const auto& w : words) EXPECT_EQ(through_shell(w), w) << w;
}

TEST(ShellQuote, CommandLineQuotesEveryWord) {
  EXPECT_EQ(command_line({"ls", "-la", "--", "/home/alice/it's here"}), "ls -la -- '/home/alice/it'\\''s here'");
}

TEST(ShellQuote, RefusesNul) {
  EXPECT_THROW(shell_quote(std::string("a\0b", 3)), Failure);
}

TEST(UnixNames, AcceptsOrdinaryNamesOnly) {
  EXPECT_TRUE(valid_unix_name("alice"));
  EXPECT_TRUE(valid_unix_name("_svc-01"));
  for (const char* bad : {"", "Alice", "../etc", "a b", "a'b", "$(id)", "1abc", "-rf", "a;b",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    EXPECT_FALSE(valid_unix_name(bad)) << bad;
}

TEST(ShellQuote, AndThenRunsTheSecondOnlyAfterTheFirstSucceeded) {
  const std::string hostile = "it's $(id) `id`;\n-x";
  // Run as the remote side would: the outer command line through a shell, once quoted again.
  auto run = [](const std::vector<std::string>& argv) {
    return shell_output(command_line(argv) + "; echo \" status=$?\"");
  };
  EXPECT_EQ(run(and_then({"true"}, {"printf", "%s", hostile})), hostile + " status=0\n");
  EXPECT_EQ(run(and_then({"sh", "-c", "exit 3"}, {"printf", "%s", hostile})), " status=3\n");
  EXPECT_EQ(run(and_then({"printf", "%s|", hostile}, {"sh", "-c", "exit 4"})), hostile + "| status=4\n");
}
