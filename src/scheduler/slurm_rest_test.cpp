#include "scheduler/slurm_rest.hpp"

#include "core/error.hpp"
#include "net/test_http_server.hpp"
#include "scheduler/fake_runner.hpp"
#include "scheduler/golden.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <mutex>

using namespace portico::scheduler;
using portico::core::Command;
using portico::core::CommandResult;
using portico::core::CommandRunner;
using portico::core::ErrorKind;
using portico::core::Failure;
using portico::net::testing::TestHttpServer;
using portico::scheduler::testing::await;
using portico::scheduler::testing::failure_of;
using portico::scheduler::testing::FakeRunner;
using portico::scheduler::testing::golden;
using ::testing::HasSubstr;

namespace {


const std::string kKey = "0123456789abcdef0123456789abcdef";

// A slurmrestd answering from the golden files; remembers what it was sent.
struct FakeRestd {
  std::mutex mutex;
  std::vector<TestHttpServer::Request> seen;
  std::map<std::string, std::pair<unsigned, std::string>> answers;  // "METHOD target" -> reply
  TestHttpServer server{[this](const TestHttpServer::Request& req) -> std::optional<TestHttpServer::Response> {
    std::lock_guard lock(mutex);
    seen.push_back(req);
    auto key = std::string(req.method_string()) + " " + std::string(req.target());
    auto found = answers.find(key);
    if (found == answers.end()) return TestHttpServer::response(404, "{}");
    return TestHttpServer::response(found->second.first, found->second.second);
  }};

  SlurmRest scheduler() {
    SlurmRestOptions options;
    options.api_url = server.url("/");
    options.api_version = "v0.0.38";
    return SlurmRest(std::make_shared<const portico::net::HttpClient>(), options,
                     SlurmTokenMinter(kKey, std::chrono::minutes(5)));
  }
};

std::string rest(const std::string& name) { return golden("slurmrestd/" + name); }

}  // namespace

TEST(SlurmRest, CallsAsTheUserWithAFreshTokenAndRecordsTheCall) {
  FakeRestd restd;
  restd.answers["GET /slurm/v0.0.38/nodes"] = {200, rest("nodes.json")};
  auto slurm = restd.scheduler();
  FakeRunner alice("alice");
  auto nodes = await(slurm.nodes(alice));
  ASSERT_EQ(nodes.size(), 1u);
  ASSERT_EQ(restd.seen.size(), 1u);
  const auto& req = restd.seen[0];
  EXPECT_EQ(req["X-SLURM-USER-NAME"], "alice");
  auto token = std::string(req["X-SLURM-USER-TOKEN"]);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Minted for alice with the key, within the last minute (no clock assertion beyond that).
  bool matches = false;
  for (auto t = now - 60; t <= now && !matches; ++t)
    matches = token == SlurmTokenMinter(kKey, std::chrono::minutes(5)).mint("alice", t);
  EXPECT_TRUE(matches) << "the token is not alice's, signed with the key";
  ASSERT_EQ(alice.backend_calls.size(), 1u);
  EXPECT_EQ(alice.backend_calls[0].first, "slurmrestd:GET /slurm/v0.0.38/nodes");
  EXPECT_EQ(alice.backend_calls[0].second, 200);
  EXPECT_TRUE(alice.argvs().empty());
}

TEST(SlurmRest, UnreachableIsBackendUnreachableAndAnUnhealthyPing) {
  std::string url;
  {
    TestHttpServer gone([](const TestHttpServer::Request&) { return TestHttpServer::response(200, "{}"); });
    url = gone.url("/");
  }
  SlurmRestOptions options;
  options.api_url = url;
  SlurmRest slurm(std::make_shared<const portico::net::HttpClient>(), options, SlurmTokenMinter(kKey, std::chrono::minutes(5)));
  FakeRunner alice("alice");
  auto failure = failure_of(slurm.partitions(alice));
  EXPECT_EQ(failure.kind(), ErrorKind::backend_unreachable);
  EXPECT_THAT(failure.what(), HasSubstr("slurmrestd"));
  ASSERT_EQ(alice.backend_calls.size(), 1u);
  EXPECT_EQ(alice.backend_calls[0].second, -1);
  auto health = await(slurm.ping(alice));
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.message, HasSubstr("unreachable"));
}

TEST(SlurmRest, PingAndVersion) {
  FakeRestd restd;
  restd.answers["GET /slurm/v0.0.38/ping"] = {200, rest("ping.json")};
  auto slurm = restd.scheduler();
  FakeRunner probe("portico-probe");
  auto health = await(slurm.ping(probe));
  EXPECT_TRUE(health.healthy);
  EXPECT_EQ(health.message, "Slurmctld(primary) at vm is UP");
  EXPECT_EQ(await(slurm.version(probe)), "22.05.8");
  EXPECT_EQ(await(slurm.version(probe)), "22.05.8");
  EXPECT_EQ(restd.seen.size(), 2u);  // the version is asked once
}

