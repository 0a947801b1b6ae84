#include "scheduler/psij.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "scheduler/fake_runner.hpp"
#include "scheduler/golden.hpp"
#include "scheduler/pbs_cli.hpp"
#include "scheduler/slurm_cli.hpp"

namespace portico::scheduler {
namespace {

using psij::JobSpec;
using testing::Argv;
using testing::await;
using testing::failure_of;
using testing::FakeRunner;
using testing::golden;

psij::Site slurm_site() {
  psij::Site site;
  site.scheduler = "slurm";
  site.custom_attributes = {"slurm.constraint", "slurm.begin", "pbs.place"};
  site.default_directory = "/home/alice";
  site.confine = [](std::string_view path, std::string_view field) -> std::string {
    if (path.empty() || path.front() != '/') throw core::validation_error("body", std::string(field), "must be absolute");
    if (!path.starts_with("/home/") && !path.starts_with("/scratch/"))
      throw core::validation_error("body", std::string(field), "is outside the file systems");
    return std::string(path);
  };
  return site;
}

std::vector<std::string> field_names(const core::Failure& f) {
  std::vector<std::string> names;
  for (const auto& e : f.fields()) names.push_back(e.name);
  return names;
}

core::Failure refusal(const JobSpec& spec, const psij::Site& site = slurm_site()) {
  try {
    psij::to_submission(spec, site);
  } catch (const core::Failure& f) {
    return f;
  }
  ADD_FAILURE() << "accepted";
  return core::Failure(core::ErrorKind::internal, "none");
}

const std::vector<std::string> kHostile = {"it's", "\"double\"", "$(touch /tmp/pwned)", "`id`", "line1\nline2",
                                           "--help", "-n", "a b\tc", "$HOME", "\\", "%j", "*", ""};

TEST(Psij, MapsEveryFieldToTheSubmission) {
  JobSpec spec;
  spec.executable = "/bin/hostname";
  spec.name = "--name 'x'";
  spec.directory = "/scratch/alice/run";
  spec.stdout_path = "/home/alice/out %j.txt";
  spec.stderr_path = "/home/alice/err";
  spec.resources.node_count = 2;
  spec.resources.processes_per_node = 4;
  spec.resources.cpu_cores_per_process = 2;
  spec.resources.gpu_cores_per_process = 1;
  spec.resources.memory = 1024 * 1024 * 1024 + 1;
  spec.attributes.duration = 90;
  spec.attributes.queue_name = "debug";
  spec.attributes.account = "climate";
  spec.attributes.reservation_id = "maint";
  spec.attributes.custom_attributes = {{"slurm.constraint", "gpu&ssd"}, {"pbs.place", "scatter"}};
  auto job = psij::to_submission(spec, slurm_site());
  EXPECT_EQ(job.name, "--name 'x'");
  EXPECT_EQ(job.working_directory, "/scratch/alice/run");
  EXPECT_EQ(job.tasks, 8);  // node_count x processes_per_node
  EXPECT_EQ(job.time_limit, std::chrono::seconds(90));
  EXPECT_TRUE(job.exclusive);  // the IRI default
  auto argv = sbatch_command(job, "/usr/bin/sbatch").argv;
  std::vector<std::string> expected = {
      "/usr/bin/sbatch", "--parsable", "--chdir=/scratch/alice/run", "--job-name=--name 'x'", "--account=climate",
      "--partition=debug", "--reservation=maint", "--output=/home/alice/out %%j.txt", "--error=/home/alice/err",
      "--time=00:01:30", "--nodes=2", "--ntasks=8", "--ntasks-per-node=4", "--cpus-per-task=2", "--gpus-per-task=1",
      "--mem=1025M", "--exclusive", "--constraint=gpu&ssd"};  // pbs.place is another scheduler's
  EXPECT_EQ(argv, expected);
}

TEST(Psij, DefaultsAndEnvironment) {
  JobSpec spec;
  spec.executable = "true";
  spec.resources.exclusive_node_use = false;
  spec.inherit_environment = false;
  spec.environment = {{"GREETING", "hello, 'world'\n$(id)"}};
  auto job = psij::to_submission(spec, slurm_site());
  EXPECT_EQ(job.working_directory, "/home/alice");
  EXPECT_FALSE(job.exclusive);
  auto argv = sbatch_command(job, "/usr/bin/sbatch").argv;
  EXPECT_EQ(argv, (Argv{"/usr/bin/sbatch", "--parsable", "--chdir=/home/alice", "--export=NONE"}));
  EXPECT_THAT(*job.script, ::testing::HasSubstr("export GREETING='hello, '\\''world'\\''\n$(id)'\n"));
}

// The script is run by a real bash here: every hostile word reaches the program unchanged.
TEST(Psij, HostileWordsReachTheProgramLiterally) {
  JobSpec spec;
  spec.executable = "/bin/sh";
  spec.arguments = {"-c", "printf '%s\\0' \"$@\"; printf %s \"$HOSTILE\" > env.out", "sh"};
  spec.arguments.insert(spec.arguments.end(), kHostile.begin(), kHostile.end());
  spec.environment = {{"HOSTILE", "$(touch /tmp/pwned) `id` '\"\n"}};
  spec.launcher = "single";
  auto job = psij::to_submission(spec, slurm_site());
  auto dir = std::filesystem::temp_directory_path() / ("psij-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto script = dir / "job.sh";
  std::ofstream(script) << *job.script;
  auto command = "cd " + dir.string() + " && /bin/bash " + script.string() + " > out";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(dir / "out", std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(in)), {});
  std::string expected;
  for (const auto& w : kHostile) expected += w + std::string(1, '\0');
  EXPECT_EQ(out, expected);
  std::ifstream env(dir / "env.out", std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(env)), {}), "$(touch /tmp/pwned) `id` '\"\n");
  EXPECT_FALSE(std::filesystem::exists("/tmp/pwned"));
  std::filesystem::remove_all(dir);
}

