#include "scheduler/slurm_rest_parse.hpp"

#include "scheduler/golden.hpp"

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace portico::scheduler;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::scheduler::testing::golden;
using portico::scheduler::testing::internal_failure;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

std::string rest(const std::string& name) { return golden("slurmrestd/" + name); }

const Job& find_job(const std::vector<Job>& jobs, const std::string& id) {
  for (const auto& j : jobs)
    if (j.job_id == id) return j;
  ADD_FAILURE() << "no job " << id;
  static Job none;
  return none;
}

}  // namespace

// ---- v0.0.38, real answers of the site's slurmrestd

TEST(SlurmRestParse, ReleaseFromMeta) {
  EXPECT_EQ(parse_rest_release(rest("ping.json")), "22.05.8");
  EXPECT_EQ(parse_rest_release(R"({"meta": {"slurm": {"release": "24.05.3"}}})"), "24.05.3");
  EXPECT_EQ(parse_rest_release(R"({"meta": {"slurm": {"version": {"major": 23, "minor": 2, "micro": 7}}}})"), "23.02.7");
  internal_failure([] { parse_rest_release("not json"); });
  internal_failure([] { parse_rest_release("{}"); });
}

TEST(SlurmRestParse, Pings) {
  auto pings = parse_rest_pings(rest("ping.json"));
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].host, "vm");
  EXPECT_EQ(pings[0].mode, "primary");
  EXPECT_TRUE(pings[0].up);
  // v0.0.40 ("pinged") and v0.0.41 ("responding") shapes.
  pings = parse_rest_pings(R"({"pings": [{"hostname": "a", "pinged": "DOWN", "mode": "primary"},
                                          {"hostname": "b", "responding": true, "mode": "backup"}]})");
  ASSERT_EQ(pings.size(), 2u);
  EXPECT_FALSE(pings[0].up);
  EXPECT_TRUE(pings[1].up);
  EXPECT_EQ(pings[1].mode, "backup");
}

TEST(SlurmRestParse, Nodes) {
  auto nodes = parse_rest_nodes(rest("nodes.json"));
  ASSERT_EQ(nodes.size(), 1u);
  const auto& n = nodes[0];
  EXPECT_EQ(n.name, "vm");
  EXPECT_THAT(n.states, ElementsAre("IDLE"));
  EXPECT_THAT(n.partitions, ElementsAre("normal", "debug"));
  EXPECT_EQ(n.cpus, 2);
  EXPECT_EQ(n.cores, 1);
  EXPECT_EQ(n.sockets, 2);
  EXPECT_EQ(n.threads, 1);
  ASSERT_TRUE(n.cpu_load);
  EXPECT_DOUBLE_EQ(*n.cpu_load, 0.68);  // slurmrestd sends hundredths
  EXPECT_EQ(n.free_memory, 22745);
  EXPECT_EQ(n.alloc_memory, 0);
  EXPECT_EQ(n.alloc_cpus, 0);
  EXPECT_EQ(n.idle_cpus, 2);
  EXPECT_TRUE(n.features.empty());
  EXPECT_EQ(n.address, "127.0.0.1");
  EXPECT_EQ(n.hostname, "vm");
  EXPECT_EQ(n.weight, 1);
}

TEST(SlurmRestParse, NodesInTheLaterShape) {
  // v0.0.40: state is a list of flags, numbers are {set, infinite, number}.
  auto nodes = parse_rest_nodes(R"({"nodes": [{"name": "n1", "state": ["IDLE", "DRAIN"], "cpus": 4,
      "cpu_load": 150, "free_memory": {"set": true, "infinite": false, "number": 1000},
      "alloc_memory": 0, "alloc_cpus": 1, "idle_cpus": 3, "active_features": "gpu,a100",
      "partitions": ["p"], "weight": 1}]})");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_THAT(nodes[0].states, ElementsAre("IDLE", "DRAIN"));
  EXPECT_DOUBLE_EQ(*nodes[0].cpu_load, 1.5);
  EXPECT_EQ(nodes[0].free_memory, 1000);
  EXPECT_THAT(nodes[0].features, ElementsAre("gpu", "a100"));
  nodes = parse_rest_nodes(R"({"nodes": [{"name": "n2", "state": "down", "state_flags": ["NOT_RESPONDING"],
      "free_memory": {"set": false, "infinite": false, "number": 0}}]})");
  EXPECT_THAT(nodes[0].states, ElementsAre("DOWN", "NOT_RESPONDING"));
  EXPECT_FALSE(nodes[0].free_memory);
  internal_failure([] { parse_rest_nodes(R"({"errors": []})"); });
}

