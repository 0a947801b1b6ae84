#include "scheduler/submission.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

using namespace portico::scheduler;

TEST(Submission, InlineScriptGoesOnStdinAndEveryValueIsItsOwnWord) {
  JobSubmission job;
  job.name = "it's a \"job\"; $(id)\n`x`";
  job.account = "climate";
  job.partition = "debug";
  job.working_directory = "/home/alice/my dir";
  job.standard_output = "out %j.txt";
  job.env = {{"GREETING", "hello, world\nline2"}, {"PATH", "/opt/x/bin"}};
  job.script = "#!/bin/bash\necho hi\n";
  auto c = sbatch_command(job, "/usr/bin/sbatch");
  std::vector<std::string> expected = {"env", "GREETING=hello, world\nline2", "PATH=/opt/x/bin", "/usr/bin/sbatch",
                                       "--parsable", "--chdir=/home/alice/my dir",
                                       "--job-name=it's a \"job\"; $(id)\n`x`", "--account=climate", "--partition=debug",
                                       "--output=out %j.txt"};
  EXPECT_EQ(c.argv, expected);
  EXPECT_EQ(c.stdin_data, "#!/bin/bash\necho hi\n");
}

TEST(Submission, ScriptPathIsAnOperandAfterDoubleDash) {
  JobSubmission job;
  job.working_directory = "/scratch/alice";
  job.script_path = "-weird name.sh";
  auto c = sbatch_command(job, "/usr/bin/sbatch");
  std::vector<std::string> expected = {"/usr/bin/sbatch", "--parsable", "--chdir=/scratch/alice", "--", "-weird name.sh"};
  EXPECT_EQ(c.argv, expected);
  EXPECT_TRUE(c.stdin_data.empty());
}

TEST(Submission, EnvironmentNames) {
  EXPECT_TRUE(valid_env_name("F7T_version"));
  EXPECT_TRUE(valid_env_name("_X1"));
  for (const char* bad : {"", "1X", "A-B", "A B", "A=B", "$(id)", "A;B"}) EXPECT_FALSE(valid_env_name(bad)) << bad;
}

TEST(Submission, ParsesSbatchParsableOutput) {
  EXPECT_EQ(parse_sbatch_parsable("123\n"), "123");
  EXPECT_EQ(parse_sbatch_parsable("456;hpc\n"), "456");
  EXPECT_THROW(parse_sbatch_parsable("sbatch: error: something\n"), portico::core::Failure);
  EXPECT_THROW(parse_sbatch_parsable(""), portico::core::Failure);
}

TEST(Submission, HeldWithATimeLimit) {
  JobSubmission job;
  job.working_directory = "/home/alice";
  job.script = "#!/bin/bash\ntrue\n";
  job.time_limit = std::chrono::seconds(90 * 60 + 1);
  job.hold = true;
  auto c = sbatch_command(job, "/usr/bin/sbatch");
  std::vector<std::string> expected = {"/usr/bin/sbatch", "--parsable", "--chdir=/home/alice", "--time=01:30:01",
                                       "--hold"};
  EXPECT_EQ(c.argv, expected);
}

TEST(Submission, TimeLimitsAsSlurmAndPbsWriteThem) {
  using std::chrono::seconds;
  EXPECT_EQ(slurm_time_limit(seconds(0)), "00:00:01");
  EXPECT_EQ(slurm_time_limit(seconds(59)), "00:00:59");
  EXPECT_EQ(slurm_time_limit(seconds(3600)), "01:00:00");
  EXPECT_EQ(slurm_time_limit(seconds(86400 + 3661)), "1-01:01:01");
  EXPECT_EQ(pbs_walltime(seconds(86400 + 3661)), "25:01:01");
  EXPECT_EQ(pbs_walltime(seconds(1800)), "00:30:00");
}
