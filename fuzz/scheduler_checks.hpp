#pragma once
// Properties every job and node a scheduler parser returns must have, whatever the tool
// printed: shared by the scheduler fuzz targets.

#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "scheduler/job_model.hpp"
#include "scheduler/model.hpp"

namespace portico::fuzz {

inline void check_jobs(const std::vector<scheduler::Job>& jobs) {
  for (const auto& job : jobs) {
    FUZZ_CHECK(!job.job_id.empty());
    FUZZ_CHECK(!job.status.state.empty());
    for (const auto& task : job.tasks) FUZZ_CHECK(!task.id.empty());
    if (job.time.limit) FUZZ_CHECK(*job.time.limit >= 0);
  }
}

inline void check_nodes(const std::vector<scheduler::Node>& nodes) {
  for (const auto& node : nodes) FUZZ_CHECK(!node.name.empty());
}

}  // namespace portico::fuzz
