#include "scheduler/accounting.hpp"

#include "core/error.hpp"
#include "scheduler/fake_runner.hpp"
#include "scheduler/golden.hpp"
#include "scheduler/pbs_cli.hpp"
#include "scheduler/slurm_cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace portico::scheduler;
using portico::core::ErrorKind;
using portico::scheduler::testing::await;
using portico::scheduler::testing::FakeRunner;
using portico::scheduler::testing::golden;
using portico::scheduler::testing::internal_failure;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(TresValue, ReadsOneItemOfAList) {
  EXPECT_EQ(tres_value("node=60000", "node"), 60000);
  EXPECT_EQ(tres_value("cpu=10,node=5,billing=3", "node"), 5);
  EXPECT_EQ(tres_value("cpu=10", "node"), std::nullopt);
  EXPECT_EQ(tres_value("", "node"), std::nullopt);
  EXPECT_THROW(tres_value("node=lots", "node"), portico::core::Failure);
  EXPECT_THROW(tres_value("node", "node"), portico::core::Failure);
  // Found by fuzz/sacctmgr_fuzz (corpus: finding-limit-past-int64): a value past int64 was read
  // as a negative limit.
  EXPECT_EQ(tres_value("node=9223372036854775807", "node"), INT64_MAX);
  EXPECT_THROW(tres_value("node=9223372036854775808", "node"), portico::core::Failure);
  EXPECT_THROW(tres_value("node=18446744073709551615", "node"), portico::core::Failure);
}

TEST(AccountNames, OnlyWhatSlurmListsInACommaList) {
  EXPECT_TRUE(valid_account_name("climate"));
  EXPECT_TRUE(valid_account_name("proj_1.a-b"));
  EXPECT_FALSE(valid_account_name(""));
  EXPECT_FALSE(valid_account_name("a,b"));
  EXPECT_FALSE(valid_account_name("a b"));
  EXPECT_FALSE(valid_account_name("$(id)"));
  EXPECT_FALSE(valid_account_name(std::string(65, 'a')));
}

TEST(SacctmgrAllocations, ReadsTheRealAnswer) {
  auto rows = parse_sacctmgr_allocations(golden("accounting/sacctmgr_show_account_withassoc.txt"));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].cluster, "hpc");
  EXPECT_EQ(rows[0].account, "climate");
  EXPECT_EQ(rows[0].description, "shared climate project");
  EXPECT_EQ(rows[0].user, "");
  EXPECT_EQ(rows[0].node_minutes, 60000);
  EXPECT_EQ(rows[1].user, "bob");
  EXPECT_EQ(rows[1].node_minutes, 12000);
  EXPECT_EQ(rows[2].user, "alice");
  EXPECT_EQ(rows[2].node_minutes, 30000);
  // sacctmgr prints the stored ' as `.
  EXPECT_EQ(rows[3].description, "alice`s genomics project");
  EXPECT_EQ(rows[4].node_minutes, 3000);
}

