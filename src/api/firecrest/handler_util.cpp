#include "api/firecrest/handler_util.hpp"

#include <boost/json/serialize.hpp>

#include "core/error.hpp"

namespace portico::api::firecrest {

http::Response json_response(http::Status status, const boost::json::value& body) {
  http::Response res{status, 11};
  res.set(http::bhttp::field::content_type, "application/json");
  res.body() = boost::json::serialize(body);
  return res;
}

http::Response empty_response(http::Status status) { return http::Response{status, 11}; }

void require_up(cluster::Cluster& cluster, status::ServiceType type) {
  if (!cluster.health().is_down(type)) return;
  std::string message;
  for (const auto& s : cluster.health().snapshot()->services)
    if (s.type == type && !s.healthy) message = s.message;
  throw core::Failure(core::ErrorKind::unavailable, std::string("the ") + status::to_string(type) + " service of system '" +
                                                        cluster.name() + "' is down: " + message);
}

}  // namespace portico::api::firecrest