TEST(SlurmRest, InlineScriptsAreSubmittedOverRestAndTheRestThroughSbatch) {
  FakeRestd restd;
  restd.answers["POST /slurm/v0.0.38/job/submit"] = {200, rest("submit.json")};
  auto slurm = restd.scheduler();
  FakeRunner alice("alice");
  JobSubmission job;
  job.working_directory = "/home/alice";
  job.script = "#!/bin/bash\ntrue\n";
  job.partition = "debug";
  EXPECT_EQ(await(slurm.submit(alice, job)), "5929");
  ASSERT_EQ(restd.seen.size(), 1u);
  EXPECT_THAT(restd.seen[0].body(), HasSubstr("\"partition\":\"debug\""));
  EXPECT_TRUE(alice.argvs().empty());

  job.script = "#!/bin/bash\n#SBATCH --time=1\ntrue\n";
  alice.answer("/usr/bin/sbatch\n");
  alice.answer("77\n");
  EXPECT_EQ(await(slurm.submit(alice, job)), "77");
  ASSERT_EQ(alice.argvs().size(), 2u);
  EXPECT_EQ(alice.argvs()[1][0], "/usr/bin/sbatch");
  EXPECT_EQ(restd.seen.size(), 1u);
}

TEST(SlurmRest, RefusalsKeepSlurmsWords) {
  FakeRestd restd;
  restd.answers["POST /slurm/v0.0.38/job/submit"] = {500, rest("submit_bad_partition.json")};
  auto slurm = restd.scheduler();
  FakeRunner alice("alice");
  JobSubmission job;
  job.working_directory = "/home/alice";
  job.script = "true";
  job.partition = "nope";
  auto failure = failure_of(slurm.submit(alice, job));
  EXPECT_EQ(failure.kind(), ErrorKind::bad_request);
  EXPECT_THAT(failure.what(), HasSubstr("Invalid partition name specified"));
}

TEST(SlurmRest, UnknownJobIsNullopt) {
  FakeRestd restd;
  restd.answers["GET /slurm/v0.0.38/job/99999999"] = {500, rest("job_unknown.json")};
  restd.answers["GET /slurmdb/v0.0.38/job/99999999"] = {500, rest("db_job_unknown.json")};
  auto slurm = restd.scheduler();
  FakeRunner alice("alice");
  EXPECT_FALSE(await(slurm.job(alice, "99999999")));
  auto failure = failure_of(slurm.cancel(alice, "99999999"));
  EXPECT_EQ(failure.kind(), ErrorKind::not_found);
}

TEST(SlurmRest, FinishedJobsTakeTheLiveExitCodeAndSacctsWhenAccountingLostIt) {
  FakeRestd restd;
  restd.answers["GET /slurm/v0.0.38/job/5930"] = {200, rest("job_failed_live.json")};
  restd.answers["GET /slurmdb/v0.0.38/job/5930"] = {200, rest("db_job_failed.json")};
  auto slurm = restd.scheduler();
  FakeRunner alice("alice");
  // sacct's record of the job (the \x1f-separated --parsable2 form SlurmCli reads).
  std::string sep = "\x1f";
  auto row = [&sep](std::vector<std::string> f) {
    std::string r;
    for (std::size_t i = 0; i < f.size(); ++i) r += (i ? sep : "") + f[i];
    return r + "\n";
  };
  alice.answer(row({"5930", "FAILED", "None", "3:0", "1", "1795554888", "1795554889", "00:00:00", "525600", "climate", "1",
                    "hpc", "alice", "vm", "normal", "4294895836", "1001", "alice", "/home/alice", "rest fail"}) +
               row({"5930.batch", "FAILED", "", "3:0", "1", "1795554888", "1795554889", "00:00:00", "", "climate", "1",
                    "hpc", "", "vm", "", "", "", "", "", "batch"}));
  auto job = await(slurm.job(alice, "5930"));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status.state, "FAILED");
  EXPECT_FALSE(job->status.state_reason);  // accounting's record wins once final, as with sacct
  EXPECT_EQ(job->status.exit_code, 3);
  ASSERT_EQ(job->tasks.size(), 1u);
  EXPECT_EQ(job->tasks[0].id, "5930.batch");
  EXPECT_EQ(job->tasks[0].status.exit_code, 3);
  ASSERT_EQ(alice.argvs().size(), 1u);
  EXPECT_THAT(alice.argvs()[0].back(), "--jobs=5930");
}