TEST(SacctmgrAllocations, DescriptionsMayHoldBarsAndLimitsMayBeAbsent) {
  auto rows = parse_sacctmgr_allocations("c1|a|one | two|alice|cpu=5\nc1|a|one | two||\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].description, "one | two");
  EXPECT_EQ(rows[0].user, "alice");
  EXPECT_EQ(rows[0].node_minutes, std::nullopt);
  EXPECT_EQ(rows[1].user, "");
  EXPECT_THAT(parse_sacctmgr_allocations(""), IsEmpty());
  EXPECT_THAT(internal_failure([] { parse_sacctmgr_allocations("hpc|climate|x\n"); }), HasSubstr("hpc|climate|x"));
  EXPECT_THAT(internal_failure([] { parse_sacctmgr_allocations("hpc|climate|d||node=x\n"); }),
              HasSubstr("sacctmgr show account"));
}

TEST(SacctNodeTime, ReadsTheRealAnswer) {
  auto jobs = parse_sacct_node_time(golden("accounting/sacct_node_time.txt"));
  ASSERT_EQ(jobs.size(), 106u);
  std::int64_t alice_climate = 0, bob_climate = 0, alice_genomics = 0;
  for (const auto& j : jobs) {
    if (j.account == "climate" && j.user == "alice") alice_climate += j.node_seconds;
    if (j.account == "climate" && j.user == "bob") bob_climate += j.node_seconds;
    if (j.account == "genomics" && j.user == "alice") alice_genomics += j.node_seconds;
  }
  EXPECT_EQ(alice_climate, 96);
  EXPECT_EQ(bob_climate, 4);
  EXPECT_EQ(alice_genomics, 7);
  EXPECT_THAT(parse_sacct_node_time(""), IsEmpty());
  EXPECT_THAT(internal_failure([] { parse_sacct_node_time("climate|alice|1\n"); }), HasSubstr("sacct"));
  EXPECT_THAT(internal_failure([] { parse_sacct_node_time("climate|alice|one|4\n"); }), HasSubstr("sacct"));
}

TEST(MergeAllocations, ProjectsAndTheirUsersWithLimitsAndUse) {
  auto limits = parse_sacctmgr_allocations(golden("accounting/sacctmgr_show_account_withassoc.txt") +
                                           "other|climate|elsewhere||node=1\n");
  auto jobs = parse_sacct_node_time(golden("accounting/sacct_node_time.txt"));
  auto out = merge_allocations({"genomics", "climate", "unknown"}, "hpc", limits, jobs);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].account, "genomics");
  EXPECT_EQ(out[0].node_time.limit_minutes, 6000);
  EXPECT_EQ(out[0].node_time.used_seconds, 7);
  ASSERT_EQ(out[0].users.size(), 1u);
  EXPECT_EQ(out[0].users[0].user, "alice");
  EXPECT_EQ(out[0].users[0].node_time.limit_minutes, 3000);
  EXPECT_EQ(out[0].users[0].node_time.used_seconds, 7);
  EXPECT_EQ(out[1].account, "climate");
  EXPECT_EQ(out[1].description, "shared climate project");  // not the other cluster's row
  EXPECT_EQ(out[1].node_time.limit_minutes, 60000);
  EXPECT_EQ(out[1].node_time.used_seconds, 100);
  ASSERT_EQ(out[1].users.size(), 2u);
  EXPECT_EQ(out[1].users[0].user, "alice");  // sorted
  EXPECT_EQ(out[1].users[0].node_time.used_seconds, 96);
  EXPECT_EQ(out[1].users[1].user, "bob");
  EXPECT_EQ(out[1].users[1].node_time.limit_minutes, 12000);
  EXPECT_EQ(out[1].users[1].node_time.used_seconds, 4);
}

TEST(SlurmCliAllocations, AsksBothToolsOnceForAllAccounts) {
  FakeRunner runner("alice");
  runner.answer("ClusterName             = hpc\n")
      .answer(golden("accounting/sacctmgr_show_account_withassoc.txt"))
      .answer(golden("accounting/sacct_node_time.txt"));
  SlurmCli slurm;
  std::vector<std::string> accounts{"climate", "genomics"};
  auto out = await(slurm.allocations(runner, accounts));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].node_time.used_seconds, 100);
  auto argvs = runner.argvs();
  ASSERT_EQ(argvs.size(), 3u);
  EXPECT_EQ(argvs[1], sacctmgr_allocation_argv(accounts));
  EXPECT_THAT(argvs[1], ::testing::Contains("name=climate,genomics"));
  EXPECT_EQ(argvs[2], sacct_node_time_argv(accounts));
  EXPECT_THAT(argvs[2], ::testing::Contains("--accounts=climate,genomics"));

  FakeRunner none("alice");
  EXPECT_THAT(await(slurm.allocations(none, {})), IsEmpty());
  EXPECT_TRUE(none.commands.empty());
}

TEST(SlurmCliAllocations, RefusesANameThatWouldWidenTheLists) {
  FakeRunner runner("alice");
  std::vector<std::string> accounts{"climate,genomics"};
  auto f = portico::scheduler::testing::failure_of(slurm_allocations(runner, accounts, "hpc"));
  EXPECT_EQ(f.kind(), ErrorKind::internal);
  EXPECT_TRUE(runner.commands.empty());
}

