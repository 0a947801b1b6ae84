#include "api/iri/models.hpp"

#include <boost/json.hpp>

namespace portico::api::iri {

namespace json = boost::json;
using facility::ResourceType;
using facility::Unit;

namespace {

json::value text_or_null(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }
json::value number_or_null(const std::optional<double>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::array uris(const std::vector<std::string>& ids, std::string (Links::*link)(const std::string&) const,
                 const Links& links) {
  json::array out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(json::value((links.*link)(id)));
  return out;
}

}  // namespace

std::string resource_type_text(ResourceType type, Version version) {
  if (version == Version::v1) return facility::to_string(type);
  switch (type) {
    case ResourceType::compute: return "urn:doe-iri:resource:compute";
    case ResourceType::storage: return "urn:doe-iri:resource:storage";
    case ResourceType::system: return "urn:doe-iri:resource:system";
    case ResourceType::network: return "urn:doe-iri:resource:network";
    case ResourceType::website: return "urn:doe-iri:service:website";
    case ResourceType::service: return "urn:doe-iri:service:generic";
    case ResourceType::unknown: return "urn:doe-iri:resource:unknown";
  }
  return "urn:doe-iri:resource:unknown";
}

std::string unit_text(Unit unit, Version version) {
  if (version == Version::v1) return facility::to_string(unit);
  switch (unit) {
    case Unit::node_hours: return "urn:doe-iri:allocation:compute:node-hours";
    case Unit::bytes: return "urn:doe-iri:allocation:storage:bytes";
    case Unit::inodes: return "urn:doe-iri:allocation:storage:inodes";
  }
  return "urn:doe-iri:allocation:storage:bytes";
}

core::Millis resource_last_modified(const facility::Model& model, const facility::Snapshot& status,
                                    const facility::Resource& resource) {
  return std::max(model.last_modified, status.last_change(resource.id));
}

json::object to_json(const facility::Model& model, const facility::Facility& f, const Links& links) {
  return json::object{{"id", f.id},
                      {"name", f.name},
                      {"description", text_or_null(f.description)},
                      {"last_modified", core::format_rfc3339(model.last_modified)},
                      {"short_name", text_or_null(f.short_name)},
                      {"organization_name", text_or_null(f.organization)},
                      {"support_uri", text_or_null(f.support_url)},
                      {"self_uri", links.facility()},
                      {"site_uris", uris(f.site_ids, &Links::site, links)}};
}

json::object to_json(const facility::Model& model, const facility::Site& s, const Links& links) {
  return json::object{{"id", s.id},
                      {"name", s.name},
                      {"description", text_or_null(s.description)},
                      {"last_modified", core::format_rfc3339(model.last_modified)},
                      {"short_name", text_or_null(s.short_name)},
                      {"operating_organization", text_or_null(s.operating_organization)},
                      {"country_name", text_or_null(s.country_name)},
                      {"locality_name", text_or_null(s.locality_name)},
                      {"state_or_province_name", text_or_null(s.state_or_province_name)},
                      {"street_address", text_or_null(s.street_address)},
                      {"unlocode", text_or_null(s.unlocode)},
                      {"altitude", number_or_null(s.altitude)},
                      {"latitude", number_or_null(s.latitude)},
                      {"longitude", number_or_null(s.longitude)},
                      {"self_uri", links.site(s.id)},
                      {"resource_uris", uris(s.resource_ids, &Links::resource, links)}};
}

json::object to_json(const facility::Model& model, const facility::Snapshot& status, const facility::Resource& r,
                     const Links& links) {
  json::array endpoints;
  if (r.compute_endpoint) endpoints.push_back("compute");
  if (r.filesystem_endpoint) endpoints.push_back("filesystem");
  return json::object{{"id", r.id},
                      {"name", r.name},
                      {"description", text_or_null(r.description)},
                      {"last_modified", core::format_rfc3339(resource_last_modified(model, status, r))},
                      {"group", text_or_null(r.group)},
                      {"current_status", facility::to_string(status.current_status(r.id))},
                      {"resource_type", resource_type_text(r.type, links.version)},
                      {"supported_endpoints", std::move(endpoints)},
                      {"self_uri", links.resource(r.id)},
                      {"site_uri", links.site(r.site_id)},
                      {"capability_uris", uris(r.capability_ids, &Links::capability, links)}};
}

json::object to_json(const facility::Model& model, const facility::Capability& c, const Links& links) {
  json::array units;
  for (auto u : c.units) units.push_back(json::value(unit_text(u, links.version)));
  return json::object{{"id", c.id},
                      {"name", c.name},
                      {"description", text_or_null(c.description)},
                      {"last_modified", core::format_rfc3339(model.last_modified)},
                      {"units", std::move(units)},
                      {"self_uri", links.capability(c.id)}};
}

json::object to_json(const facility::Incident& i, const Links& links) {
  return json::object{{"id", i.id},
                      {"name", text_or_null(i.name)},
                      {"description", text_or_null(i.description)},
                      {"last_modified", core::format_rfc3339(i.last_modified)},
                      {"status", facility::to_string(i.status)},
                      {"start", core::format_rfc3339(i.start)},
                      {"end", i.end ? json::value(core::format_rfc3339(*i.end)) : json::value(nullptr)},
                      {"type", facility::to_string(i.type)},
                      {"resolution", facility::to_string(i.resolution)},
                      {"self_uri", links.incident(i.id)},
                      {"event_uris", uris(i.event_ids, &Links::event, links)},
                      {"resource_uris", uris(i.resource_ids, &Links::resource, links)}};
}

json::object to_json(const facility::Event& e, const Links& links) {
  return json::object{{"id", e.id},
                      {"name", text_or_null(e.name)},
                      {"description", text_or_null(e.description)},
                      {"last_modified", core::format_rfc3339(e.last_modified)},
                      {"occurred_at", core::format_rfc3339(e.occurred_at)},
                      {"status", facility::to_string(e.status)},
                      {"self_uri", links.event(e.id)},
                      {"resource_uri", links.resource(e.resource_id)},
                      {"incident_uri", e.incident_id.empty() ? json::value(nullptr) : json::value(links.incident(e.incident_id))}};
}

}  // namespace portico::api::iri