TEST(Psij, ExitStatusSurvivesPostLaunchAndLaunchersAreWords) {
  JobSpec spec;
  spec.executable = "--weird";
  spec.arguments = {"-x"};
  spec.pre_launch = "/home/alice/pre 'x'.sh";
  spec.post_launch = "/home/alice/post.sh";
  spec.launcher = "srun";
  auto script = psij::job_script(spec, slurm_site());
  EXPECT_EQ(script,
            "#!/bin/bash\n# A PSI/J job submitted through Portico.\n"
            "source '/home/alice/pre '\\''x'\\''.sh'\n"
            "srun --weird -x\n"
            "portico_status=$?\n"
            "source /home/alice/post.sh\n"
            "exit $portico_status\n");
}

TEST(Psij, ContainerThroughTheConfiguredRuntime) {
  auto site = slurm_site();
  JobSpec spec;
  spec.executable = "python3";
  spec.arguments = {"-c", "print('$(x)')"};
  spec.container = psij::Container{"docker://python:3.12", {{"/scratch/alice/data", "/data", true},
                                                            {"/home/alice", "/work", false}}};
  spec.launcher = "mpirun";
  EXPECT_EQ(refusal(spec, site).kind(), core::ErrorKind::not_implemented);
  site.container_command = {"apptainer", "exec", "{mounts}", "{image}"};
  site.mount_words = {"--bind", "{source}:{target}:{mode}"};
  auto script = psij::job_script(spec, site);
  EXPECT_THAT(script, ::testing::HasSubstr("mpirun apptainer exec --bind /scratch/alice/data:/data:ro --bind "
                                           "/home/alice:/work:rw docker://python:3.12 python3 -c "
                                           "'print('\\''$(x)'\\'')'\n"));
  spec.container->volume_mounts = {{"/etc", "/x:y", true}};
  EXPECT_THAT(field_names(refusal(spec, site)),
              ::testing::UnorderedElementsAre("container.volume_mounts.0.source", "container.volume_mounts.0.target"));
}