TEST(PbsCliAllocations, ConfiguredProjectsWithTheUseOfTheirJobs) {
  portico::config::SchedulerProject climate;
  climate.name = "climate";
  climate.description = "Climate";
  climate.users = {"bob", "alice"};
  climate.node_hours = 10;
  climate.user_node_hours = 2.5;
  portico::config::SchedulerProject genomics;
  genomics.name = "genomics";
  genomics.users = {"alice"};
  PbsCli pbs({climate, genomics});

  FakeRunner runner("bob");
  auto accounts = await(pbs.accounts(runner, "bob"));
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_EQ(accounts[0].name, "climate");
  EXPECT_TRUE(accounts[0].is_default);
  EXPECT_TRUE(runner.commands.empty());

  // Two finished jobs of climate as qstat -f -F json -x reports them (testdata/pbs/README.md).
  runner.answer(R"({"timestamp":1700000000,"pbs_version":"2023.1","pbs_server":"pbs","Jobs":{
    "1.pbs":{"Job_Name":"a","Job_Owner":"alice@login","job_state":"F","queue":"workq","Account_Name":"climate",
             "exec_host":"n1/0+n2/0","resources_used":{"walltime":"00:10:00"},"Exit_status":0,
             "stime":"Tue Nov 14 22:00:00 2023","mtime":"Tue Nov 14 22:10:00 2023"},
    "2.pbs":{"Job_Name":"b","Job_Owner":"bob@login","job_state":"F","queue":"workq","Account_Name":"climate",
             "exec_host":"n1/0","resources_used":{"walltime":"00:01:00"},"Exit_status":0,
             "stime":"Tue Nov 14 22:00:00 2023","mtime":"Tue Nov 14 22:01:00 2023"}}})");
  std::vector<std::string> names{"climate"};
  auto out = await(pbs.allocations(runner, names));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].description, "Climate");
  EXPECT_EQ(out[0].node_time.limit_minutes, 600);
  ASSERT_EQ(out[0].users.size(), 2u);
  EXPECT_EQ(out[0].users[0].user, "alice");
  EXPECT_EQ(out[0].users[0].node_time.limit_minutes, 150);
  EXPECT_EQ(out[0].node_time.used_seconds, out[0].users[0].node_time.used_seconds + out[0].users[1].node_time.used_seconds);
  EXPECT_GT(out[0].users[0].node_time.used_seconds, out[0].users[1].node_time.used_seconds);
  ASSERT_EQ(runner.argvs().size(), 1u);
  EXPECT_THAT(runner.argvs()[0], ElementsAre("qstat", "-f", "-F", "json", "-x"));
}

TEST(RestAllocationLimits, ReadsSlurmrestdsAnswersAsSacctmgrsRows) {
  auto rest = parse_rest_allocation_limits(golden("slurmrestd/associations_limits.json"), golden("slurmrestd/accounts.json"));
  auto cli = parse_sacctmgr_allocations(golden("accounting/sacctmgr_show_account_withassoc.txt"));
  auto jobs = parse_sacct_node_time(golden("accounting/sacct_node_time.txt"));
  std::vector<std::string> accounts{"climate", "genomics"};
  auto from_rest = merge_allocations(accounts, "hpc", rest, jobs);
  auto from_cli = merge_allocations(accounts, "hpc", cli, jobs);
  ASSERT_EQ(from_rest.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(from_rest[i].account, from_cli[i].account);
    EXPECT_EQ(from_rest[i].description, from_cli[i].description);
    EXPECT_EQ(from_rest[i].node_time.limit_minutes, from_cli[i].node_time.limit_minutes);
    EXPECT_EQ(from_rest[i].node_time.used_seconds, from_cli[i].node_time.used_seconds);
    ASSERT_EQ(from_rest[i].users.size(), from_cli[i].users.size());
    for (std::size_t k = 0; k < from_rest[i].users.size(); ++k) {
      EXPECT_EQ(from_rest[i].users[k].user, from_cli[i].users[k].user);
      EXPECT_EQ(from_rest[i].users[k].node_time.limit_minutes, from_cli[i].users[k].node_time.limit_minutes);
    }
  }
  // root has no limit at all.
  auto root = std::find_if(rest.begin(), rest.end(), [](const auto& r) { return r.account == "root" && r.user.empty(); });
  ASSERT_NE(root, rest.end());
  EXPECT_EQ(root->node_minutes, std::nullopt);
  EXPECT_EQ(root->description, "default root account");
  EXPECT_THAT(internal_failure([] { parse_rest_allocation_limits("{}", R"({"accounts":[]})"); }),
              HasSubstr("slurmrestd associations"));
  EXPECT_THAT(internal_failure([] { parse_rest_allocation_limits(R"({"associations":[]})", "<html>"); }),
              HasSubstr("slurmrestd accounts"));
  EXPECT_THAT(internal_failure([] {
                parse_rest_allocation_limits(
                    R"({"associations":[{"account":"a","max":{"tres":{"group":{"minutes":[{"type":"node","count":"x"}]}}}}]})",
                    R"({"accounts":[]})");
              }),
              HasSubstr("node"));
}
