#include "scheduler/slurm_job_parse.hpp"

#include "core/error.hpp"
#include "scheduler/golden.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace portico::scheduler;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::scheduler::testing::golden;
using portico::scheduler::testing::internal_failure;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

namespace {

const Job& find_job(const std::vector<Job>& jobs, std::string_view id) {
  for (const auto& job : jobs) {
    if (job.job_id == id) return job;
  }
  ADD_FAILURE() << "no job " << id;
  static const Job none;
  return none;
}

std::vector<std::string> ids(const std::vector<Job>& jobs) {
  std::vector<std::string> out;
  for (const auto& job : jobs) out.push_back(job.job_id);
  return out;
}

std::vector<std::string> task_ids(const Job& job) {
  std::vector<std::string> out;
  for (const auto& task : job.tasks) out.push_back(task.id);
  return out;
}

constexpr char sep = job_field_separator;

// A hand-made sacct line in sacct_job_format's order.
std::string sacct_line(std::string_view id, std::string_view state, std::string_view start = "1795549612",
                       std::string_view name = "n") {
  return fmt::format("{1}{0}{2}{0}None{0}0:0{0}0{0}{3}{0}Unknown{0}00:00:00{0}UNLIMITED{0}climate{0}1{0}hpc{0}"
                     "alice{0}vm{0}normal{0}1{0}1001{0}alice{0}/tmp{0}{4}\n",
                     sep, id, state, start, name);
}

}  // namespace

// ---- small pieces

TEST(SlurmDuration, ParsesEveryLayoutSlurmPrints) {
  EXPECT_EQ(parse_slurm_duration("1-02:03:04"), 93784);
  EXPECT_EQ(parse_slurm_duration("00:01:06"), 66);
  EXPECT_EQ(parse_slurm_duration("1:00"), 60);
  EXPECT_EQ(parse_slurm_duration("10:00"), 600);
  EXPECT_EQ(parse_slurm_duration("0:00"), 0);
  EXPECT_EQ(parse_slurm_duration("30-00:00:00"), 30 * 86400);
}

TEST(SlurmDuration, RefusesAnythingElse) {
  for (std::string_view bad : {"", "5", "1-02:03", "a:b", "1:2:3:4", "-1:00", "1:-5", "UNLIMITED"}) {
    EXPECT_THAT(internal_failure([&] { parse_slurm_duration(bad); }), HasSubstr("duration")) << bad;
  }
}

// Found by fuzz/sacct_fuzz (corpus: finding-duration-overflow): the arithmetic overflowed int64.
TEST(SlurmDuration, RefusesADurationPastInt64Seconds) {
  for (std::string_view big : {"444444444444444444:00:00", "106751991167301-00:00:00", "153722867280912931:00",
                               "2562047788015215:30:08"}) {
    EXPECT_THAT(internal_failure([&] { parse_slurm_duration(big); }), HasSubstr("duration")) << big;
  }
  EXPECT_EQ(parse_slurm_duration("2562047788015215:30:07"), INT64_MAX);
}

TEST(SlurmExitCode, SplitsCodeAndSignal) {
  auto failed = parse_slurm_exit_code("2:0");
  EXPECT_EQ(failed.code, 2);
  EXPECT_EQ(failed.signal, 0);
  auto killed = parse_slurm_exit_code("0:9");
  EXPECT_EQ(killed.code, 0);
  EXPECT_EQ(killed.signal, 9);
  EXPECT_THAT(internal_failure([] { parse_slurm_exit_code("2"); }), HasSubstr("exit code"));
  EXPECT_THAT(internal_failure([] { parse_slurm_exit_code("x:0"); }), HasSubstr("exit code"));
}

TEST(SlurmExitCode, WaitStatusSplitsCodeAndSignal) {
  EXPECT_EQ(exit_code_from_wait_status(768).code, 3);
  EXPECT_EQ(exit_code_from_wait_status(768).signal, 0);
  EXPECT_EQ(exit_code_from_wait_status(9).code, 0);
  EXPECT_EQ(exit_code_from_wait_status(9).signal, 9);
  EXPECT_EQ(exit_code_from_wait_status(0).code, 0);
}