TEST(Psij, EveryProblemIsReportedAtOnceByField) {
  JobSpec spec;
  spec.executable = "";
  spec.resources.node_count = 0;
  spec.resources.cpu_cores_per_process = -1;
  spec.attributes.duration = 0;
  spec.attributes.custom_attributes = {{"slurm.qos", "high"}};
  spec.environment = {{"1X", "v"}, {"A-B", "v"}, {"OK", "v"}};
  spec.stdout_path = "out.txt";
  spec.stderr_path = "/etc/passwd";
  spec.launcher = "aprun";
  auto f = refusal(spec);
  EXPECT_EQ(f.kind(), core::ErrorKind::validation);
  EXPECT_THAT(field_names(f),
              ::testing::UnorderedElementsAre("executable", "resources.node_count", "resources.cpu_cores_per_process",
                                              "attributes.duration", "attributes.custom_attributes.slurm.qos",
                                              "environment.1X", "environment.A-B", "stdout_path", "stderr_path",
                                              "launcher"));
}

TEST(Psij, ProcessCountMustMatchNodesTimesProcessesPerNode) {
  JobSpec spec;
  spec.executable = "true";
  spec.resources.node_count = 2;
  spec.resources.processes_per_node = 3;
  spec.resources.process_count = 5;
  EXPECT_THAT(field_names(refusal(spec)), ::testing::ElementsAre("resources.process_count"));
  spec.resources.process_count = 6;
  EXPECT_EQ(psij::to_submission(spec, slurm_site()).tasks, 6);
  spec.resources.node_count.reset();
  spec.resources.process_count = 7;
  EXPECT_THAT(field_names(refusal(spec)), ::testing::ElementsAre("resources.process_count"));
}

// Found by fuzz/iri_jobspec_fuzz (corpus: finding-count-overflow*): node_count x
// processes_per_node, the PBS select chunk and memory rounded up to MiB overflowed int64.
TEST(Psij, CountsAndMemoryAreBoundedSoNothingComputedFromThemOverflows) {
  JobSpec spec;
  spec.executable = "true";
  spec.resources.node_count = INT64_MAX;
  spec.resources.processes_per_node = 2;
  spec.resources.process_count = 1;
  spec.resources.cpu_cores_per_process = 1'000'000'001;
  spec.resources.memory = INT64_MAX;
  auto f = refusal(spec);
  EXPECT_THAT(field_names(f), ::testing::UnorderedElementsAre("resources.node_count", "resources.cpu_cores_per_process",
                                                              "resources.memory"));
  EXPECT_THAT(f.what(), ::testing::HasSubstr("resources.node_count: must be at most 1000000000"));
  // The largest counts accepted render on both backends.
  JobSpec big;
  big.executable = "true";
  big.resources.node_count = 1'000'000'000;
  big.resources.processes_per_node = 1'000'000'000;
  big.resources.cpu_cores_per_process = 1'000'000'000;
  big.resources.gpu_cores_per_process = 1'000'000'000;
  big.resources.memory = std::int64_t{1} << 60;
  auto slurm = psij::to_submission(big, slurm_site());
  EXPECT_EQ(slurm.memory_bytes, std::int64_t{1} << 60);
  auto pbs_site = slurm_site();
  pbs_site.scheduler = "pbs";
  auto pbs = pbs_submit_command(psij::to_submission(big, pbs_site), "/opt/pbs/bin/qsub");
  EXPECT_THAT(pbs.argv, ::testing::Contains(::testing::HasSubstr("mpiprocs=1000000000")));
}

