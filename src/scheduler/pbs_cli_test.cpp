// PbsCli end to end against a fake CommandRunner that checks the exact argv and replays the
// documented-format goldens of testdata/pbs (sources cited in pbs_parse_test.cpp and
// testdata/pbs/README.md). This is the only test of the PBS backend: there is no live PBS here.
#include "scheduler/pbs_cli.hpp"

#include "core/error.hpp"
#include "core/shell.hpp"
#include "scheduler/fake_runner.hpp"
#include "scheduler/golden.hpp"

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
using ::testing::IsEmpty;
using Argv = std::vector<std::string>;

namespace {


std::vector<std::string> ids(const std::vector<Job>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs) out.push_back(j.job_id);
  return out;
}

const Argv qstat_all{"qstat", "-f", "-F", "json", "-x"};

}  // namespace

TEST(PbsCli, TypeAndVersionAskedOnce) {
  PbsCli pbs;
  EXPECT_EQ(pbs.type(), "pbs");
  FakeRunner runner;
  runner.answer(golden("pbs/qstat_version.txt"));
  EXPECT_EQ(await(pbs.version(runner)), "23.06.06");
  EXPECT_EQ(await(pbs.version(runner)), "23.06.06");
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"qstat", "--version"}));
}

TEST(PbsCli, NodesPartitionsReservations) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer(golden("pbs/pbsnodes_a_F_json.txt"))
      .answer(golden("pbs/qstat_Q_f_F_json.txt"))
      .answer(golden("pbs/pbs_rstat_f.txt"))
      .answer("");
  EXPECT_EQ(await(pbs.nodes(runner)).size(), 3u);
  EXPECT_EQ(await(pbs.partitions(runner))[0].name, "workq");
  EXPECT_EQ(await(pbs.reservations(runner))[1].name, "R1006");
  EXPECT_THAT(await(pbs.reservations(runner)), IsEmpty());
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"pbsnodes", "-a", "-F", "json"}, Argv{"qstat", "-Q", "-f", "-F", "json"},
                                          Argv{"pbs_rstat", "-f"}, Argv{"pbs_rstat", "-f"}));
}

TEST(PbsCli, AccountsAreEmptyWithoutACommand) {
  PbsCli pbs;
  FakeRunner runner;
  EXPECT_THAT(await(pbs.accounts(runner, "alice")), IsEmpty());
  EXPECT_TRUE(runner.commands.empty());
  EXPECT_EQ(failure_of(pbs.accounts(runner, "a,b")).kind(), ErrorKind::bad_request);
}

TEST(PbsCli, PingSaysThereIsNoLiveTest) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer(golden("pbs/qstat_B_f_F_json.txt"))
      .answer(golden("pbs/qstat_B_f_F_json_terminating.txt"))
      .answer("", 127, "sh: 1: qstat: not found\n");
  auto up = await(pbs.ping(runner));
  EXPECT_TRUE(up.healthy);
  EXPECT_THAT(up.message, HasSubstr("no live test"));
  EXPECT_THAT(up.message, HasSubstr("server pbs01 is Active"));
  auto terminating = await(pbs.ping(runner));
  EXPECT_FALSE(terminating.healthy);
  EXPECT_THAT(terminating.message, HasSubstr("server pbs01 is Terminating"));
  auto missing = await(pbs.ping(runner));
  EXPECT_FALSE(missing.healthy);
  EXPECT_THAT(missing.message, HasSubstr("no live test"));
  EXPECT_THAT(missing.message, HasSubstr("exit status 127: sh: 1: qstat: not found"));
  EXPECT_EQ(runner.argvs()[0], (Argv{"qstat", "-B", "-f", "-F", "json"}));
}

TEST(PbsCli, SubmitInlineScriptWithEveryOption) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer("/opt/pbs/bin/qsub\n").answer(golden("pbs/qsub.txt")).answer("1006.pbs01\n");
  JobSubmission job;
  job.name = "my job";
  job.account = "climate";
  job.partition = "workq";
  job.constraints = "walltime=01:00:00,select=1:ncpus=2";
  job.working_directory = "/home/alice/run dir";
  job.standard_output = "/home/alice/out.txt";
  job.standard_error = "/home/alice/err.txt";
  job.env = {{"A", "x,y \"q\" 'z' $(id)\nline2"}, {"B", ""}};
  job.script = "#!/bin/bash\necho hi\n";
  EXPECT_EQ(await(pbs.submit(runner, job)), "1005");
  ASSERT_EQ(runner.commands.size(), 2u);
  EXPECT_EQ(runner.commands[0].argv, (Argv{"sh", "-c", "command -v qsub"}));
  EXPECT_EQ(runner.commands[1].argv,
            (Argv{"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", "/home/alice/run dir", "env",
                  "A=x,y \"q\" 'z' $(id)\nline2", "B=", "/opt/pbs/bin/qsub", "-V", "-N", "my job", "-A", "climate",
                  "-q", "workq", "-l", "walltime=01:00:00", "-l", "select=1:ncpus=2", "-o", "/home/alice/out.txt",
                  "-e", "/home/alice/err.txt"}));
  EXPECT_EQ(runner.commands[1].stdin_data, "#!/bin/bash\necho hi\n");
  // Each value is one quoted word of the remote command line: the shell gives it back as is.
  auto line = portico::core::command_line(runner.commands[1].argv);
  EXPECT_THAT(line, HasSubstr("'A=x,y \"q\" '\\''z'\\'' $(id)\nline2'"));

  // qsub's path is remembered; a reservation goes to its queue and wins over the partition.
  JobSubmission second;
  second.working_directory = "/home/alice";
  second.partition = "workq";
  second.reservation = "R1005";
  second.script_path = "/home/alice/job.sh";
  EXPECT_EQ(await(pbs.submit(runner, second)), "1006");
  EXPECT_EQ(runner.commands[2].argv, (Argv{"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", "/home/alice",
                                        "/opt/pbs/bin/qsub", "-V", "-q", "R1005", "/home/alice/job.sh"}));
  EXPECT_EQ(runner.commands[2].stdin_data, "");
}

