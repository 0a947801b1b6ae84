#include "scheduler/slurm_cli.hpp"

#include "core/error.hpp"
#include "scheduler/fake_runner.hpp"
#include "scheduler/golden.hpp"
#include "scheduler/slurm_job_parse.hpp"
#include "scheduler/userinfo.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

using namespace portico::scheduler;
using portico::core::Command;
using portico::core::CommandResult;
using portico::core::CommandRunner;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::scheduler::testing::await;
using portico::scheduler::testing::failure_of;
using portico::scheduler::testing::FakeRunner;
using portico::scheduler::testing::golden;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Argv = std::vector<std::string>;

namespace {


}  // namespace

TEST(SlurmCli, Type) {
  SlurmCli slurm;
  EXPECT_EQ(slurm.type(), "slurm");
}

TEST(SlurmCli, Nodes) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("scontrol_show_node.txt"));
  auto nodes = await(slurm.nodes(runner));
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"scontrol", "--all", "--oneliner", "show", "node"}));
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].name, "vm");
  EXPECT_EQ(nodes[0].cpus, 2);
}

TEST(SlurmCli, Partitions) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("scontrol_show_partition.txt"));
  auto partitions = await(slurm.partitions(runner));
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"scontrol", "--all", "--oneliner", "show", "partition"}));
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[1].name, "debug");
}

TEST(SlurmCli, Reservations) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("scontrol_show_reservation.txt")).answer(golden("scontrol_show_reservation_none.txt"));
  auto reservations = await(slurm.reservations(runner));
  Argv expected{"env", "SLURM_TIME_FORMAT=%s", "scontrol", "--oneliner", "show", "reservation"};
  EXPECT_THAT(runner.argvs(), ElementsAre(expected));
  ASSERT_EQ(reservations.size(), 1u);
  EXPECT_EQ(reservations[0].start_time, 2051222400);
  EXPECT_TRUE(await(slurm.reservations(runner)).empty());
}

TEST(SlurmCli, Accounts) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("sacctmgr_show_user_withassoc.txt"));
  auto accounts = await(slurm.accounts(runner, "alice"));
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"sacctmgr", "--noheader", "--parsable2", "show", "user", "name=alice",
                                             "withassoc", "format=DefaultAccount,Account"}));
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[1].name, "climate");
  EXPECT_TRUE(accounts[1].is_default);
}

TEST(SlurmCli, AccountsRefusesAUserNameSacctmgrWouldReadAsSeveral) {
  SlurmCli slurm;
  FakeRunner runner;
  for (const char* user : {"alice,bob", "", "alice where", "-x"}) {
    EXPECT_EQ(failure_of(slurm.accounts(runner, user)).kind(), ErrorKind::bad_request) << user;
  }
  EXPECT_TRUE(runner.argvs().empty());
}

TEST(SlurmCli, VersionIsAskedOnce) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer("", 127, "bash: scontrol: command not found\n").answer(golden("scontrol_version.txt"));
  EXPECT_EQ(failure_of(slurm.version(runner)).kind(), ErrorKind::internal);  // a failure is not remembered
  EXPECT_EQ(await(slurm.version(runner)), "22.05.8");
  EXPECT_EQ(await(slurm.version(runner)), "22.05.8");
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"scontrol", "--version"}, Argv{"scontrol", "--version"}));
}

TEST(SlurmCli, CommandFailuresBecomeFailures) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer("", 1, "slurm_load_node error: Unable to contact slurm controller (connect failure)\n");
  auto e = failure_of(slurm.nodes(runner));
  EXPECT_EQ(e.kind(), ErrorKind::backend_unreachable);
  EXPECT_THAT(e.what(), HasSubstr("Unable to contact slurm controller"));

  runner.answer("this is not scontrol output\n");
  EXPECT_EQ(failure_of(slurm.partitions(runner)).kind(), ErrorKind::internal);

  // The runner's own failure passes through.
  EXPECT_EQ(failure_of(slurm.reservations(runner)).kind(), ErrorKind::backend_unreachable);
}

TEST(SlurmCli, PingHealthy) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("scontrol_ping.txt"));
  Health health = await(slurm.ping(runner));
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"scontrol", "ping"}));
  EXPECT_TRUE(health.healthy);
  EXPECT_EQ(health.message, "Slurmctld(primary) at vm is UP");
  EXPECT_GE(health.latency.count(), 0);
}

TEST(SlurmCli, PingBackupUpIsHealthy) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer("Slurmctld(primary) at ctl1 is DOWN\nSlurmctld(backup) at ctl2 is UP\n");
  Health health = await(slurm.ping(runner));
  EXPECT_TRUE(health.healthy);
  EXPECT_EQ(health.message, "Slurmctld(primary) at ctl1 is DOWN; Slurmctld(backup) at ctl2 is UP");
}