TEST(Psij, StandardStreamsMayBeDiscardedNothingElseLeavesTheFileSystems) {
  JobSpec spec;
  spec.executable = "true";
  spec.stdout_path = "/dev/null";
  spec.stderr_path = "/dev/null";
  spec.stdin_path = "/dev/null";
  auto job = psij::to_submission(spec, slurm_site());
  EXPECT_EQ(job.standard_output, "/dev/null");
  spec.directory = "/dev/null";
  spec.pre_launch = "/dev/null";
  EXPECT_THAT(field_names(refusal(spec)), ::testing::UnorderedElementsAre("directory", "pre_launch"));
}

TEST(Psij, NulBytesAreRefusedNotTruncated) {
  JobSpec spec;
  spec.executable = "/bin/echo";
  spec.arguments = {"ok", std::string("a\0b", 3)};
  spec.name = std::string("x\0", 2);
  EXPECT_THAT(field_names(refusal(spec)), ::testing::UnorderedElementsAre("arguments.1", "name"));
}

TEST(Psij, SrunNeedsSlurmAndPbsRendersResources) {
  auto site = slurm_site();
  site.scheduler = "pbs";
  JobSpec spec;
  spec.executable = "true";
  spec.launcher = "srun";
  EXPECT_THAT(field_names(refusal(spec, site)), ::testing::ElementsAre("launcher"));
  spec.launcher = "mpirun";
  spec.resources.node_count = 2;
  spec.resources.processes_per_node = 4;
  spec.resources.cpu_cores_per_process = 2;
  spec.attributes.custom_attributes = {{"pbs.place", "scatter"}, {"slurm.constraint", "gpu"}};
  auto job = psij::to_submission(spec, site);
  auto argv = pbs_submit_command(job, "/opt/pbs/bin/qsub").argv;
  EXPECT_THAT(argv, ::testing::IsSupersetOf({std::string("select=2:ncpus=8:mpiprocs=4"), std::string("place=excl"),
                                             std::string("place=scatter")}));
  EXPECT_THAT(argv, ::testing::Not(::testing::Contains(std::string("gpu"))));
}

Job job_in(std::string state, std::optional<std::string> reason = {}, std::optional<std::int64_t> exit = {}) {
  Job j;
  j.job_id = "42";
  j.status.state = std::move(state);
  j.status.state_reason = std::move(reason);
  j.status.exit_code = exit;
  j.time.start = 100;
  j.time.end = 200;
  return j;
}

TEST(Psij, States) {
  EXPECT_EQ(psij::status_of(job_in("PENDING", "Resources")).state, "queued");
  EXPECT_EQ(psij::status_of(job_in("PENDING", "BeginTime")).message, "PENDING (BeginTime)");
  EXPECT_EQ(psij::status_of(job_in("PENDING", "JobHeldUser")).state, "held");
  EXPECT_EQ(psij::status_of(job_in("PENDING", "JobHeldAdmin")).state, "held");
  EXPECT_EQ(psij::status_of(job_in("PENDING", "JobHeld")).state, "held");  // PBS's H
  EXPECT_EQ(psij::status_of(job_in("REQUEUE_HOLD")).state, "held");
  EXPECT_EQ(psij::status_of(job_in("RUNNING")).state, "active");
  EXPECT_EQ(psij::status_of(job_in("RUNNING")).time, 100);
  EXPECT_EQ(psij::status_of(job_in("COMPLETING")).state, "active");
  auto done = psij::status_of(job_in("COMPLETED", "None", 0));
  EXPECT_EQ(done.state, "completed");
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(done.message, "COMPLETED");
  EXPECT_EQ(done.time, 200);
  EXPECT_EQ(psij::status_of(job_in("COMPLETED", {}, 3)).state, "failed");  // PBS reports a non-zero exit so
  for (const char* s : {"FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"})
    EXPECT_EQ(psij::status_of(job_in(s)).state, "failed") << s;
  EXPECT_EQ(psij::status_of(job_in("TIMEOUT")).message, "TIMEOUT");
  EXPECT_EQ(psij::status_of(job_in("CANCELLED")).state, "canceled");
  EXPECT_TRUE(psij::is_final(psij::status_of(job_in("CANCELLED"))));
  EXPECT_FALSE(psij::is_final(psij::status_of(job_in("PENDING"))));
}

