#include "api/iri/account_models.hpp"

#include <boost/json.hpp>

namespace portico::api::iri {

namespace json = boost::json;

namespace {

json::array entries_json(const std::vector<AllocationEntryView>& entries, const Links& links) {
  json::array out;
  for (const auto& e : entries)
    out.push_back(json::object{{"allocation", e.allocation}, {"usage", e.usage}, {"unit", unit_text(e.unit, links.version)}});
  return out;
}

}  // namespace

std::string project_uri(const Links& links, const std::string& project_id) {
  return links.base + "/account/projects/" + project_id;
}

std::string project_allocation_uri(const Links& links, const std::string& project_id, const std::string& allocation_id) {
  return project_uri(links, project_id) + "/project_allocations/" + allocation_id;
}

std::string user_allocation_uri(const Links& links, const std::string& project_id, const std::string& allocation_id,
                                const std::string& user_allocation_id) {
  return project_allocation_uri(links, project_id, allocation_id) + "/user_allocations/" + user_allocation_id;
}

json::object to_json(const ProjectView& p, const Links& links) {
  json::array users;
  for (const auto& u : p.user_ids) users.push_back(json::value(u));
  return json::object{{"id", p.id},
                      {"name", p.name},
                      {"description", p.description},
                      {"user_ids", std::move(users)},
                      {"last_modified", core::format_rfc3339(p.last_modified)},
                      {"self_uri", project_uri(links, p.id)}};
}

json::object to_json(const ProjectAllocationView& a, const Links& links) {
  return json::object{{"id", a.id},
                      {"entries", entries_json(a.entries, links)},
                      {"project_uri", project_uri(links, a.project_id)},
                      {"capability_uri", links.capability(a.capability_id)},
                      // Not in the documents' model (which leave it open): the resource allocated on.
                      {"resource_uri", links.resource(a.resource_id)},
                      {"self_uri", project_allocation_uri(links, a.project_id, a.id)}};
}

json::object to_json(const UserAllocationView& a, const Links& links) {
  return json::object{{"id", a.id},
                      {"user_id", a.user_id},
                      {"entries", entries_json(a.entries, links)},
                      {"project_allocation_uri", project_allocation_uri(links, a.project_id, a.project_allocation_id)},
                      {"self_uri", user_allocation_uri(links, a.project_id, a.project_allocation_id, a.id)}};
}

json::object to_json(const StorageLocationView& l) {
  return json::object{{"logical_name", l.logical_name},
                      {"path", l.path},
                      {"filesystem", l.filesystem},
                      {"performance_tier", nullptr},
                      {"purge_policy_days", nullptr},
                      {"shared", l.shared},
                      {"access", json::object{{"read", l.read}, {"write", l.write}, {"execute", l.execute}}}};
}

json::object to_json(const AccessEndpointView& e) {
  // Protocol-specific fields of the other protocols are left out, as the document asks.
  return json::object{{"id", e.id},
                      {"resource_id", e.resource_id},
                      {"protocol", "s3"},
                      {"display_name", e.display_name},
                      // Clients never hold the bucket's keys: Portico hands out presigned URLs
                      // (the transfer jobs' staging), each valid for one object and a while.
                      {"auth_type", "presigned_url"},
                      {"capabilities", json::array{"read", "write", "transfer"}},
                      {"bucket", e.bucket},
                      {"region", e.region},
                      {"endpoint_url", e.endpoint_url}};
}

}  // namespace portico::api::iri