TEST(SlurmRestParse, Partitions) {
  auto parts = parse_rest_partitions(rest("partitions.json"));
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "normal");
  EXPECT_EQ(parts[0].cpus, 2);
  EXPECT_EQ(parts[0].total_nodes, 1);
  EXPECT_EQ(parts[0].state, "UP");
  EXPECT_EQ(parts[1].name, "debug");
  parts = parse_rest_partitions(R"({"partitions": [
      {"name": "p", "partition": {"state": ["DRAIN"]}, "cpus": {"total": 8}, "nodes": {"total": 2}},
      {"name": "h", "flags": ["HIDDEN"], "partition": {"state": ["UP"]}}]})");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].state, "DRAIN");
  EXPECT_EQ(parts[0].cpus, 8);
  EXPECT_EQ(parts[0].total_nodes, 2);
}

TEST(SlurmRestParse, Reservations) {
  EXPECT_TRUE(parse_rest_reservations(rest("reservations_none.json"), 0).empty());
  auto res = parse_rest_reservations(rest("reservations_one.json"), 1795555000);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].name, "portico_golden");
  EXPECT_EQ(res[0].node_list, "vm");
  EXPECT_EQ(res[0].start_time, 2051222400);  // 2035-01-01T00:00:00Z
  EXPECT_EQ(res[0].end_time, 2051223000);
  EXPECT_FALSE(res[0].features);
  EXPECT_EQ(res[0].state, "INACTIVE");
  EXPECT_EQ(parse_rest_reservations(rest("reservations_one.json"), 2051222500)[0].state, "ACTIVE");
  res = parse_rest_reservations(R"({"reservations": [{"name": "r", "node_list": "n[1-2]",
      "start_time": {"set": true, "infinite": false, "number": 10}, "end_time": {"set": true, "number": 20}}]})", 15);
  EXPECT_EQ(res[0].start_time, 10);
  EXPECT_EQ(res[0].end_time, 20);
  EXPECT_EQ(res[0].state, "ACTIVE");
}

TEST(SlurmRestParse, Associations) {
  auto accounts = parse_rest_associations(rest("associations.json"), "alice");
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0].name, "genomics");
  EXPECT_FALSE(accounts[0].is_default);
  EXPECT_EQ(accounts[1].name, "climate");
  EXPECT_TRUE(accounts[1].is_default);
  EXPECT_TRUE(parse_rest_associations(rest("associations.json"), "bob").empty());
  accounts = parse_rest_associations(R"({"associations": [{"account": "a", "user": "u", "is_default": true},
      {"account": "a", "user": "u", "partition": "p", "is_default": false}, {"account": "a", "user": ""}]})", "u");
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_TRUE(accounts[0].is_default);
}

