#include "scheduler/command_output.hpp"

#include "core/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace portico::scheduler;
using portico::core::CommandResult;
using portico::core::ErrorKind;
using portico::core::Failure;
using ::testing::HasSubstr;

namespace {

CommandResult result(int exit_status, std::string out = {}, std::string err = {}) {
  CommandResult r;
  r.exit_status = exit_status;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

Failure failure_of(const CommandResult& r) {
  try {
    successful_output(r, "scontrol show node");
  } catch (const Failure& e) {
    return e;
  }
  ADD_FAILURE() << "no Failure thrown";
  return Failure(ErrorKind::internal, "none");
}

}  // namespace

TEST(SuccessfulOutput, ReturnsStdout) {
  auto r = result(0, "NodeName=vm\n");
  EXPECT_EQ(successful_output(r, "scontrol show node"), "NodeName=vm\n");
}

TEST(SuccessfulOutput, ControllerDownIsUnreachable) {
  auto e = failure_of(result(1, "", "slurm_load_node error: Unable to contact slurm controller (connect failure)\n"));
  EXPECT_EQ(e.kind(), ErrorKind::backend_unreachable);
  EXPECT_THAT(e.what(), HasSubstr("scontrol show node failed with exit status 1: slurm_load_node error"));

  e = failure_of(result(1, "", "sacctmgr: error: Problem talking to the database: Connection refused\n"));
  EXPECT_EQ(e.kind(), ErrorKind::backend_unreachable);
}

TEST(SuccessfulOutput, OtherErrorsAreInternalWithTheFirstStderrLine) {
  auto e = failure_of(result(127, "", "bash: line 1: scontrol: command not found\nmore\n"));
  EXPECT_EQ(e.kind(), ErrorKind::internal);
  EXPECT_STREQ(e.what(), "scontrol show node failed with exit status 127: bash: line 1: scontrol: command not found");
  EXPECT_THAT(e.detail(), HasSubstr("more"));
}

TEST(SuccessfulOutput, TimeoutSignalAndTruncation) {
  auto r = result(124);
  r.timed_out = true;
  EXPECT_EQ(failure_of(r).kind(), ErrorKind::timeout);

  r = result(-1);
  r.signal = "KILL";
  EXPECT_THAT(failure_of(r).what(), HasSubstr("signal KILL"));

  r = result(0, "NodeName=a\nNodeNa");
  r.out_truncated = true;
  EXPECT_EQ(failure_of(r).kind(), ErrorKind::too_large);
}

TEST(Excerpt, ShortSingleLine) {
  EXPECT_EQ(excerpt("a\nb\tc"), "a b c");
  EXPECT_EQ(excerpt(std::string(100, 'x'), 10), "xxxxxxxxxx...");
  EXPECT_EQ(excerpt(""), "");
}
