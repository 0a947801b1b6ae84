// Golden tests of the PBS parsers. The golden files (testdata/pbs/) are written by hand from the
// documented formats, as OpenPBS cannot run on this Debian site; the sources, as sections of the
// PBS Professional Reference Guide (2022.1 and later; the same text ships as the OpenPBS
// Reference Guide):
//   - "qstat": -f, -x, -F json (job, -Q queue and -B server status as one JSON object with
//     timestamp, pbs_version, pbs_server and Jobs / Queue / Server), --version;
//   - "pbsnodes": -a -F json (the "nodes" object keyed by vnode name);
//   - "pbs_rstat": -f (a "Resv ID:" line, then "name = value" lines);
//   - "qsub": the job identifier on stdout; "qdel";
//   - "Job Attributes", "Queue Attributes", "Server Attributes", "Vnode Attributes",
//     "Reservation Attributes": attribute names and value formats (sizes as "16307392kb",
//     durations as HH:MM:SS, times in ctime(3) layout);
//   - "Job States" (Q H W T R B E S U M F X) and "Job Substates" (91 terminated, 92 finished,
//     93 failed), "Vnode States", "Server States", "Reservation States";
//   - "Job Exit Status" (0, the script's code, 256 + signal, negative JOB_EXEC_* codes:
//     -29 JOB_EXEC_KILL_WALLTIME, -27 JOB_EXEC_KILL_MEM, -3 JOB_EXEC_RETRY).
#include "scheduler/pbs_parse.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "scheduler/golden.hpp"

using namespace portico::scheduler;
using portico::scheduler::testing::golden;
using portico::scheduler::testing::internal_failure;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

template <class T>
const T& find(const std::vector<T>& items, const std::string& name) {
  for (const auto& i : items) {
    if constexpr (requires { i.job_id; }) {
      if (i.job_id == name) return i;
    } else {
      if (i.name == name) return i;
    }
  }
  throw std::runtime_error("nothing named " + name);
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
  EXPECT_EQ(queued.status.state, "PENDING");
  EXPECT_EQ(queued.user, "bob");
  EXPECT_EQ(queued.status.state_reason, "Not Running: Insufficient amount of resource: ncpus");
  EXPECT_EQ(queued.allocation_nodes, 1);
  EXPECT_EQ(queued.nodes, "");

  const auto& killed = find(jobs, "1004");
  EXPECT_EQ(killed.status.state, "CANCELLED");
  EXPECT_EQ(killed.status.interrupt_signal, 15);
  EXPECT_EQ(killed.status.exit_code, 0);
  EXPECT_EQ(killed.user, "alice");
}

TEST(PbsQstat, EveryJobStateLetterMapsToTheContractsVocabulary) {
  auto jobs = parse_qstat_jobs(golden("pbs/qstat_f_F_json_states.txt"));
  ASSERT_EQ(jobs.size(), 13u);
  auto state = [&](const std::string& id) { return find(jobs, id).status.state; };
  auto reason = [&](const std::string& id) { return find(jobs, id).status.state_reason.value_or("-"); };
  EXPECT_EQ(state("2001"), "PENDING");  // H
  EXPECT_EQ(reason("2001"), "JobHeld");
  EXPECT_EQ(state("2002"), "PENDING");  // W
  EXPECT_EQ(reason("2002"), "BeginTime");
  EXPECT_EQ(state("2003"), "COMPLETING");  // E
  EXPECT_EQ(state("2004"), "SUSPENDED");   // S
  EXPECT_EQ(state("2005"), "RUNNING");     // B: the array 2005[] is listed as 2005
  EXPECT_EQ(state("2006"), "PENDING");     // T
  EXPECT_EQ(reason("2006"), "Transit");
  EXPECT_EQ(state("2007"), "COMPLETED");  // M: its own comment stays the reason
  EXPECT_EQ(reason("2007"), "Job moved to server pbs02");
  EXPECT_EQ(state("2008"), "TIMEOUT");  // F, -29
  EXPECT_EQ(find(jobs, "2008").status.exit_code, -29);
  EXPECT_EQ(find(jobs, "2008").time.elapsed, 602);
  EXPECT_EQ(find(jobs, "2008").time.end, 1764061802);
  EXPECT_EQ(state("2009"), "OUT_OF_MEMORY");  // F, -27
  EXPECT_EQ(state("2010"), "CANCELLED");      // F, substate 91, no Exit_status
  EXPECT_FALSE(find(jobs, "2010").status.exit_code);
  EXPECT_EQ(state("2011"), "COMPLETED");  // F, 0
  EXPECT_EQ(find(jobs, "2011").account, "genomics");
  EXPECT_EQ(state("2012"), "FAILED");  // X, -3
  EXPECT_EQ(find(jobs, "2012").status.exit_code, -3);
  EXPECT_EQ(find(jobs, "2013").user, "bob");
  EXPECT_EQ(parse_pbs_json_timestamp(golden("pbs/qstat_f_F_json_states.txt")), 1764064800);
}