// A transfer job as Portico submits it: held until its data has arrived, with a walltime, then
// released with qrls.
TEST(PbsCli, SubmitHeldWithAWalltimeThenRelease) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer("/opt/pbs/bin/qsub\n").answer(golden("pbs/qsub.txt")).answer("");
  JobSubmission job;
  job.name = "IngressFileTransfer";
  job.working_directory = "/home/alice";
  job.standard_output = "/home/alice/.portico-transfer-1.out";
  job.standard_error = "/home/alice/.portico-transfer-1.err";
  job.time_limit = std::chrono::seconds(3600);
  job.hold = true;
  job.script = "#!/bin/bash\ntrue\n";
  EXPECT_EQ(await(pbs.submit(runner, job)), "1005");
  EXPECT_EQ(runner.commands[1].argv,
            (Argv{"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", "/home/alice", "/opt/pbs/bin/qsub", "-V",
                  "-N", "IngressFileTransfer", "-o", "/home/alice/.portico-transfer-1.out", "-e",
                  "/home/alice/.portico-transfer-1.err", "-l", "walltime=01:00:00", "-h"}));
  await(pbs.release(runner, "1005"));
  EXPECT_EQ(runner.commands[2].argv, (Argv{"qrls", "1005"}));
}

TEST(PbsCli, SubmitRefusesWhatPbsCannotDo) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer("/opt/pbs/bin/qsub\n");
  JobSubmission job;
  job.working_directory = "/home/alice";
  job.script = "true\n";
  job.standard_input = "/home/alice/in.txt";
  EXPECT_EQ(failure_of(pbs.submit(runner, job)).kind(), ErrorKind::bad_request);
  job.standard_input.reset();
  for (const char* bad : {"gpu&fast", "walltime=1 0", "=x", "select=", "a=b,,c=d", "x=y'z"}) {
    job.constraints = bad;
    EXPECT_EQ(failure_of(pbs.submit(runner, job)).kind(), ErrorKind::validation) << bad;
  }
  job.constraints.reset();
  job.standard_output = "/home/alice/a:b";
  EXPECT_EQ(failure_of(pbs.submit(runner, job)).kind(), ErrorKind::validation);
  EXPECT_EQ(runner.commands.size(), 1u);  // only `command -v qsub`: nothing reached qsub
}

TEST(PbsCli, SubmitRefusalsBecome4xxWithQsubsWords) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer("/opt/pbs/bin/qsub\n").answer("", 170, golden("pbs/qsub_unknown_queue.stderr"));
  JobSubmission job;
  job.working_directory = "/home/alice";
  job.partition = "nope";
  job.script = "true\n";
  auto f = failure_of(pbs.submit(runner, job));
  EXPECT_EQ(f.kind(), ErrorKind::bad_request);
  EXPECT_STREQ(f.what(), "Unknown queue");
}

TEST(PbsCli, JobsFilterUserAccountNameAndTimeWindow) {
  PbsCli pbs;
  FakeRunner runner;
  for (int i = 0; i < 5; ++i) runner.answer(golden("pbs/qstat_f_F_json_states.txt"));
  Scheduler::JobFilter filter;  // alice's, last 24 h
  auto mine = await(pbs.jobs(runner, "alice", filter));
  EXPECT_THAT(ids(mine), ElementsAre("2001", "2002", "2003", "2004", "2005", "2006", "2007", "2008", "2009", "2010",
                                     "2012"));  // 2011 ended two days before the output's timestamp
  filter.time_window = std::chrono::hours(72);
  EXPECT_THAT(ids(await(pbs.jobs(runner, "alice", filter))), ::testing::Contains("2011"));
  filter.time_window = std::chrono::hours(1);  // 2009 ended at 08:30, 90 min before; 2008 at 09:10
  EXPECT_THAT(ids(await(pbs.jobs(runner, "alice", filter))),
              ElementsAre("2001", "2002", "2003", "2004", "2005", "2006", "2007", "2008", "2010", "2012"));
  Scheduler::JobFilter others;
  others.all_users = true;
  others.name = "bobs";
  EXPECT_THAT(ids(await(pbs.jobs(runner, "alice", others))), ElementsAre("2013"));
  Scheduler::JobFilter account;
  account.account = "genomics";
  account.time_window = std::chrono::hours(168);
  EXPECT_THAT(ids(await(pbs.jobs(runner, "alice", account))), ElementsAre("2011"));
  for (const auto& argv : runner.argvs()) EXPECT_EQ(argv, qstat_all);
}

