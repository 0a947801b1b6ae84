#include "scheduler/refusal.hpp"

#include <gtest/gtest.h>

using namespace portico;
using core::ErrorKind;
using scheduler::slurm_refusal;

// Each stderr text below was printed by Slurm 22.05.8 on the demo site (2026-11-24), as alice or
// bob through runuser: sbatch with a foreign account, an unknown partition, reservation and
// feature; scancel of a job of another user; scontrol show job and srun --jobid of no job.
TEST(SlurmRefusal, MapsTheSchedulersWordsToClientErrors) {
  struct Case {
    const char* err;
    ErrorKind kind;
    const char* message;
  } cases[] = {
      {"sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n",
       ErrorKind::forbidden, "Batch job submission failed: Invalid account or account/partition combination specified"},
      {"sbatch: error: invalid partition specified: nosuch\nsbatch: error: Batch job submission failed: Invalid partition name specified\n",
       ErrorKind::bad_request, "invalid partition specified: nosuch"},
      {"sbatch: error: Batch job submission failed: Requested reservation is invalid\n", ErrorKind::bad_request,
       "Batch job submission failed: Requested reservation is invalid"},
      {"sbatch: error: Batch job submission failed: Invalid feature specification\n", ErrorKind::bad_request,
       "Batch job submission failed: Invalid feature specification"},
      {"scancel: error: Kill job error on job id 14: Access/permission denied\n", ErrorKind::forbidden,
       "Kill job error on job id 14: Access/permission denied"},
      {"slurm_load_jobs error: Invalid job id specified\n", ErrorKind::not_found, "Job not found: Invalid job id specified"},
      {"srun: error: Unable to confirm allocation for job 999999: Invalid job id specified\n"
       "srun: Check SLURM_JOB_ID environment variable. Expired or invalid job 999999\n",
       ErrorKind::not_found, "Job not found: Unable to confirm allocation for job 999999: Invalid job id specified"},
  };
  for (const auto& c : cases) {
    auto f = slurm_refusal(c.err);
    ASSERT_TRUE(f) << c.err;
    EXPECT_EQ(f->kind(), c.kind) << c.err;
    EXPECT_STREQ(f->what(), c.message);
  }
  EXPECT_FALSE(slurm_refusal("sbatch: error: Unable to contact slurm controller (connect failure)\n"));
  EXPECT_FALSE(slurm_refusal(""));
}

TEST(SlurmRefusal, AcceptedOutputFallsBackToTheGeneralClassification) {
  core::CommandResult ok;
  ok.exit_status = 0;
  ok.out = "123\n";
  EXPECT_EQ(scheduler::accepted_output(ok, "sbatch"), "123\n");
  core::CommandResult refused;
  refused.exit_status = 1;
  refused.err = "scancel: error: Kill job error on job id 14: Access/permission denied\n";
  try {
    scheduler::accepted_output(refused, "scancel");
    FAIL();
  } catch (const core::Failure& f) {
    EXPECT_EQ(f.kind(), ErrorKind::forbidden);
  }
  core::CommandResult down;
  down.exit_status = 1;
  down.err = "sbatch: error: Unable to contact slurm controller (connect failure)\n";
  try {
    scheduler::accepted_output(down, "sbatch");
    FAIL();
  } catch (const core::Failure& f) {
    EXPECT_EQ(f.kind(), ErrorKind::backend_unreachable);
  }
}