TEST(ParseSqueueExitCodes, GoldenWaitStatusesByRawId) {
  auto codes = parse_squeue_exit_codes(golden("jobs/squeue_exit_codes.txt"));
  ASSERT_EQ(codes.size(), 4u);
  EXPECT_EQ(codes.at("13275").code, 3);  // exit 3
  EXPECT_EQ(codes.at("13275").signal, 0);
  EXPECT_EQ(codes.at("13276").signal, 9);  // kill -9 $$, each array task under its raw id
  EXPECT_EQ(codes.at("13277").code, 0);
  EXPECT_EQ(codes.at("13278").code, 0);  // true
  EXPECT_EQ(codes.at("13278").signal, 0);
}

TEST(ParseSqueueExitCodes, EmptyIsEmptyAndGarbageIsRefused) {
  EXPECT_TRUE(parse_squeue_exit_codes("").empty());
  for (std::string bad : {"13275\x1f" "3:0\x1f\n", "13275 768\n", "13_2\x1f" "768\x1f\n", "13\x1f-1\x1f\n"})
    EXPECT_THAT(internal_failure([&bad] { parse_squeue_exit_codes(bad); }), HasSubstr("squeue exit_code")) << bad;
}

TEST(SlurmJobFormats, UseTheSeparatorBetweenEveryField) {
  EXPECT_EQ(std::count(squeue_job_format.begin(), squeue_job_format.end(), sep), 15);
  EXPECT_EQ(std::count(sacct_job_format.begin(), sacct_job_format.end(), ','), 19);
  // The name is last in both, where a stray separator in it would do the least harm.
  EXPECT_TRUE(squeue_job_format.ends_with("%j"));
  EXPECT_TRUE(sacct_job_format.ends_with("JobName"));
}

// ---- sacct (golden: testdata/jobs/sacct.txt)

TEST(ParseSacctJobs, GoldenListsEveryAllocationOnceInOrder) {
  auto jobs = parse_sacct_jobs(golden("jobs/sacct.txt"));
  EXPECT_THAT(ids(jobs), ElementsAre("4", "5", "6", "7", "8", "9", "10", "11", "12", "13"));
}

TEST(ParseSacctJobs, GoldenCompletedJob) {
  auto jobs = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& job = find_job(jobs, "5");
  EXPECT_EQ(job.name, "ok_job");
  EXPECT_EQ(job.status.state, "COMPLETED");
  EXPECT_EQ(job.status.state_reason, std::nullopt);  // "None"
  EXPECT_EQ(job.status.exit_code, 0);
  EXPECT_EQ(job.status.interrupt_signal, 0);
  EXPECT_EQ(job.time.elapsed, 0);
  EXPECT_EQ(job.time.start, 1795549612);
  EXPECT_EQ(job.time.end, 1795549612);
  EXPECT_EQ(job.time.suspended, 0);
  EXPECT_EQ(job.time.limit, std::nullopt);  // UNLIMITED
  EXPECT_EQ(job.account, "climate");
  EXPECT_EQ(job.allocation_nodes, 1);
  EXPECT_EQ(job.cluster, "hpc");
  EXPECT_EQ(job.group, "alice");
  EXPECT_EQ(job.nodes, "vm");
  EXPECT_EQ(job.partition, "normal");
  EXPECT_EQ(job.priority, 4294901757);
  EXPECT_EQ(job.kill_request_user, std::nullopt);
  EXPECT_EQ(job.user, "alice");
  EXPECT_EQ(job.working_directory, "/tmp/jobs_alice");
  ASSERT_EQ(job.tasks.size(), 1u);
  EXPECT_EQ(job.tasks[0].id, "5.batch");
  EXPECT_EQ(job.tasks[0].name, "batch");
  EXPECT_EQ(job.tasks[0].status.state, "COMPLETED");
  EXPECT_EQ(job.tasks[0].status.state_reason, std::nullopt);
  EXPECT_EQ(job.tasks[0].status.exit_code, 0);
  EXPECT_EQ(job.tasks[0].time.start, 1795549612);
  EXPECT_EQ(job.tasks[0].time.limit, std::nullopt);
}

