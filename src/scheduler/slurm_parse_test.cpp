#include "scheduler/slurm_parse.hpp"

#include "core/error.hpp"
#include "scheduler/golden.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace portico::scheduler;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::scheduler::testing::golden;
using portico::scheduler::testing::internal_failure;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

namespace {

std::string value(const std::vector<ScontrolField>& fields, std::string_view key) {
  const std::string* v = scontrol_value(fields, key);
  return v ? *v : "<absent>";
}

}  // namespace

// ---- split_scontrol_record

TEST(SplitScontrolRecord, KeepsFreeTextAndValuesWithEquals) {
  auto f = split_scontrol_record(
      "NodeName=vm CoresPerSocket=1  CPUAlloc=0 OS=Linux 6.1.0 #1 SMP  PREEMPT @0  RealMemory=8000 "
      "CfgTRES=cpu=2,mem=8000M AllocTRES= CapWatts=n/a");
  EXPECT_EQ(value(f, "NodeName"), "vm");
  EXPECT_EQ(value(f, "CPUAlloc"), "0");
  EXPECT_EQ(value(f, "OS"), "Linux 6.1.0 #1 SMP  PREEMPT @0");
  EXPECT_EQ(value(f, "RealMemory"), "8000");
  EXPECT_EQ(value(f, "CfgTRES"), "cpu=2,mem=8000M");
  EXPECT_EQ(value(f, "AllocTRES"), "");
  EXPECT_EQ(value(f, "CapWatts"), "n/a");
  EXPECT_EQ(f.size(), 8u);
}

TEST(SplitScontrolRecord, LowerCaseWordsWithEqualsContinueTheValue) {
  auto f = split_scontrol_record("NodeName=a Comment=see ticket=42 and x=y Weight=3");
  EXPECT_EQ(value(f, "Comment"), "see ticket=42 and x=y");
  EXPECT_EQ(value(f, "Weight"), "3");
}

TEST(SplitScontrolRecord, ReasonRunsToItsStampWhateverItHolds) {
  auto f = split_scontrol_record(
      "NodeName=a State=IDLE+DRAIN Reason=bad sda, Ticket=42 State=FAIL [root@2026-11-24T09:12:44] Comment=x");
  EXPECT_EQ(value(f, "Reason"), "bad sda, Ticket=42 State=FAIL");
  EXPECT_EQ(value(f, "State"), "IDLE+DRAIN");
  EXPECT_EQ(value(f, "Comment"), "x");
}

TEST(SplitScontrolRecord, MultiLineReasonFollowsItsStamp) {
  // scontrol prints the further lines of a Reason after the stamp, indented.
  auto f = split_scontrol_record("NodeName=a Reason=first line [root@1795540000]        second line Comment=c");
  EXPECT_EQ(value(f, "Reason"), "first line second line");
  EXPECT_EQ(value(f, "Comment"), "c");
}

TEST(SplitScontrolRecord, ReasonWithoutStampEndsAtTheNextKey) {
  auto f = split_scontrol_record("NodeName=a Reason=no stamp here x=1 Comment=c");
  EXPECT_EQ(value(f, "Reason"), "no stamp here x=1");
  EXPECT_EQ(value(f, "Comment"), "c");
}

TEST(SplitScontrolRecord, FirstOccurrenceWins) {
  auto f = split_scontrol_record("NodeName=a State=MIXED Comment=was State=DOWN");
  EXPECT_EQ(value(f, "State"), "MIXED");
}

TEST(SplitScontrolRecord, TextBeforeAnyKeyIsMalformed) {
  auto message = internal_failure([] { split_scontrol_record("slurm_load_node error: Invalid user"); });
  EXPECT_THAT(message, HasSubstr("\"slurm_load_node error: Invalid user\""));
}

// ---- nodes