TEST(SlurmCli, PingDownIsUnhealthyNotAnError) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("scontrol_ping_down.txt"), 1);
  Health health = await(slurm.ping(runner));
  EXPECT_FALSE(health.healthy);
  EXPECT_EQ(health.message, "Slurmctld(primary) at ctl1 is DOWN; Slurmctld(backup) at ctl2 is DOWN");

  runner.answer("", 127, "bash: scontrol: command not found\n");
  health = await(slurm.ping(runner));
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.message, HasSubstr("exit status 127: bash: scontrol: command not found"));

  runner.answer("garbage\n");
  health = await(slurm.ping(runner));
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.message, HasSubstr("garbage"));

  CommandResult timed_out;
  timed_out.exit_status = 124;
  timed_out.timed_out = true;
  runner.answers.push_back(timed_out);
  health = await(slurm.ping(runner));
  EXPECT_FALSE(health.healthy);
  EXPECT_EQ(health.message, "scontrol ping timed out");
}

TEST(SlurmCli, PingPassesTheRunnersFailureOn) {
  SlurmCli slurm;
  FakeRunner runner;
  EXPECT_EQ(failure_of(slurm.ping(runner)).kind(), ErrorKind::backend_unreachable);
}

TEST(Userinfo, RunsIdInTheCLocale) {
  FakeRunner runner;
  runner.answer(golden("id_alice.txt"));
  UserInfo info = await(userinfo(runner));
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"env", "LC_ALL=C", "id"}));
  EXPECT_EQ(info.user.name, "alice");
  EXPECT_EQ(info.group.id, 1002u);
  ASSERT_EQ(info.groups.size(), 2u);
  EXPECT_EQ(info.groups[1].name, "hpcusers");
}

TEST(SlurmCli, JobsAskSacctForTheTimeWindow) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("jobs/squeue_array.txt"))
      .answer(golden("jobs/sacct_array_running.txt"))
      .answer("ClusterName             = hpc\n");
  Scheduler::JobFilter filter;
  filter.time_window = std::chrono::hours(8);
  auto jobs = await(slurm.jobs(runner, "alice", filter));
  ASSERT_EQ(runner.argvs().size(), 3u);
  EXPECT_EQ(runner.argvs()[0], (Argv{"env", "SLURM_TIME_FORMAT=%s", "squeue", "--noheader", "--states=all",
                                   "--format=" + std::string(squeue_job_format), "--user=alice"}));
  EXPECT_EQ(runner.argvs()[1], (Argv{"env", "SLURM_TIME_FORMAT=%s", "sacct", "--noheader", "--parsable2",
                                   std::string("--delimiter=\x1f"), "--format=" + std::string(sacct_job_format),
                                   "--starttime=now-28800seconds", "--endtime=now", "--user=alice"}));
  // The array's tasks, each under its own raw id.
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].job_id, "5935");
  EXPECT_EQ(jobs[1].job_id, "5934");
}

TEST(SlurmCli, JobsDefaultWindowIsOneDay) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer("").answer("").answer("ClusterName = hpc\n");
  EXPECT_TRUE(await(slurm.jobs(runner, "alice", Scheduler::JobFilter{})).empty());
  EXPECT_THAT(runner.argvs()[1], ::testing::Contains("--starttime=now-86400seconds"));
}

TEST(SlurmCli, OneArrayTaskByItsRawId) {
  SlurmCli slurm;
  FakeRunner runner;
  // Given the array's id 5934, squeue and sacct answer for the whole array.
  runner.answer(golden("jobs/squeue_array.txt"))
      .answer(golden("jobs/sacct_array_running.txt"))
      .answer("ClusterName = hpc\n");
  auto job = await(slurm.job(runner, "5934"));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->job_id, "5934");
  EXPECT_EQ(job->status.state, "PENDING");  // not task 0, which runs as 5935
  EXPECT_THAT(runner.argvs()[0], ::testing::Contains("--jobs=5934"));
}

TEST(SlurmCli, AJobEndedBeforeAccountingRecordsItGetsItsExitCodeFromTheController) {
  SlurmCli slurm;
  FakeRunner runner;
  // squeue says FAILED, slurmdbd has no record yet: the exit code is slurmctld's.
  runner.answer(golden("jobs/squeue_ended.txt"))
      .answer("")
      .answer("ClusterName = hpc\n")
      .answer(golden("jobs/squeue_exit_codes.txt"));
  auto job = await(slurm.job(runner, "13275"));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status.state, "FAILED");
  EXPECT_EQ(job->status.exit_code, 3);
  EXPECT_EQ(job->status.interrupt_signal, 0);
  ASSERT_EQ(runner.argvs().size(), 4u);
  EXPECT_EQ(runner.argvs()[3], (Argv{"squeue", "--noheader", "--states=all",
                                   "--Format=" + std::string(squeue_exit_format), "--jobs=13275"}));
}