TEST(SlurmRestParse, LiveJobs) {
  auto jobs = parse_rest_jobs(rest("jobs_live.json"), 1795555040);
  ASSERT_EQ(jobs.size(), 10u);
  const auto& running = find_job(jobs, "5937");
  EXPECT_EQ(running.name, "rest sleep");
  EXPECT_EQ(running.status.state, "RUNNING");
  EXPECT_FALSE(running.status.state_reason);  // "None"
  EXPECT_FALSE(running.status.exit_code);     // a placeholder while it runs
  EXPECT_EQ(running.time.start, 1795555028);
  EXPECT_EQ(running.time.end, 1795555628);
  EXPECT_EQ(running.time.elapsed, 12);
  EXPECT_EQ(running.time.limit, 600);
  EXPECT_FALSE(running.time.suspended);
  EXPECT_EQ(running.account, "genomics");
  EXPECT_EQ(running.allocation_nodes, 1);
  EXPECT_EQ(running.cluster, "hpc");
  EXPECT_EQ(running.group, "alice");
  EXPECT_EQ(running.nodes, "vm");
  EXPECT_EQ(running.partition, "debug");
  EXPECT_EQ(running.priority, 4294895833);
  EXPECT_EQ(running.user, "alice");
  EXPECT_EQ(running.working_directory, "/home/alice");
  EXPECT_TRUE(running.tasks.empty());

  const auto& pending = find_job(jobs, "5938");
  EXPECT_EQ(pending.status.state, "PENDING");
  EXPECT_EQ(pending.status.state_reason, "JobHeldUser");
  EXPECT_FALSE(pending.time.start);
  EXPECT_FALSE(pending.time.end);
  EXPECT_FALSE(pending.time.limit);
  EXPECT_EQ(pending.time.elapsed, 0);
  EXPECT_EQ(pending.nodes, "");

  const auto& failed = find_job(jobs, "5930");
  EXPECT_EQ(failed.status.state, "FAILED");
  EXPECT_EQ(failed.status.exit_code, 3);  // wait status 768
  EXPECT_EQ(failed.status.interrupt_signal, 0);
  EXPECT_EQ(failed.time.elapsed, 1);
  EXPECT_EQ(failed.time.limit, 525600 * 60);
}

TEST(SlurmRestParse, OneLiveJobAndAnUnknownOne) {
  auto jobs = parse_rest_jobs(rest("job_pending.json"), 0);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].job_id, "5938");
  auto errors = parse_rest_errors(rest("job_unknown.json"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].error, "Invalid job id specified");
  EXPECT_EQ(errors[0].description, "Unable to find JobId=99999999");
  EXPECT_EQ(errors[0].number, 2017);
  auto refusal = rest_refusal(errors);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->kind(), ErrorKind::not_found);
  EXPECT_THAT(refusal->what(), HasSubstr("Job not found"));
}

TEST(SlurmRestParse, LiveJobsInTheLaterShape) {
  auto jobs = parse_rest_jobs(R"({"jobs": [{"job_id": 7, "name": "n", "job_state": ["TIMEOUT"],
      "state_reason": "None", "exit_code": {"status": ["SIGNALED"], "return_code": {"set": true, "number": 0},
      "signal": {"id": {"set": true, "number": 15}, "name": "TERM"}},
      "start_time": {"set": true, "number": 100}, "end_time": {"set": true, "number": 160},
      "time_limit": {"set": true, "infinite": false, "number": 1}, "priority": {"set": true, "number": 5},
      "node_count": {"set": true, "number": 1}, "user_name": "u"},
      {"job_id": 8, "job_state": ["PENDING"], "time_limit": {"set": false, "infinite": true, "number": 0}}]})", 1000);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].status.state, "TIMEOUT");
  EXPECT_EQ(jobs[0].status.exit_code, 0);
  EXPECT_EQ(jobs[0].status.interrupt_signal, 15);
  EXPECT_EQ(jobs[0].time.elapsed, 60);
  EXPECT_EQ(jobs[0].time.limit, 60);
  EXPECT_EQ(jobs[0].priority, 5);
  EXPECT_EQ(jobs[0].allocation_nodes, 1);
  EXPECT_FALSE(jobs[1].time.limit);
  // A running job without a limit has no end (slurmctld's is a placeholder a year ahead).
  jobs = parse_rest_jobs(R"({"jobs": [{"job_id": 9, "job_state": "RUNNING", "start_time": 100,
      "end_time": 31536100, "time_limit": 4294967295}]})", 150);
  EXPECT_FALSE(jobs[0].time.end);
  EXPECT_FALSE(jobs[0].time.limit);
  EXPECT_EQ(jobs[0].time.elapsed, 50);
  internal_failure([] { parse_rest_jobs(R"({"jobs": [{"job_id": 9}]})", 0); });
}