TEST(ScontrolNodes, GoldenSlurm2205SingleNode) {
  auto nodes = parse_scontrol_nodes(golden("scontrol_show_node.txt"));
  ASSERT_EQ(nodes.size(), 1u);
  const Node& n = nodes[0];
  EXPECT_EQ(n.name, "vm");
  EXPECT_THAT(n.states, ElementsAre("IDLE"));
  EXPECT_THAT(n.partitions, ElementsAre("normal", "debug"));
  EXPECT_EQ(n.cpus, 2);
  EXPECT_EQ(n.cores, 1);
  EXPECT_EQ(n.sockets, 2);
  EXPECT_EQ(n.threads, 1);
  ASSERT_TRUE(n.cpu_load.has_value());
  EXPECT_DOUBLE_EQ(*n.cpu_load, 0.19);
  EXPECT_EQ(n.free_memory, 22346);
  EXPECT_EQ(n.alloc_memory, 0);
  EXPECT_EQ(n.alloc_cpus, 0);
  EXPECT_EQ(n.idle_cpus, 2);
  EXPECT_THAT(n.features, IsEmpty());
  EXPECT_EQ(n.address, "127.0.0.1");
  EXPECT_EQ(n.hostname, "vm");
  EXPECT_EQ(n.weight, 1);
}

TEST(ScontrolNodes, SeveralNodesDrainedMixedDown) {
  auto nodes = parse_scontrol_nodes(golden("scontrol_show_node_several.txt"));
  ASSERT_EQ(nodes.size(), 3u);

  const Node& drained = nodes[0];
  EXPECT_EQ(drained.name, "nid001");
  EXPECT_THAT(drained.states, ElementsAre("IDLE", "DRAIN"));
  EXPECT_THAT(drained.partitions, ElementsAre("normal", "gpu"));
  EXPECT_THAT(drained.features, ElementsAre("gpu", "a100"));
  EXPECT_EQ(drained.cores, 16);
  EXPECT_EQ(drained.threads, 2);
  EXPECT_EQ(drained.weight, 10);
  EXPECT_EQ(drained.free_memory, 250112);
  EXPECT_EQ(drained.idle_cpus, 64);

  const Node& mixed = nodes[1];
  EXPECT_EQ(mixed.name, "nid002");
  EXPECT_THAT(mixed.states, ElementsAre("MIXED"));  // not the "State=DOWN" of its Comment
  EXPECT_THAT(mixed.features, IsEmpty());
  EXPECT_EQ(mixed.cpu_load, std::nullopt);
  EXPECT_EQ(mixed.free_memory, std::nullopt);
  EXPECT_EQ(mixed.alloc_memory, 96000);
  EXPECT_EQ(mixed.alloc_cpus, 24);
  EXPECT_EQ(mixed.idle_cpus, 62 - 24);  // two specialised CPUs are never idle

  const Node& down = nodes[2];
  EXPECT_EQ(down.name, "nid003");
  EXPECT_THAT(down.states, ElementsAre("DOWN", "DRAIN", "NOT_RESPONDING"));
  EXPECT_THAT(down.partitions, IsEmpty());
  EXPECT_THAT(down.features, IsEmpty());  // "gpu" is available, not active
  EXPECT_EQ(down.address, "nid003-ib");
  ASSERT_TRUE(down.cpu_load.has_value());
  EXPECT_DOUBLE_EQ(*down.cpu_load, 0.0);
}

TEST(ScontrolNodes, NoNodes) {
  EXPECT_THAT(parse_scontrol_nodes(""), IsEmpty());
  EXPECT_THAT(parse_scontrol_nodes("\n"), IsEmpty());
  EXPECT_THAT(parse_scontrol_nodes("No nodes in the system\n"), IsEmpty());
}

TEST(ScontrolNodes, OldReleasesPrintFeatures) {
  auto nodes = parse_scontrol_nodes("NodeName=n1 CPUTot=4 Features=ib,ssd State=ALLOCATED\n");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_THAT(nodes[0].features, ElementsAre("ib", "ssd"));
  EXPECT_EQ(nodes[0].idle_cpus, std::nullopt);  // no CPUAlloc, nothing to derive it from
}

TEST(ScontrolNodes, MalformedAnswersFail) {
  EXPECT_THAT(internal_failure([] { parse_scontrol_nodes("NodeName=n1 CPUTot=four State=IDLE"); }),
              HasSubstr("CPUTot=four"));
  EXPECT_THAT(internal_failure([] { parse_scontrol_nodes("NodeName=n1 CPUTot=4"); }), HasSubstr("State="));
  EXPECT_THAT(internal_failure([] { parse_scontrol_nodes("NodeName=n1 State=IDLE"); }), HasSubstr("CPUTot="));
  EXPECT_THAT(internal_failure([] { parse_scontrol_nodes("PartitionName=normal State=UP"); }),
              HasSubstr("PartitionName=normal"));
  // A long line is quoted short.
  std::string garbage = "garbage " + std::string(500, 'x');
  auto message = internal_failure([&] { parse_scontrol_nodes(garbage); });
  EXPECT_LT(message.size(), 200u);
  EXPECT_THAT(message, HasSubstr("garbage xxx"));
}

