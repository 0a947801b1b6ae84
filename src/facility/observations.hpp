#pragma once
// What one round of a cluster's health checker says about the facility's resources.

#include <string>
#include <vector>

#include "facility/model.hpp"
#include "facility/status_book.hpp"
#include "status/health.hpp"

namespace portico::facility {

// The statuses of the resources of `cluster` (and of the S3 staging service when with_s3) in
// one health round; empty before the first round ends. A service the checker does not probe
// (no probe user) is unknown.
std::vector<Observation> observations_from(const Model& model, const std::string& cluster,
                                           const status::ClusterHealth& health, bool with_s3);

// The resources whose status needs no probe: the gateway (up while it runs) and the extra
// resources with a fixed status.
std::vector<Observation> fixed_observations(const Model& model);

}  // namespace portico::facility
