#include "core/shell.hpp"
#include "core/names.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using namespace portico::core;

namespace {

// Runs `printf %s <quoted>` through /bin/sh and returns what the shell produced.
std::string through_shell(const std::string& word) {
  std::string cmd = "printf %s " + shell_quote(word);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

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