TEST(ParseSacctJobs, GoldenExitCodeAndSignal) {
  auto jobs = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& failed = find_job(jobs, "6");
  EXPECT_EQ(failed.status.state, "FAILED");
  EXPECT_EQ(failed.status.exit_code, 3);
  EXPECT_EQ(failed.status.interrupt_signal, 0);
  EXPECT_EQ(failed.account, "genomics");
  EXPECT_EQ(failed.partition, "debug");
  EXPECT_EQ(failed.time.limit, 30 * 60);  // the debug partition's 30 minutes

  const Job& killed = find_job(jobs, "10");  // the script killed itself with SIGKILL
  EXPECT_EQ(killed.status.state, "FAILED");
  EXPECT_EQ(killed.status.exit_code, 0);
  EXPECT_EQ(killed.status.interrupt_signal, 9);
  ASSERT_EQ(killed.tasks.size(), 1u);
  EXPECT_EQ(killed.tasks[0].status.state, "CANCELLED");
  EXPECT_EQ(killed.tasks[0].status.interrupt_signal, 9);
}

TEST(ParseSacctJobs, GoldenTimeout) {
  auto all = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& job = find_job(all, "4");
  EXPECT_EQ(job.status.state, "TIMEOUT");
  EXPECT_EQ(job.time.limit, 60);
  EXPECT_EQ(job.time.elapsed, 66);
  EXPECT_EQ(job.time.start, 1795549607);
  EXPECT_EQ(job.time.end, 1795549673);
  ASSERT_EQ(job.tasks.size(), 1u);
  EXPECT_EQ(job.tasks[0].status.state, "CANCELLED");
  EXPECT_EQ(job.tasks[0].status.interrupt_signal, 15);  // SIGTERM at the limit
}

TEST(ParseSacctJobs, GoldenCancelledByTheUserNamesTheUser) {
  auto all = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& job = find_job(all, "7");
  EXPECT_EQ(job.status.state, "CANCELLED");  // printed "CANCELLED by 1001"
  EXPECT_EQ(job.kill_request_user, "alice");  // 1001 is the job's own UID
  EXPECT_EQ(job.time.elapsed, 41);
}

TEST(ParseSacctJobs, CancelledBySomeoneElseKeepsTheUid) {
  auto line = sacct_line("70", "CANCELLED by 0");
  auto jobs = parse_sacct_jobs(line);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status.state, "CANCELLED");
  EXPECT_EQ(jobs[0].kill_request_user, "0");
}

TEST(ParseSacctJobs, GoldenNameWithPipeSpacesAndQuotes) {
  // sacct (slurmdbd) stores a double quote as a backtick; single quotes and '|' survive.
  auto all = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& job = find_job(all, "8");
  EXPECT_EQ(job.name, "my `quoted` job | with 'pipe'");
  EXPECT_EQ(job.working_directory, "/tmp/jobs_alice");
}

TEST(ParseSacctJobs, GoldenStepsBecomeTasks) {
  auto all = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& job = find_job(all, "9");
  EXPECT_EQ(job.name, "steps_job");
  EXPECT_EQ(job.status.state, "COMPLETED");
  EXPECT_THAT(task_ids(job), ElementsAre("9.batch", "9.0", "9.1", "9.2"));
  EXPECT_EQ(job.tasks[1].name, "first");
  EXPECT_EQ(job.tasks[2].name, "second");
  EXPECT_EQ(job.tasks[2].status.state, "FAILED");
  EXPECT_EQ(job.tasks[2].status.exit_code, 4);
  EXPECT_EQ(job.tasks[3].name, "true");
  EXPECT_EQ(job.tasks[3].status.state, "COMPLETED");
}

TEST(ParseSacctJobs, GoldenPendingAndRunning) {
  auto jobs = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& held = find_job(jobs, "11");
  EXPECT_EQ(held.status.state, "PENDING");
  EXPECT_EQ(held.status.state_reason, "JobHeldUser");
  EXPECT_EQ(held.time.start, std::nullopt);   // Unknown
  EXPECT_EQ(held.time.end, std::nullopt);
  EXPECT_EQ(held.time.limit, std::nullopt);   // Partition_Limit
  EXPECT_EQ(held.nodes, "");                  // None assigned
  EXPECT_EQ(held.priority, 0);
  EXPECT_THAT(held.tasks, IsEmpty());

  const Job& running = find_job(jobs, "12");
  EXPECT_EQ(running.status.state, "RUNNING");
  EXPECT_EQ(running.time.start, 1795549658);
  EXPECT_EQ(running.time.end, std::nullopt);
  EXPECT_EQ(running.time.elapsed, 155);
  EXPECT_EQ(running.time.limit, 600);
  EXPECT_THAT(task_ids(running), ElementsAre("12.batch"));
  EXPECT_EQ(running.tasks[0].status.state, "RUNNING");
}