TEST(PbsCli, OneJobAlsoAnArrayAndUnknown) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer(golden("pbs/qstat_f_F_json.txt"))
      .answer("", 153, golden("pbs/qstat_unknown_job.stderr"))
      .answer(golden("pbs/qstat_f_F_json_states.txt"))
      .answer("", 153, golden("pbs/qstat_unknown_job.stderr"))
      .answer("", 153, golden("pbs/qstat_unknown_job.stderr"));
  auto found = await(pbs.job(runner, "1001"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status.state, "FAILED");
  auto array = await(pbs.job(runner, "2005"));
  ASSERT_TRUE(array);
  EXPECT_EQ(array->status.state, "RUNNING");
  EXPECT_FALSE(await(pbs.job(runner, "99")));
  EXPECT_THAT(runner.argvs(),
              ElementsAre(Argv{"qstat", "-f", "-F", "json", "-x", "1001"}, Argv{"qstat", "-f", "-F", "json", "-x", "2005"},
                          Argv{"qstat", "-f", "-F", "json", "-x", "2005[]"}, Argv{"qstat", "-f", "-F", "json", "-x", "99"},
                          Argv{"qstat", "-f", "-F", "json", "-x", "99[]"}));
}

TEST(PbsCli, MetadataAndCancel) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer(golden("pbs/qstat_f_F_json.txt"))
      .answer("")                                                 // qdel 1002
      .answer("", 153, "qdel: Unknown Job Id 99.pbs01\n")         // qdel 99
      .answer("", 153, "qdel: Unknown Job Id 99[].pbs01\n")       // qdel 99[]
      .answer("", 35, "qdel: Unauthorized Request  1003.pbs01\n");
  auto meta = await(pbs.metadata(runner, "1002"));
  EXPECT_EQ(meta.standard_output, "/scratch/alice/long.out");
  await(pbs.cancel(runner, "1002"));
  auto unknown = failure_of(pbs.cancel(runner, "99"));
  EXPECT_EQ(unknown.kind(), ErrorKind::not_found);
  EXPECT_THAT(unknown.what(), HasSubstr("Job not found"));
  EXPECT_EQ(failure_of(pbs.cancel(runner, "1003")).kind(), ErrorKind::forbidden);
  EXPECT_THAT(runner.argvs(), ElementsAre(Argv{"qstat", "-f", "-F", "json", "-x", "1002"}, Argv{"qdel", "1002"},
                                          Argv{"qdel", "99"}, Argv{"qdel", "99[]"}, Argv{"qdel", "1003"}));
}

TEST(PbsCli, AttachRunsPbsAttachOnThePrimaryExecutionHost) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer(golden("pbs/qstat_f_F_json.txt")).answer("");
  await(pbs.attach(runner, "1002", "echo 'hi' $HOSTNAME"));
  ASSERT_EQ(runner.commands.size(), 2u);
  EXPECT_EQ(runner.argvs()[0], (Argv{"qstat", "-f", "-F", "json", "-x", "1002"}));
  EXPECT_EQ(runner.argvs()[1], (Argv{"ssh", "-o", "BatchMode=yes", "-T", "--", "node01",
                                     portico::core::command_line({"pbs_attach", "-j", "1002", "/bin/sh", "-c",
                                                                  "echo 'hi' $HOSTNAME"})}));
}

TEST(PbsCli, AttachRefusesAJobThatIsNotRunning) {
  PbsCli pbs;
  FakeRunner runner;
  runner.answer(golden("pbs/qstat_f_F_json.txt"));
  EXPECT_EQ(failure_of(pbs.attach(runner, "1003", "hostname")).kind(), ErrorKind::bad_request);  // queued
  EXPECT_EQ(runner.commands.size(), 1u);  // nothing was started
}

TEST(PbsRefusal, KnownPhrases) {
  EXPECT_EQ(pbs_refusal("qstat: Unknown Job Id 99.pbs01\n")->kind(), ErrorKind::not_found);
  EXPECT_EQ(pbs_refusal("qsub: Bad UID for job execution\n")->kind(), ErrorKind::forbidden);
  EXPECT_EQ(pbs_refusal("qsub: Job violates queue and/or server resource limits\n")->kind(), ErrorKind::bad_request);
  EXPECT_EQ(pbs_refusal("qsub: illegal -l value\n")->kind(), ErrorKind::bad_request);
  EXPECT_FALSE(pbs_refusal("qstat: cannot connect to server pbs01 (errno=111)\n"));
}