TEST(PbsQstat, MetadataStripsTheHost) {
  auto meta = parse_qstat_metadata(golden("pbs/qstat_f_F_json.txt"));
  ASSERT_EQ(meta.size(), 4u);
  EXPECT_EQ(meta[0].job_id, "1001");
  EXPECT_EQ(meta[0].standard_output, "/home/alice/hello.o1001");
  EXPECT_EQ(meta[0].standard_error, "/home/alice/hello.e1001");
  EXPECT_FALSE(meta[0].script);
}

TEST(PbsQstat, NoJobsAndGarbage) {
  EXPECT_TRUE(parse_qstat_jobs(R"({"timestamp":1,"pbs_version":"23.06.06","pbs_server":"pbs01"})").empty());
  EXPECT_THROW(parse_qstat_jobs(golden("pbs/qstat_unknown_job.stderr")), portico::core::Failure);
  EXPECT_THROW(parse_qstat_jobs("[1,2]"), portico::core::Failure);
  EXPECT_THAT(internal_failure([] { parse_qstat_jobs(R"({"Jobs":{"1.s":{"job_state":"Z"}}})"); }),
              HasSubstr("job_state Z"));
  EXPECT_FALSE(parse_pbs_json_timestamp("{}"));
}

TEST(PbsDuration, HoursMinutesSeconds) {
  EXPECT_EQ(parse_pbs_duration("01:00:00"), 3600);
  EXPECT_EQ(parse_pbs_duration("100:00:01"), 360001);
  EXPECT_FALSE(parse_pbs_duration("1:00"));
  EXPECT_FALSE(parse_pbs_duration("aa:bb:cc"));
  EXPECT_FALSE(parse_pbs_duration(""));
}

// Found by fuzz/qstat_fuzz (corpus: finding-walltime-overflow): the digits and the hours
// overflowed int64.
TEST(PbsDuration, NothingPastInt64Seconds) {
  EXPECT_EQ(parse_pbs_duration("2562047788015215:30:07"), INT64_MAX);
  EXPECT_FALSE(parse_pbs_duration("2562047788015215:30:08"));
  EXPECT_FALSE(parse_pbs_duration("2555555555555555555:00:00"));
  EXPECT_FALSE(parse_pbs_duration("99999999999999999999:00:00"));
}

TEST(PbsTime, CtimeLayoutWithAPaddedDay) {
  EXPECT_EQ(parse_pbs_time("Tue Nov 25 09:59:01 2025"), 1764064741);
  EXPECT_EQ(parse_pbs_time("Mon Jan  1 00:00:00 2035"), 2051222400);
  EXPECT_FALSE(parse_pbs_time("2035-01-01T00:00:00"));
  EXPECT_FALSE(parse_pbs_time("Mon Jan  1 00:00:00 2035 UTC"));
}

TEST(PbsVersionAndQsub, Golden) {
  EXPECT_EQ(parse_pbs_version(golden("pbs/qstat_version.txt")), "23.06.06");
  EXPECT_THROW(parse_pbs_version("qstat: command not found"), portico::core::Failure);
  EXPECT_EQ(parse_qsub_output(golden("pbs/qsub.txt")), "1005");
  EXPECT_EQ(parse_qsub_output("1006[].pbs01\n"), "1006");
  EXPECT_THAT(internal_failure([] { parse_qsub_output("qsub: Unknown queue\n"); }), HasSubstr("qsub"));
  EXPECT_THROW(parse_qsub_output(""), portico::core::Failure);
}