TEST(SlurmRestParse, AccountedJobs) {
  auto jobs = parse_rest_db_jobs(rest("db_jobs.json"));
  ASSERT_EQ(jobs.size(), 9u);
  const auto& cancelled = find_job(jobs, "5937");
  EXPECT_EQ(cancelled.status.state, "CANCELLED");
  EXPECT_FALSE(cancelled.status.state_reason);
  EXPECT_EQ(cancelled.kill_request_user, "alice");
  EXPECT_EQ(cancelled.time.elapsed, 5);
  EXPECT_EQ(cancelled.time.start, 1795555028);
  EXPECT_EQ(cancelled.time.end, 1795555033);
  EXPECT_EQ(cancelled.time.suspended, 0);
  EXPECT_EQ(cancelled.time.limit, 600);
  EXPECT_EQ(cancelled.account, "genomics");
  EXPECT_EQ(cancelled.cluster, "hpc");
  EXPECT_EQ(cancelled.group, "alice");
  EXPECT_EQ(cancelled.partition, "debug");
  EXPECT_EQ(cancelled.user, "alice");
  EXPECT_EQ(cancelled.working_directory, "/home/alice");
  ASSERT_EQ(cancelled.tasks.size(), 1u);
  EXPECT_EQ(cancelled.tasks[0].id, "5937.batch");
  EXPECT_EQ(cancelled.tasks[0].name, "batch");
  EXPECT_EQ(cancelled.tasks[0].status.state, "CANCELLED");
  EXPECT_EQ(cancelled.tasks[0].status.exit_code, 0);
  EXPECT_EQ(cancelled.tasks[0].status.interrupt_signal, 15);
  EXPECT_EQ(cancelled.tasks[0].time.elapsed, 5);

  // What v0.0.38 makes of `exit 3`: "SUCCESS", 0 (hence rest_db_exit_codes_unreliable).
  auto failed = parse_rest_db_jobs(rest("db_job_failed.json"));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status.state, "FAILED");
  EXPECT_EQ(failed[0].status.exit_code, 0);
  EXPECT_TRUE(rest_db_exit_codes_unreliable("v0.0.38"));
  EXPECT_FALSE(rest_db_exit_codes_unreliable("v0.0.40"));

  auto errors = parse_rest_errors(rest("db_job_unknown.json"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].error, "Nothing found with query");
}

TEST(SlurmRestParse, AnAccountedJobThatNeverRan) {
  // Held, then cancelled by root: no allocation, the requested node count instead (as sacct's
  // NNodes), and the canceller by name (sacct gives only the uid, "0").
  auto jobs = parse_rest_db_jobs(rest("db_job_never_started.json"));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status.state, "CANCELLED");
  EXPECT_EQ(jobs[0].status.state_reason, "JobHeldUser");
  EXPECT_EQ(jobs[0].allocation_nodes, 1);
  EXPECT_EQ(jobs[0].nodes, "");
  EXPECT_FALSE(jobs[0].time.start);
  EXPECT_EQ(jobs[0].time.limit, 300);
  EXPECT_EQ(jobs[0].kill_request_user, "root");
  EXPECT_TRUE(jobs[0].tasks.empty());
}

TEST(SlurmRestParse, AccountedJobsInTheLaterShape) {
  auto jobs = parse_rest_db_jobs(R"({"jobs": [{"job_id": 7, "name": "n", "state": {"current": ["FAILED"], "reason": "None"},
      "exit_code": {"status": ["ERROR"], "return_code": {"set": true, "infinite": false, "number": 3},
                    "signal": {"id": {"set": false, "number": 0}, "name": ""}},
      "time": {"elapsed": 4, "start": 100, "end": 104, "suspended": 0,
               "limit": {"set": true, "infinite": false, "number": 30}},
      "priority": {"set": true, "number": 9}, "nodes": "None assigned", "user": "u", "account": "a",
      "steps": [{"step": {"id": "7.batch", "name": "batch"}, "state": ["FAILED"],
                 "exit_code": {"status": ["ERROR"], "return_code": {"set": true, "number": 3}},
                 "time": {"elapsed": 4, "start": 100, "end": 104}}]}]})");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status.state, "FAILED");
  EXPECT_EQ(jobs[0].status.exit_code, 3);
  EXPECT_EQ(jobs[0].status.interrupt_signal, 0);
  EXPECT_EQ(jobs[0].time.limit, 1800);
  EXPECT_EQ(jobs[0].priority, 9);
  EXPECT_EQ(jobs[0].nodes, "");
  ASSERT_EQ(jobs[0].tasks.size(), 1u);
  EXPECT_EQ(jobs[0].tasks[0].id, "7.batch");
  EXPECT_EQ(jobs[0].tasks[0].status.exit_code, 3);
}