// ---- partitions

TEST(ScontrolPartitions, GoldenSlurm2205) {
  auto partitions = parse_scontrol_partitions(golden("scontrol_show_partition.txt"));
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].name, "normal");
  EXPECT_EQ(partitions[0].state, "UP");
  EXPECT_EQ(partitions[0].cpus, 2);
  EXPECT_EQ(partitions[0].total_nodes, 1);
  EXPECT_EQ(partitions[1].name, "debug");
  EXPECT_EQ(partitions[1].state, "UP");
}

TEST(ScontrolPartitions, HiddenOnesAreLeftOutUnknownKeysIgnored) {
  auto partitions = parse_scontrol_partitions(
      "PartitionName=gpu Hidden=NO State=DOWN TotalCPUs=512 TotalNodes=8 NewKey2030=whatever\n"
      "PartitionName=admin Hidden=YES State=UP TotalCPUs=2 TotalNodes=1\n"
      "PartitionName=empty State=INACTIVE TotalCPUs=0 TotalNodes=0\n");
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].name, "gpu");
  EXPECT_EQ(partitions[0].state, "DOWN");
  EXPECT_EQ(partitions[0].cpus, 512);
  EXPECT_EQ(partitions[0].total_nodes, 8);
  EXPECT_EQ(partitions[1].name, "empty");
  EXPECT_EQ(partitions[1].state, "INACTIVE");
}

TEST(ScontrolPartitions, EmptyAndMalformed) {
  EXPECT_THAT(parse_scontrol_partitions("No partitions in the system\n"), IsEmpty());
  EXPECT_THAT(internal_failure([] { parse_scontrol_partitions("PartitionName=p TotalCPUs=2"); }),
              HasSubstr("State="));
}

// ---- reservations

// Found by fuzz/scontrol_fuzz (corpus: finding-partition-without-name): "PartitionName=" with
// nothing after it was a partition named "" (and so for nodes and reservations).
TEST(ScontrolPartitions, ARecordWithoutItsNameIsMalformed) {
  EXPECT_THROW(parse_scontrol_partitions("PartitionName= State=UP TotalCPUs=2\n"), portico::core::Failure);
  EXPECT_THROW(parse_scontrol_nodes("NodeName= State=IDLE CPUTot=2\n"), portico::core::Failure);
  EXPECT_THROW(parse_scontrol_reservations("ReservationName= StartTime=1 EndTime=2\n"), portico::core::Failure);
}

TEST(ScontrolReservations, GoldenSlurm2205) {
  auto reservations = parse_scontrol_reservations(golden("scontrol_show_reservation.txt"));
  ASSERT_EQ(reservations.size(), 1u);
  const Reservation& r = reservations[0];
  EXPECT_EQ(r.name, "portico_golden");
  EXPECT_EQ(r.node_list, "vm");
  EXPECT_EQ(r.start_time, 2051222400);  // 2035-01-01T00:00:00Z
  EXPECT_EQ(r.end_time, 2051223000);
  EXPECT_EQ(r.features, std::nullopt);
  EXPECT_EQ(r.state, "INACTIVE");
}

TEST(ScontrolReservations, GoldenNoReservations) {
  EXPECT_THAT(parse_scontrol_reservations(golden("scontrol_show_reservation_none.txt")), IsEmpty());
  EXPECT_THAT(parse_scontrol_reservations(""), IsEmpty());
}

TEST(ScontrolReservations, SeveralWithFeatures) {
  auto reservations = parse_scontrol_reservations(
      "ReservationName=maint StartTime=1800000000 EndTime=1800003600 Duration=01:00:00 Nodes=nid[001-004] "
      "NodeCnt=4 CoreCnt=256 Features=(null) PartitionName=(null) Flags=MAINT,SPEC_NODES TRES=cpu=256 "
      "Users=root Groups=(null) Accounts=(null) Licenses=(null) State=ACTIVE BurstBuffer=(null) Watts=n/a "
      "MaxStartDelay=(null)\n"
      "ReservationName=course StartTime=1800100000 EndTime=Unknown Duration=UNLIMITED Nodes=(null) NodeCnt=0 "
      "Features=[gpu&a100]|bigmem State=INACTIVE Comment=for the Course=HPC101 class\n");
  ASSERT_EQ(reservations.size(), 2u);
  EXPECT_EQ(reservations[0].name, "maint");
  EXPECT_EQ(reservations[0].node_list, "nid[001-004]");
  EXPECT_EQ(reservations[0].state, "ACTIVE");
  EXPECT_EQ(reservations[1].node_list, "");
  EXPECT_EQ(reservations[1].start_time, 1800100000);
  EXPECT_EQ(reservations[1].end_time, std::nullopt);
  EXPECT_EQ(reservations[1].features, "[gpu&a100]|bigmem");
}

