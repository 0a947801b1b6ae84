#include "transfer/transfers.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace portico::transfer {
namespace {

config::Transfer rule(std::string account) {
  config::Transfer t;
  t.account = std::move(account);
  return t;
}

TEST(JobAccount, APlaceholderNeedsTheRequestsAccount) {
  EXPECT_EQ(job_account(rule("{account}"), std::string("climate")), "climate");
  try {
    job_account(rule("{account}"), std::nullopt);
    FAIL();
  } catch (const core::Failure& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::bad_request);
    EXPECT_STREQ(e.what(), "Account parameter is required on this system");
  }
  EXPECT_THROW(job_account(rule("{account}"), std::string("")), core::Failure);
}

TEST(JobAccount, AFixedAccountWinsAndNoRulePassesTheRequestsOn) {
  EXPECT_EQ(job_account(rule("transfers"), std::string("climate")), "transfers");
  EXPECT_EQ(job_account(rule("transfers"), std::nullopt), "transfers");
  EXPECT_EQ(job_account(rule(""), std::string("climate")), "climate");
  EXPECT_EQ(job_account(rule(""), std::nullopt), std::nullopt);
  EXPECT_EQ(job_account(rule(""), std::string("")), std::nullopt);
}

TEST(JobAccount, ARequestedAccountIsOneName) {
  for (const char* bad : {"a,b", "a b", "-x", "a\nb", "$(x)"}) {
    try {
      job_account(rule(""), std::string(bad));
      FAIL() << bad;
    } catch (const core::Failure& e) {
      EXPECT_EQ(e.kind(), core::ErrorKind::validation) << bad;
    }
  }
}

TEST(WorkDirectory, TheDefaultWorkFileSystemThenTheFirst) {
  config::Cluster c;
  c.file_systems = {{"/scratch", "scratch", false}, {"/home", "users", true}};
  EXPECT_EQ(work_directory(c, "alice"), "/home/alice");
  c.file_systems[1].default_work_dir = false;
  EXPECT_EQ(work_directory(c, "alice"), "/scratch/alice");
}

}  // namespace
}  // namespace portico::transfer
