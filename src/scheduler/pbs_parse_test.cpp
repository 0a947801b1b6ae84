#include "scheduler/pbs_parse.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "scheduler/golden.hpp"

using namespace portico::scheduler;
using portico::scheduler::testing::golden;

namespace {

const Job& find(const std::vector<Job>& jobs, const std::string& id) {
  for (const auto& j : jobs)
    if (j.job_id == id) return j;
  throw std::runtime_error("no job " + id);
}

}  // namespace

TEST(PbsQstat, FinishedJobWithItsExitCodeTimesAndPaths) {
  auto jobs = parse_qstat_jobs(golden("pbs/qstat_f_F_json.txt"));
  ASSERT_EQ(jobs.size(), 4u);
  const auto& j = find(jobs, "1001");
  EXPECT_EQ(j.name, "hello");
  EXPECT_EQ(j.user, "alice");
  EXPECT_EQ(j.group, "alice");
  EXPECT_EQ(j.account, "climate");
  EXPECT_EQ(j.cluster, "pbs01");
  EXPECT_EQ(j.partition, "workq");
  EXPECT_EQ(j.status.state, "FAILED");
  EXPECT_EQ(j.status.exit_code, 3);
  EXPECT_EQ(j.status.interrupt_signal, 0);
  EXPECT_EQ(j.nodes, "node01");
  EXPECT_EQ(j.allocation_nodes, 1);
  EXPECT_EQ(j.time.elapsed, 65);
  EXPECT_EQ(j.time.limit, 3600);
  EXPECT_EQ(j.time.start, 1764064741);  // Tue Nov 25 09:59:01 2025 UTC
  EXPECT_EQ(j.time.end, 1764064806);
  EXPECT_EQ(j.working_directory, "/home/alice/run");
}

TEST(PbsQstat, RunningQueuedAndSignalledJobs) {
  auto jobs = parse_qstat_jobs(golden("pbs/qstat_f_F_json.txt"));
  const auto& running = find(jobs, "1002");
  EXPECT_EQ(running.name, "long run");
  EXPECT_EQ(running.status.state, "RUNNING");
  EXPECT_FALSE(running.status.exit_code);
  EXPECT_EQ(running.nodes, "node01,node02");
  EXPECT_EQ(running.allocation_nodes, 2);
  EXPECT_EQ(running.priority, 10);
  EXPECT_FALSE(running.time.end);

  const auto& queued = find(jobs, "1003");
  EXPECT_EQ(queued.status.state, "QUEUED");
  EXPECT_EQ(queued.user, "bob");
  EXPECT_EQ(queued.status.state_reason, "Not Running: Insufficient amount of resource: ncpus");
  EXPECT_EQ(queued.allocation_nodes, 1);
  EXPECT_EQ(queued.nodes, "");

  const auto& killed = find(jobs, "1004");
  EXPECT_EQ(killed.status.state, "CANCELLED");
  EXPECT_EQ(killed.status.interrupt_signal, 15);
  EXPECT_EQ(killed.user, "alice");
}

TEST(PbsQstat, MetadataStripsTheHost) {
  auto meta = parse_qstat_metadata(golden("pbs/qstat_f_F_json.txt"));
  ASSERT_EQ(meta.size(), 4u);
  EXPECT_EQ(meta[0].job_id, "1001");
  EXPECT_EQ(meta[0].standard_output, "/home/alice/hello.o1001");
  EXPECT_EQ(meta[0].standard_error, "/home/alice/hello.e1001");
}

TEST(PbsQstat, NoJobsAndGarbage) {
  EXPECT_TRUE(parse_qstat_jobs(R"({"timestamp":1,"pbs_version":"23.06.06","pbs_server":"pbs01"})").empty());
  EXPECT_THROW(parse_qstat_jobs("qstat: Unknown Job Id 99.pbs01"), portico::core::Failure);
  EXPECT_THROW(parse_qstat_jobs("[1,2]"), portico::core::Failure);
}

TEST(PbsDuration, HoursMinutesSeconds) {
  EXPECT_EQ(parse_pbs_duration("01:00:00"), 3600);
  EXPECT_EQ(parse_pbs_duration("100:00:01"), 360001);
  EXPECT_FALSE(parse_pbs_duration("1:00"));
  EXPECT_FALSE(parse_pbs_duration("aa:bb:cc"));
  EXPECT_FALSE(parse_pbs_duration(""));
}