TEST(SlurmCli, JobsWithExitCodesNeedNoMoreCalls) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("jobs/squeue_ended.txt"))
      .answer(golden("jobs/sacct.txt"))
      .answer("ClusterName = hpc\n")
      .answer(golden("jobs/squeue_exit_codes.txt"));
  auto jobs = await(slurm.jobs(runner, "alice", Scheduler::JobFilter{}));
  // Every job of sacct.txt has its exit code; 13275 alone asks the controller.
  ASSERT_EQ(runner.argvs().size(), 4u);
  EXPECT_THAT(runner.argvs()[3], ::testing::Contains("--jobs=13275"));
  for (const auto& j : jobs) {
    if (j.status.state == "PENDING" || j.status.state == "RUNNING") continue;
    EXPECT_TRUE(j.status.exit_code) << j.job_id;
  }
}

TEST(SlurmCli, CancelOneArrayRecordByItsDisplayId) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("jobs/squeue_ids_array.txt")).answer("");
  await(slurm.cancel(runner, "5934"));
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"squeue", "--noheader", "--format=%A\x1f%i", "--jobs=5934"},
                                        Argv{"scancel", "5934_[1-2]"}));
}

TEST(SlurmCli, CancelFallsBackToAccountingThenNotFound) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer("", 1, "slurm_load_jobs error: Invalid job id specified\n")
      .answer(golden("jobs/sacct_ids_array.txt"))
      .answer("", 0, "scancel: error: Kill job error on job id 5934_1: Job/step already completing or completed\n")
      .answer("")
      .answer("");
  await(slurm.cancel(runner, "5936"));
  EXPECT_EQ(runner.argvs()[1], (Argv{"sacct", "--noheader", "--parsable2", std::string("--delimiter=\x1f"),
                                   "--format=JobIDRaw,JobID", "--jobs=5936"}));
  EXPECT_EQ(runner.argvs()[2], (Argv{"scancel", "5934_1"}));
  auto f = failure_of(slurm.cancel(runner, "77"));
  EXPECT_EQ(f.kind(), ErrorKind::not_found);
  EXPECT_THAT(f.what(), HasSubstr("Job not found: 77"));
}

// What scontrol release says, as captured on the site (Slurm 22.05).
TEST(SlurmCli, ReleaseAHeldJobAndRefusalsWithSlurmsWords) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer("")
      .answer("", 1, "Invalid job id specified for job 999999\nslurm_suspend error: Invalid job id specified\n")
      .answer("", 1, "Job has already finished for job 7\nslurm_suspend error: Job has already finished\n");
  await(slurm.release(runner, "5"));
  EXPECT_EQ(runner.argvs()[0], (Argv{"scontrol", "release", "5"}));
  EXPECT_EQ(failure_of(slurm.release(runner, "999999")).kind(), ErrorKind::not_found);
  auto finished = failure_of(slurm.release(runner, "7"));
  EXPECT_THAT(finished.what(), HasSubstr("Job has already finished"));
}

TEST(SlurmCli, MetadataOfOneArrayRecord) {
  SlurmCli slurm;
  FakeRunner runner;
  runner.answer(golden("jobs/scontrol_show_job_array.txt")).answer("#!/bin/bash\n");
  auto meta = await(slurm.metadata(runner, "5935"));
  EXPECT_EQ(meta.job_id, "5935");
  EXPECT_EQ(meta.standard_output, "/tmp/jobs_alice_arr/array_5934_0.out");
  EXPECT_EQ(meta.script, "#!/bin/bash\n");
}

TEST(SlurmCli, ACancellerOtherThanTheOwnerIsNamedByGetent) {
  SlurmCli slurm;
  FakeRunner runner;
  const std::string sep = "\x1f";
  auto sacct = [&sep](std::string id, std::string state) {
    std::vector<std::string> f{id, state, "None", "0:0", "0", "1795549612", "1795549613", "00:00:00", "UNLIMITED",
                               "climate", "1", "hpc", "alice", "vm", "normal", "1", "1001", "alice", "/tmp", "n"};
    std::string line;
    for (const auto& x : f) line += (line.empty() ? "" : sep) + x;
    return line + "\n";
  };
  runner.answer("")
      .answer(sacct("70", "CANCELLED by 0") + sacct("71", "CANCELLED by 99999") + sacct("72", "CANCELLED by 1001"))
      .answer("ClusterName = hpc\n")
      .answer(golden("getent_passwd.txt"), 2);  // 99999 has no entry: getent exits 2
  auto jobs = await(slurm.jobs(runner, "alice", Scheduler::JobFilter{}));
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].kill_request_user, "root");
  EXPECT_EQ(jobs[1].kill_request_user, "99999");  // unknown: the uid stays
  EXPECT_EQ(jobs[2].kill_request_user, "alice");  // the owner, named by the parser
  EXPECT_EQ(runner.argvs().back(), (Argv{"getent", "passwd", "0", "99999"}));
}
