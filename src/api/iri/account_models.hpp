#pragma once
// The JSON mapping of the caller's accounts and storage, for both versions: projects, project
// and user allocations (v1 units as names, v2 as URNs), storage locations and access endpoints.
// The values are the routes' views (project_routes.cpp, storage_routes.cpp) of what the
// scheduler and the cluster said; nothing here asks anything.

#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "api/iri/models.hpp"

namespace portico::api::iri {

struct ProjectView {
  std::string id;
  std::string name;
  std::string description;
  std::vector<std::string> user_ids;
  core::Millis last_modified = 0;
};

struct AllocationEntryView {
  double allocation = 0;
  double usage = 0;
  facility::Unit unit = facility::Unit::node_hours;
};

struct ProjectAllocationView {
  std::string id;
  std::string project_id;
  std::string capability_id;
  std::string resource_id;  // the resource the capability allocates on
  std::vector<AllocationEntryView> entries;
};

struct UserAllocationView {
  std::string id;
  std::string user_id;
  std::string project_id;
  std::string project_allocation_id;
  std::vector<AllocationEntryView> entries;
};

struct StorageLocationView {
  std::string logical_name;
  std::string path;
  std::string filesystem;
  bool shared = false;
  bool read = false, write = false, execute = false;
};

struct AccessEndpointView {
  std::string id;
  std::string resource_id;
  std::string display_name;
  std::string bucket;
  std::string region;
  std::string endpoint_url;
};

std::string project_uri(const Links& links, const std::string& project_id);
std::string project_allocation_uri(const Links& links, const std::string& project_id, const std::string& allocation_id);
std::string user_allocation_uri(const Links& links, const std::string& project_id, const std::string& allocation_id,
                                const std::string& user_allocation_id);

boost::json::object to_json(const ProjectView& p, const Links& links);
boost::json::object to_json(const ProjectAllocationView& a, const Links& links);
boost::json::object to_json(const UserAllocationView& a, const Links& links);
boost::json::object to_json(const StorageLocationView& l);
boost::json::object to_json(const AccessEndpointView& e);

}  // namespace portico::api::iri