TEST(SlurmRestParse, SubmitReplies) {
  EXPECT_EQ(parse_rest_submitted_job_id(rest("submit.json")), "5929");
  try {
    parse_rest_submitted_job_id(rest("submit_bad_partition.json"));
    ADD_FAILURE() << "accepted";
  } catch (const Failure& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_request);
    EXPECT_THAT(e.what(), HasSubstr("Invalid partition name specified"));
  }
  try {
    parse_rest_submitted_job_id(rest("submit_bad_account.json"));
    ADD_FAILURE() << "accepted";
  } catch (const Failure& e) {
    EXPECT_EQ(e.kind(), ErrorKind::forbidden);
    EXPECT_THAT(e.what(), HasSubstr("Invalid account"));
  }
  auto refusal = rest_refusal(parse_rest_errors(rest("cancel_other.json")));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->kind(), ErrorKind::forbidden);
  EXPECT_THAT(refusal->what(), HasSubstr("Access/permission denied"));
  internal_failure([] { parse_rest_submitted_job_id(R"({"errors": []})"); });
}

TEST(SlurmRestParse, SubmissionBodyPerVersion) {
  JobSubmission job;
  job.name = "n";
  job.account = "climate";
  job.working_directory = "/home/alice";
  job.env = {{"A", "x'y\n,z"}};
  job.script = "#!/bin/bash\ntrue\n";
  job.standard_output = "out-%j";
  auto v38 = boost::json::parse(rest_submission_body(job, "v0.0.38")).as_object();
  EXPECT_EQ(v38.at("script").as_string(), "#!/bin/bash\ntrue\n");
  const auto& j38 = v38.at("job").as_object();
  EXPECT_EQ(j38.at("name").as_string(), "n");
  EXPECT_EQ(j38.at("account").as_string(), "climate");
  EXPECT_EQ(j38.at("current_working_directory").as_string(), "/home/alice");
  EXPECT_EQ(j38.at("standard_output").as_string(), "out-%j");
  EXPECT_EQ(j38.at("environment").at("A").as_string(), "x'y\n,z");
  EXPECT_EQ(j38.at("get_user_environment").as_string(), "10L");
  EXPECT_FALSE(j38.contains("partition"));

  auto v40 = boost::json::parse(rest_submission_body(job, "v0.0.40")).as_object();
  EXPECT_FALSE(v40.contains("script"));
  const auto& j40 = v40.at("job").as_object();
  EXPECT_EQ(j40.at("script").as_string(), "#!/bin/bash\ntrue\n");
  ASSERT_EQ(j40.at("environment").as_array().size(), 1u);
  EXPECT_EQ(j40.at("environment").as_array()[0].as_string(), "A=x'y\n,z");
  EXPECT_TRUE(j40.at("get_user_environment").as_bool());
}

TEST(SlurmRestParse, SubmissionBodyHeldWithATimeLimitInMinutes) {
  JobSubmission job;
  job.working_directory = "/home/alice";
  job.script = "#!/bin/bash\ntrue\n";
  auto plain = boost::json::parse(rest_submission_body(job, "v0.0.38")).as_object().at("job").as_object();
  EXPECT_FALSE(plain.contains("hold"));
  EXPECT_FALSE(plain.contains("time_limit"));
  job.hold = true;
  job.time_limit = std::chrono::seconds(61);
  auto held = boost::json::parse(rest_submission_body(job, "v0.0.38")).as_object().at("job").as_object();
  EXPECT_TRUE(held.at("hold").as_bool());
  EXPECT_EQ(held.at("time_limit").as_int64(), 2);  // rounded up: never shorter than asked
}

TEST(SlurmRestParse, WhatGoesToSbatchInstead) {
  JobSubmission job;
  job.working_directory = "/home/alice";
  job.script = "#!/bin/bash\necho '#SBATCH in the middle of a line'\n";
  EXPECT_TRUE(rest_can_submit(job));
  job.script = "#!/bin/bash\n#SBATCH --time=1\nsleep 300\n";
  EXPECT_FALSE(rest_can_submit(job));
  job.script.reset();
  job.script_path = "/home/alice/job.sh";
  EXPECT_FALSE(rest_can_submit(job));
}