TEST(ParseSacctJobs, GoldenNameWithNewline) {
  auto all = parse_sacct_jobs(golden("jobs/sacct.txt"));
  const Job& job = find_job(all, "13");
  EXPECT_EQ(job.name, "two\nlines|x");
  EXPECT_EQ(job.status.state, "PENDING");
}

TEST(ParseSacctJobs, GoldenNoJobsIsEmpty) {
  EXPECT_THAT(parse_sacct_jobs(golden("jobs/sacct_none.txt")), IsEmpty());
  EXPECT_THAT(parse_sacct_jobs(""), IsEmpty());
}

TEST(ParseSacctJobs, StepWithoutItsAllocationIsLeftOut) {
  auto jobs = parse_sacct_jobs(sacct_line("5.batch", "COMPLETED") + sacct_line("6", "COMPLETED"));
  EXPECT_THAT(ids(jobs), ElementsAre("6"));
  EXPECT_THAT(jobs[0].tasks, IsEmpty());
}

TEST(ParseSacctJobs, RefusesWhatSacctDoesNotPrint) {
  // A formatted date: SLURM_TIME_FORMAT did not reach sacct.
  EXPECT_THAT(internal_failure([] { parse_sacct_jobs(sacct_line("5", "COMPLETED", "2026-11-24T19:00:00")); }),
              HasSubstr("Start=2026-11-24T19:00:00"));
  // The default '|' delimiter: too few fields, and the record never completes.
  EXPECT_THAT(internal_failure([] { parse_sacct_jobs("5|COMPLETED|None|0:0\n"); }), HasSubstr("sacct"));
  // Too many fields.
  EXPECT_THAT(internal_failure([] { parse_sacct_jobs(sacct_line("5", "COMPLETED", "1", std::string("a") + sep + "b")); }),
              HasSubstr("sacct"));
  EXPECT_THAT(internal_failure([] { parse_sacct_jobs(sacct_line("5", "CANCELLED for 1001")); }), HasSubstr("sacct"));
  EXPECT_THAT(internal_failure([] { parse_sacct_jobs(sacct_line("", "COMPLETED")); }), HasSubstr("JobID"));
}

// A time limit in minutes that is no time limit in seconds (found with the durations above).
TEST(ParseSacctJobs, RefusesATimeLimitPastInt64Seconds) {
  auto line = [](std::string_view limit) {
    auto l = sacct_line("5", "COMPLETED");
    auto at = l.find("UNLIMITED");
    return l.replace(at, 9, limit);
  };
  EXPECT_EQ(parse_sacct_jobs(line("153722867280912930")).at(0).time.limit, 153722867280912930 * 60);
  EXPECT_THAT(internal_failure([&] { parse_sacct_jobs(line("153722867280912931")); }), HasSubstr("TimelimitRaw"));
  EXPECT_THAT(internal_failure([&] { parse_sacct_jobs(line("-5")); }), HasSubstr("TimelimitRaw"));
}

// ---- squeue (golden: testdata/jobs/squeue.txt, squeue_earlier.txt)