TEST(PbsNodes, GoldenStatesCpusMemoryAndQueue) {
  auto nodes = parse_pbsnodes(golden("pbs/pbsnodes_a_F_json.txt"));
  ASSERT_EQ(nodes.size(), 3u);
  const auto& busy = find(nodes, "node01");
  EXPECT_THAT(busy.states, ElementsAre("ALLOCATED"));
  EXPECT_EQ(busy.cpus, 4);
  EXPECT_EQ(busy.alloc_cpus, 4);
  EXPECT_EQ(busy.idle_cpus, 0);
  EXPECT_EQ(busy.alloc_memory, 4096);             // 4194304kb
  EXPECT_EQ(busy.free_memory, 15925 - 4096);      // 16307392kb = 15925 MiB
  EXPECT_EQ(busy.address, "node01.cluster");
  EXPECT_EQ(busy.hostname, "node01");
  EXPECT_TRUE(busy.partitions.empty());

  const auto& mixed = find(nodes, "node02");
  EXPECT_THAT(mixed.states, ElementsAre("MIXED"));  // free, with one cpu assigned
  EXPECT_EQ(mixed.idle_cpus, 3);
  EXPECT_EQ(mixed.free_memory, 16384);  // 16gb
  EXPECT_THAT(mixed.partitions, ElementsAre("debug"));
  EXPECT_EQ(mixed.weight, 10);

  const auto& down = find(nodes, "node03");
  EXPECT_THAT(down.states, ElementsAre("DOWN", "DRAIN"));
  EXPECT_EQ(down.cpus, 8);
  EXPECT_FALSE(down.alloc_cpus);
}

TEST(PbsNodes, NoneAndGarbage) {
  EXPECT_TRUE(parse_pbsnodes(R"({"timestamp":1,"pbs_server":"pbs01"})").empty());
  EXPECT_THROW(parse_pbsnodes("pbsnodes: Server has no node list"), portico::core::Failure);
  EXPECT_THROW(parse_pbsnodes(R"({"nodes":{"n1":{"pcpus":1}}})"), portico::core::Failure);  // no state
}

TEST(PbsQueues, GoldenStatesFromEnabledAndStarted) {
  auto queues = parse_qstat_queues(golden("pbs/qstat_Q_f_F_json.txt"));
  ASSERT_EQ(queues.size(), 4u);
  EXPECT_EQ(find(queues, "workq").state, "UP");
  EXPECT_EQ(find(queues, "workq").cpus, 16);
  EXPECT_EQ(find(queues, "workq").total_nodes, 3);
  EXPECT_EQ(find(queues, "debug").state, "DOWN");  // enabled, not started
  EXPECT_EQ(find(queues, "debug").cpus, 4);        // resources_max
  EXPECT_EQ(find(queues, "old").state, "INACTIVE");
  EXPECT_FALSE(find(queues, "old").cpus);
  EXPECT_THROW(parse_qstat_queues("qstat: Unknown queue"), portico::core::Failure);
}

TEST(PbsReservations, GoldenQueueNameNodesTimesAndState) {
  auto resv = parse_pbs_rstat(golden("pbs/pbs_rstat_f.txt"));
  ASSERT_EQ(resv.size(), 2u);
  EXPECT_EQ(resv[0].name, "R1005");
  EXPECT_EQ(resv[0].node_list, "node02");
  EXPECT_EQ(resv[0].start_time, 2051222400);
  EXPECT_EQ(resv[0].end_time, 2051223000);
  EXPECT_EQ(resv[0].state, "INACTIVE");  // RESV_CONFIRMED
  EXPECT_EQ(resv[1].name, "R1006");
  EXPECT_EQ(resv[1].node_list, "node01,node03");
  EXPECT_EQ(resv[1].state, "ACTIVE");  // RESV_RUNNING
  EXPECT_EQ(resv[1].start_time, 1764057600);
  EXPECT_EQ(resv[1].end_time, 1764093600);
}

TEST(PbsReservations, NoneAndGarbage) {
  EXPECT_TRUE(parse_pbs_rstat("").empty());
  EXPECT_TRUE(parse_pbs_rstat("\n").empty());
  EXPECT_THROW(parse_pbs_rstat("pbs_rstat: cannot connect to server\n"), portico::core::Failure);
  EXPECT_THROW(parse_pbs_rstat("Resv ID:\n"), portico::core::Failure);
  // Found by fuzz/qstat_fuzz (corpus: finding-reservation-without-name): an id that is all
  // ".server" suffix, or an empty queue, gave a reservation named "".
  EXPECT_THROW(parse_pbs_rstat("Resv ID: .pbs01\nReserve_Name = maint\n"), portico::core::Failure);
  EXPECT_THROW(parse_pbs_rstat("Resv ID: R1.pbs01\nqueue = \n"), portico::core::Failure);
}

TEST(PbsServers, GoldenActiveAndTerminating) {
  auto up = parse_qstat_servers(golden("pbs/qstat_B_f_F_json.txt"));
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].name, "pbs01");
  EXPECT_EQ(up[0].state, "Active");
  EXPECT_TRUE(up[0].up);
  auto down = parse_qstat_servers(golden("pbs/qstat_B_f_F_json_terminating.txt"));
  EXPECT_FALSE(down[0].up);
  EXPECT_THROW(parse_qstat_servers(R"({"timestamp":1})"), portico::core::Failure);
}