TEST(ScontrolReservations, RefusesToGuessTheTimeZone) {
  // What scontrol prints when SLURM_TIME_FORMAT=%s did not reach it.
  auto message = internal_failure([] {
    parse_scontrol_reservations(
        "ReservationName=r StartTime=2035-01-01T00:00:00 EndTime=2035-01-01T00:10:00 Nodes=vm State=INACTIVE");
  });
  EXPECT_THAT(message, HasSubstr("StartTime=2035-01-01T00:00:00"));
  EXPECT_THAT(message, HasSubstr("SLURM_TIME_FORMAT"));
}

// ---- accounts

TEST(SacctmgrAccounts, GoldenSlurm2205) {
  auto accounts = parse_sacctmgr_user_accounts(golden("sacctmgr_show_user_withassoc.txt"));
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0].name, "genomics");
  EXPECT_FALSE(accounts[0].is_default);
  EXPECT_EQ(accounts[1].name, "climate");
  EXPECT_TRUE(accounts[1].is_default);
}

TEST(SacctmgrAccounts, OneRowPerAssociationGivesOneAccount) {
  auto accounts = parse_sacctmgr_user_accounts("proj-a|proj-a\nproj-a|proj-b\nproj-a|proj-a\nproj-a|proj-b\n");
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0].name, "proj-a");
  EXPECT_EQ(accounts[1].name, "proj-b");
}

TEST(SacctmgrAccounts, NoUserOrNoAssociation) {
  EXPECT_THAT(parse_sacctmgr_user_accounts(""), IsEmpty());
  EXPECT_THAT(parse_sacctmgr_user_accounts("climate|\n"), IsEmpty());
}

TEST(SacctmgrAccounts, Malformed) {
  EXPECT_THAT(internal_failure([] { parse_sacctmgr_user_accounts("climate genomics\n"); }),
              HasSubstr("\"climate genomics\""));
  EXPECT_THAT(internal_failure([] { parse_sacctmgr_user_accounts("a|b|c\n"); }), HasSubstr("a|b|c"));
}

// ---- ping and version

TEST(ScontrolPing, GoldenSlurm2205Up) {
  auto pings = parse_scontrol_ping(golden("scontrol_ping.txt"));
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].mode, "primary");
  EXPECT_EQ(pings[0].host, "vm");
  EXPECT_TRUE(pings[0].up);
}

TEST(ScontrolPing, DownWithRootBannerAndBackup) {
  auto pings = parse_scontrol_ping(golden("scontrol_ping_down.txt"));
  ASSERT_EQ(pings.size(), 2u);
  EXPECT_EQ(pings[0].host, "ctl1");
  EXPECT_FALSE(pings[0].up);
  EXPECT_EQ(pings[1].mode, "backup");
  EXPECT_EQ(pings[1].host, "ctl2");
  EXPECT_FALSE(pings[1].up);
}

TEST(ScontrolPing, NoControllerLineFails) {
  EXPECT_THAT(internal_failure([] { parse_scontrol_ping(""); }), HasSubstr("scontrol ping"));
  EXPECT_THAT(internal_failure([] { parse_scontrol_ping("Slurmctld(primary) at vm is MAYBE\n"); }),
              HasSubstr("MAYBE"));
}

TEST(SlurmVersion, GoldenAndUpstreamSpelling) {
  EXPECT_EQ(parse_slurm_version(golden("scontrol_version.txt")), "22.05.8");
  EXPECT_EQ(parse_slurm_version("slurm 23.11.4\n"), "23.11.4");
  EXPECT_THAT(internal_failure([] { parse_slurm_version("scontrol: command not found\n"); }),
              HasSubstr("command not found"));
  EXPECT_THAT(internal_failure([] { parse_slurm_version(""); }), HasSubstr("--version"));
}