TEST(ParseSqueueJobs, GoldenPendingAndRunning) {
  auto jobs = parse_squeue_jobs(golden("jobs/squeue.txt"), "hpc");
  EXPECT_THAT(ids(jobs), ElementsAre("13", "11", "12"));

  const Job& held = find_job(jobs, "11");
  EXPECT_EQ(held.name, "held_job");
  EXPECT_EQ(held.status.state, "PENDING");
  EXPECT_EQ(held.status.state_reason, "JobHeldUser");
  EXPECT_EQ(held.status.exit_code, std::nullopt);
  EXPECT_EQ(held.time.start, std::nullopt);  // N/A
  EXPECT_EQ(held.time.end, std::nullopt);
  EXPECT_EQ(held.time.elapsed, 0);
  EXPECT_EQ(held.time.limit, std::nullopt);  // UNLIMITED
  EXPECT_EQ(held.cluster, "hpc");
  EXPECT_EQ(held.nodes, "");
  EXPECT_EQ(held.priority, 0);
  EXPECT_EQ(held.allocation_nodes, 1);

  const Job& running = find_job(jobs, "12");
  EXPECT_EQ(running.name, "running_job");
  EXPECT_EQ(running.status.state, "RUNNING");
  EXPECT_EQ(running.status.state_reason, std::nullopt);  // None
  EXPECT_EQ(running.time.start, 1795549658);
  EXPECT_EQ(running.time.end, 1795550258);  // expected: start + limit
  EXPECT_EQ(running.time.elapsed, 155);     // 2:35
  EXPECT_EQ(running.time.limit, 600);       // 10:00
  EXPECT_EQ(running.time.suspended, std::nullopt);
  EXPECT_EQ(running.account, "genomics");
  EXPECT_EQ(running.group, "alice");
  EXPECT_EQ(running.user, "alice");
  EXPECT_EQ(running.nodes, "vm");
  EXPECT_EQ(running.partition, "normal");
  EXPECT_EQ(running.priority, 4294901751);
  EXPECT_EQ(running.working_directory, "/tmp/jobs_alice");
  EXPECT_THAT(running.tasks, IsEmpty());
}

TEST(ParseSqueueJobs, GoldenNameWithNewlineAndPipe) {
  auto all = parse_squeue_jobs(golden("jobs/squeue.txt"), "hpc");
  const Job& job = find_job(all, "13");
  EXPECT_EQ(job.name, "two\nlines|x");
  EXPECT_EQ(job.working_directory, "/tmp/jobs_alice");
}

TEST(ParseSqueueJobs, GoldenRunningWithoutTimeLimitHasNoEnd) {
  auto all = parse_squeue_jobs(golden("jobs/squeue_unlimited.txt"), "hpc");
  const Job& job = find_job(all, "20");
  EXPECT_EQ(job.status.state, "RUNNING");
  EXPECT_TRUE(job.time.start.has_value());
  EXPECT_FALSE(job.time.end.has_value());
  EXPECT_FALSE(job.time.limit.has_value());
}

TEST(ParseSqueueJobs, EmptyIsEmptyAndGarbageIsRefused) {
  EXPECT_THAT(parse_squeue_jobs("", "hpc"), IsEmpty());
  EXPECT_THAT(internal_failure([] { parse_squeue_jobs("JOBID PARTITION NAME\n", "hpc"); }), HasSubstr("squeue"));
}

// ---- merge

TEST(MergeJobs, GoldenNoDuplicatesAndTheRightSideWins) {
  auto merged = merge_jobs(parse_squeue_jobs(golden("jobs/squeue_earlier.txt"), "hpc"),
                           parse_sacct_jobs(golden("jobs/sacct.txt")));
  EXPECT_THAT(ids(merged), ElementsAre("4", "5", "6", "7", "8", "9", "10", "11", "12", "13"));

  // Running in both: squeue's live figures, sacct's steps and cluster.
  const Job& running = find_job(merged, "12");
  EXPECT_EQ(running.status.state, "RUNNING");
  EXPECT_EQ(running.status.exit_code, std::nullopt);
  EXPECT_EQ(running.time.elapsed, 23);  // squeue's 0:23, not sacct's later 155
  EXPECT_EQ(running.time.end, 1795550258);
  EXPECT_EQ(running.time.suspended, 0);
  EXPECT_EQ(running.cluster, "hpc");
  EXPECT_THAT(task_ids(running), ElementsAre("12.batch"));

  // Pending in both: slurmdbd's reason is stale ("None"), squeue's is live.
  EXPECT_EQ(find_job(merged, "13").status.state_reason, "JobHeldUser");
}

