#pragma once
// The one JSON mapping of each model for the FirecREST v2 API (camelCase, field names of the
// published contract). Pure functions.

#include <boost/json/value.hpp>

#include <chrono>
#include <vector>

#include "config/config.hpp"
#include "scheduler/job_model.hpp"
#include "scheduler/model.hpp"
#include "status/health.hpp"
#include "transfer/transfers.hpp"

namespace portico::api::firecrest {

boost::json::value to_json(const scheduler::Node& node);
boost::json::value to_json(const scheduler::Partition& partition);
boost::json::value to_json(const scheduler::Reservation& reservation);
boost::json::value to_json(const scheduler::UserInfo& info, const std::vector<scheduler::Account>& accounts);
boost::json::value to_json(const status::ServiceHealth& health);
boost::json::value to_json(const scheduler::Job& job);
boost::json::value to_json(const scheduler::JobMetadata& metadata);
// {"transferJob": {...}} and, for staging, "transferDirectives" with the same fields also at the
// top level (clients have read either place).
boost::json::object to_json(const transfer::TransferJob& job);
boost::json::object to_json(const transfer::StagedUpload& upload);
boost::json::object to_json(const transfer::StagedDownload& download);

// One entry of GET /status/systems: configuration that clients may know (never secrets or key
// material) and the latest health of each service.
// s3: the staging area, shown without its endpoint for the cluster side or any credential.
boost::json::value system_json(const config::Cluster& cluster, const status::ClusterHealth& health,
                               std::string_view scheduler_version, const std::optional<config::S3>& s3);

// RFC 3339 UTC with milliseconds, as the contract's date-time fields.
std::string iso8601(std::chrono::system_clock::time_point t);

}  // namespace portico::api::firecrest