TEST(Psij, SpecOfAJobSubmittedByOtherMeansAndUpdates) {
  Job j = job_in("PENDING");
  j.name = "firecrest job";
  j.working_directory = "/home/alice";
  j.partition = "normal";
  j.account = "climate";
  j.time.limit = 600;
  j.allocation_nodes = 1;
  auto spec = psij::spec_from_job(j);
  EXPECT_FALSE(spec.executable);
  EXPECT_EQ(spec.name, "firecrest job");
  EXPECT_EQ(spec.attributes.duration, 600);
  EXPECT_EQ(spec.attributes.queue_name, "normal");
  EXPECT_EQ(spec.resources.node_count, 1);
  Job unknown = job_in("PENDING");
  unknown.time.limit = 0;  // slurmrestd's answer for a job without its own limit
  unknown.account = "";
  EXPECT_FALSE(psij::spec_from_job(unknown).attributes.duration);
  EXPECT_FALSE(psij::spec_from_job(unknown).attributes.account);
  auto u = psij::update_of(spec);
  EXPECT_EQ(scontrol_update_command("42", u).argv,
            (Argv{"scontrol", "update", "JobId=42", "JobName=firecrest job", "Account=climate", "Partition=normal",
                  "TimeLimit=00:10:00"}));
}

TEST(SchedulerUpdate, SlurmRunsScontrolUpdateAndMapsItsRefusals) {
  SlurmCli slurm;
  FakeRunner runner;
  JobUpdate u;
  u.name = "new 'name' $(x)";
  u.time_limit = std::chrono::seconds(3600);
  runner.answer("");
  await(slurm.update(runner, "42", u));
  EXPECT_EQ(runner.argvs(), (std::vector<Argv>{{"scontrol", "update", "JobId=42", "JobName=new 'name' $(x)",
                                                "TimeLimit=01:00:00"}}));
  runner.answer("", 1, golden("update/scontrol_update_running.stderr"));
  EXPECT_EQ(failure_of(slurm.update(runner, "123", u)).kind(), core::ErrorKind::conflict);
  runner.answer("", 1, golden("update/scontrol_update_bad_partition.stderr"));
  EXPECT_EQ(failure_of(slurm.update(runner, "122", u)).kind(), core::ErrorKind::bad_request);
  runner.answer("", 1, golden("update/scontrol_update_bad_account.stderr"));
  auto f = failure_of(slurm.update(runner, "118", u));
  EXPECT_EQ(f.kind(), core::ErrorKind::forbidden);
  EXPECT_THAT(f.what(), ::testing::HasSubstr("Invalid account"));
}

TEST(SchedulerUpdate, PbsRunsQalterAndCannotMoveQueues) {
  JobUpdate u;
  u.name = "n";
  u.account = "climate";
  u.time_limit = std::chrono::seconds(90);
  EXPECT_EQ(qalter_command("7.pbs", u).argv,
            (Argv{"qalter", "-N", "n", "-A", "climate", "-l", "walltime=00:01:30", "7.pbs"}));
  u.partition = "workq";
  try {
    qalter_command("7.pbs", u);
    ADD_FAILURE() << "queue change accepted";
  } catch (const core::Failure& f) {
    EXPECT_EQ(f.kind(), core::ErrorKind::not_implemented);
  }
}

TEST(Submission, LiteralPathsKeepPercentSigns) {
  EXPECT_EQ(sbatch_literal_path("/home/a/%j%%.out"), "/home/a/%%j%%%%.out");
  EXPECT_EQ(sbatch_literal_path("/home/a/back\\slash%j"), "/home/a/back\\slash%j");  // sbatch expands nothing there
}

}  // namespace
}  // namespace portico::scheduler