TEST(MergeJobs, FinalStateInSacctWinsOverALaggingSqueue) {
  // squeue still said RUNNING (as it did for job 4 at 1:06, past its 1:00 limit, before
  // slurmctld killed it), sacct already TIMEOUT: the job ended between the two calls.
  auto squeue = fmt::format("4{0}RUNNING{0}None{0}climate{0}1{0}normal{0}4294901758{0}alice{0}alice{0}vm{0}"
                            "1795549607{0}1795549667{0}1:06{0}1:00{0}/tmp/jobs_alice{0}timeout_job\n",
                            sep);
  auto live = parse_squeue_jobs(squeue, "hpc");
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].time.elapsed, 66);
  EXPECT_EQ(live[0].time.limit, 60);
  auto merged = merge_jobs(std::move(live), parse_sacct_jobs(golden("jobs/sacct.txt")));
  EXPECT_EQ(merged.size(), 10u);
  const Job& timed_out = find_job(merged, "4");
  EXPECT_EQ(timed_out.status.state, "TIMEOUT");
  EXPECT_EQ(timed_out.time.end, 1795549673);
  EXPECT_THAT(task_ids(timed_out), ElementsAre("4.batch"));
}

TEST(MergeJobs, GoldenPendingJobsUnknownToAccountingAreKept) {
  auto merged = merge_jobs(parse_squeue_jobs(golden("jobs/squeue.txt"), "hpc"),
                           parse_sacct_jobs(golden("jobs/sacct_none.txt")));
  EXPECT_THAT(ids(merged), ElementsAre("13", "11", "12"));
}

TEST(MergeJobs, AppendsSqueueOnlyJobsAfterSacctOnes) {
  auto merged = merge_jobs(parse_squeue_jobs(golden("jobs/squeue.txt"), "hpc"),
                           parse_sacct_jobs(sacct_line("3", "COMPLETED") + sacct_line("12", "RUNNING")));
  EXPECT_THAT(ids(merged), ElementsAre("3", "12", "13", "11"));
  std::set<std::string> unique;
  for (const auto& id : ids(merged)) EXPECT_TRUE(unique.insert(id).second) << id;
}

// ---- scontrol show job (golden: testdata/jobs/scontrol_show_job_*.txt)

TEST(ParseScontrolJobMetadata, GoldenBatchScriptJob) {
  auto meta = parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_9.txt"),
                                          golden("jobs/scontrol_write_batch_script_9.txt"));
  EXPECT_EQ(meta.job_id, "9");
  EXPECT_EQ(meta.standard_input, "/dev/null");
  EXPECT_EQ(meta.standard_output, "/tmp/jobs_alice/slurm-9.out");
  EXPECT_EQ(meta.standard_error, "/tmp/jobs_alice/slurm-9.out");
  ASSERT_TRUE(meta.script);
  EXPECT_TRUE(meta.script->starts_with("#!/bin/bash\n#SBATCH --job-name=steps_job\n"));
  EXPECT_THAT(*meta.script, HasSubstr("srun --job-name=second sh -c 'exit 4'\n"));
}

TEST(ParseScontrolJobMetadata, GoldenOutputPatternsAreExpanded) {
  auto meta = parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_4.txt"));
  EXPECT_EQ(meta.job_id, "4");
  EXPECT_EQ(meta.standard_output, "/tmp/jobs_alice/timeout_4.out");  // submitted as timeout_%j.out
  EXPECT_EQ(meta.standard_error, "/tmp/jobs_alice/timeout_4.out");
  EXPECT_EQ(meta.script, std::nullopt);

  EXPECT_EQ(parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_5.txt")).standard_output,
            "/tmp/jobs_alice/ok_5.out");
  EXPECT_EQ(parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_7.txt")).standard_output,
            "/tmp/jobs_alice/cancel_7.out");
  EXPECT_EQ(parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_12.txt")).standard_output,
            "/tmp/jobs_alice/run_12.out");
}

TEST(ParseScontrolJobMetadata, GoldenStrangeNames) {
  auto quoted = parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_8.txt"));
  EXPECT_EQ(quoted.job_id, "8");
  EXPECT_EQ(quoted.standard_output, "/tmp/jobs_alice/slurm-8.out");

  // The name "two\nlines|x" splits the --oneliner record over two lines.
  auto split = parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_13.txt"));
  EXPECT_EQ(split.job_id, "13");
  EXPECT_EQ(split.standard_input, "/dev/null");
  EXPECT_EQ(split.standard_output, "/tmp/jobs_alice/slurm-13.out");
}

