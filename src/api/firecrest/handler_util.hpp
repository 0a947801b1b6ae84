#pragma once
// Small helpers shared by the FirecREST route handlers.

#include <boost/json/value.hpp>

#include "cluster/cluster.hpp"
#include "http/types.hpp"
#include "status/health.hpp"

namespace portico::api::firecrest {

// A JSON reply with the given status.
http::Response json_response(http::Status status, const boost::json::value& body);

// An empty reply (204, or another status without a body).
http::Response empty_response(http::Status status);

// Dependent endpoints answer 503 at once when the health checker already knows the backend is
// down, instead of each request waiting for its own timeout.
void require_up(cluster::Cluster& cluster, status::ServiceType type);

}  // namespace portico::api::firecrest