TEST(ParseScontrolJobMetadata, NameCannotStandInForTheRealFields) {
  auto meta = parse_scontrol_job_metadata(
      "JobId=77 JobName=x StdOut=/etc/passwd StdIn=/etc/shadow UserId=alice(1001) Command=/a WorkDir=/w "
      "StdErr=/w/e StdIn=/dev/null StdOut=/w/o Power=\n");
  EXPECT_EQ(meta.job_id, "77");
  EXPECT_EQ(meta.standard_output, "/w/o");
  EXPECT_EQ(meta.standard_input, "/dev/null");
  EXPECT_EQ(meta.standard_error, "/w/e");
}

TEST(ParseScontrolJobMetadata, FirstOfSeveralRecords) {
  auto meta = parse_scontrol_job_metadata(
      "JobId=20 ArrayJobId=20 ArrayTaskId=1 StdErr=/a StdIn=/dev/null StdOut=/a1 Power=\n"
      "JobId=21 ArrayJobId=20 ArrayTaskId=2 StdErr=/b StdIn=/dev/null StdOut=/b2 Power=\n");
  EXPECT_EQ(meta.job_id, "20");
  EXPECT_EQ(meta.standard_output, "/a1");
}

TEST(ParseScontrolJobMetadata, GoldenUnknownJobIsRefused) {
  // scontrol prints nothing on stdout (and exits 1) for an unknown id; the runner turns the exit
  // status into a Failure first, but the parser must not invent a record either.
  EXPECT_THAT(internal_failure([] { parse_scontrol_job_metadata(golden("jobs/scontrol_show_job_unknown.txt")); }),
              HasSubstr("scontrol show job"));
  EXPECT_THAT(internal_failure([] { parse_scontrol_job_metadata("No jobs in the system\n"); }),
              HasSubstr("scontrol show job"));
}

// ---- job arrays (golden: testdata/jobs/*array*, array 5934 = tasks 5935, 5936, 5934)

TEST(SlurmJobFormats, AskForRawIdsSoArrayTasksHaveIdsOfDigits) {
  EXPECT_TRUE(squeue_job_format.starts_with("%A\x1f"));
  EXPECT_TRUE(sacct_job_format.starts_with("JobIDRaw,"));
}

TEST(SlurmJobArrays, GoldenSqueueListsEachTaskUnderItsRawId) {
  auto jobs = parse_squeue_jobs(golden("jobs/squeue_array.txt"), "hpc");
  EXPECT_THAT(ids(jobs), ElementsAre("5934", "5935"));
  const auto& pending = find_job(jobs, "5934");  // tasks 1-2, still held together
  EXPECT_EQ(pending.status.state, "PENDING");
  EXPECT_EQ(pending.status.state_reason, "JobArrayTaskLimit");
  EXPECT_EQ(pending.nodes, "");
  const auto& running = find_job(jobs, "5935");  // task 0
  EXPECT_EQ(running.status.state, "RUNNING");
  EXPECT_EQ(running.name, "array_job");
  EXPECT_EQ(running.time.start, 1795554927);
  EXPECT_EQ(running.working_directory, "/tmp/jobs_alice_arr");
}

TEST(SlurmJobArrays, GoldenSacctGivesEachTaskItsOwnStepsAndExitCode) {
  auto jobs = parse_sacct_jobs(golden("jobs/sacct_array.txt"));
  EXPECT_THAT(ids(jobs), ElementsAre("5935", "5936", "5934"));
  for (const auto& job : jobs) {
    for (unsigned char c : job.job_id) EXPECT_TRUE(std::isalnum(c)) << job.job_id;
    EXPECT_THAT(task_ids(job), ElementsAre(job.job_id + ".batch"));
  }
  EXPECT_EQ(find_job(jobs, "5935").status.state, "COMPLETED");
  EXPECT_EQ(find_job(jobs, "5936").status.state, "FAILED");
  EXPECT_EQ(find_job(jobs, "5936").status.exit_code, 1);
  EXPECT_EQ(find_job(jobs, "5934").status.exit_code, 2);
  EXPECT_EQ(find_job(jobs, "5934").time.end, 1795554989);
}

TEST(SlurmJobArrays, GoldenMergeKeepsPendingAndRunningTasksApart) {
  auto merged = merge_jobs(parse_squeue_jobs(golden("jobs/squeue_array.txt"), "hpc"),
                           parse_sacct_jobs(golden("jobs/sacct_array_running.txt")));
  EXPECT_THAT(ids(merged), ElementsAre("5935", "5934"));
  EXPECT_EQ(find_job(merged, "5935").status.state, "RUNNING");
  EXPECT_THAT(task_ids(find_job(merged, "5935")), ElementsAre("5935.batch"));
  EXPECT_EQ(find_job(merged, "5934").status.state, "PENDING");
}

TEST(SlurmJobArrays, GoldenCancelTargetIsTheDisplayIdOfThatRecordOnly) {
  auto live = golden("jobs/squeue_ids_array.txt");
  EXPECT_EQ(slurm_cancel_target(live, "5935"), "5934_0");
  // The pending tasks' record: the throttle "%1" is dropped, scancel reads "5934_[1-2]".
  EXPECT_EQ(slurm_cancel_target(live, "5934"), "5934_[1-2]");
  EXPECT_EQ(slurm_cancel_target(live, "5936"), std::nullopt);
  auto done = golden("jobs/sacct_ids_array.txt");
  EXPECT_EQ(slurm_cancel_target(done, "5934"), "5934_2");
  EXPECT_EQ(slurm_cancel_target(done, "5936"), "5934_1");
  EXPECT_EQ(slurm_cancel_target(done, "5934.batch"), "5934_2.batch");  // exact match only
  EXPECT_EQ(slurm_cancel_target(done, "593"), std::nullopt);
  EXPECT_EQ(slurm_cancel_target("", "5"), std::nullopt);
  // A plain job: both ids are the same.
  EXPECT_EQ(slurm_cancel_target(std::string("12") + sep + "12\n", "12"), "12");
  EXPECT_THAT(internal_failure([] { slurm_cancel_target("12 12\n", "12"); }), HasSubstr("job id list"));
}

TEST(SlurmJobArrays, GoldenMetadataPicksTheRecordAskedFor) {
  auto text = golden("jobs/scontrol_show_job_array.txt");
  EXPECT_EQ(parse_scontrol_job_metadata(text, std::nullopt, "5935").job_id, "5935");
  EXPECT_EQ(parse_scontrol_job_metadata(text, std::nullopt, "5935").standard_output,
            "/tmp/jobs_alice_arr/array_5934_0.out");
  EXPECT_EQ(parse_scontrol_job_metadata(text, std::nullopt, "5934").job_id, "5934");
  EXPECT_EQ(parse_scontrol_job_metadata(text).job_id, "5934");  // no id: the first record
  EXPECT_THAT(internal_failure([&] { parse_scontrol_job_metadata(text, std::nullopt, "593"); }),
              HasSubstr("JobId=593 "));
}

TEST(MergeJobs, APlaceholderAccountingRecordTakesTheControllersDescription) {
  // Seen on the site: a job that ended at once, whose first slurmdbd record is still a
  // placeholder while squeue (--states=all, within MinJobAge) describes it fully.
  auto squeue = fmt::format("6214{0}COMPLETED{0}None{0}climate{0}1{0}normal{0}4294901758{0}alice{0}alice{0}vm{0}"
                            "1795549607{0}1795549608{0}0:01{0}1:00{0}/home/alice{0}array-a8f4a0ed\n",
                            sep);
  auto sacct = sacct_line("6214", "COMPLETED");
  auto accounted = parse_sacct_jobs(sacct);
  ASSERT_EQ(accounted.size(), 1u);
  accounted[0].name = "allocation";
  accounted[0].group = "root";
  auto merged = merge_jobs(parse_squeue_jobs(squeue, "hpc"), std::move(accounted));
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].name, "array-a8f4a0ed");
  EXPECT_EQ(merged[0].group, "alice");
  EXPECT_EQ(merged[0].status.state, "COMPLETED");  // the outcome stays accounting's
}
