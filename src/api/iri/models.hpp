#pragma once
// The one JSON mapping of each IRI model, for both versions of the API: v2 differs at the edge
// only (resource types and allocation units as URNs).

#include <boost/json/value.hpp>

#include <string>

#include "facility/model.hpp"
#include "facility/status_book.hpp"

namespace portico::api::iri {

enum class Version { v1 = 1, v2 = 2 };

// What a reply's links are made from: the absolute base of the API version that was asked,
// e.g. "https://api.example.org/api/v1".
struct Links {
  std::string base;
  Version version = Version::v1;
  std::string facility() const { return base + "/facility"; }
  std::string site(const std::string& id) const { return base + "/facility/sites/" + id; }
  std::string resource(const std::string& id) const { return base + "/status/resources/" + id; }
  std::string incident(const std::string& id) const { return base + "/status/incidents/" + id; }
  std::string event(const std::string& id) const { return base + "/status/events/" + id; }
  std::string capability(const std::string& id) const { return base + "/account/capabilities/" + id; }
};

// v1 names the types; v2 gives DOE IRI URNs.
std::string resource_type_text(facility::ResourceType type, Version version);
std::string unit_text(facility::Unit unit, Version version);

// The time a resource last changed: the facility's configuration, or its last event.
core::Millis resource_last_modified(const facility::Model& model, const facility::Snapshot& status,
                                    const facility::Resource& resource);

boost::json::object to_json(const facility::Model& model, const facility::Facility& f, const Links& links);
boost::json::object to_json(const facility::Model& model, const facility::Site& s, const Links& links);
boost::json::object to_json(const facility::Model& model, const facility::Snapshot& status,
                            const facility::Resource& r, const Links& links);
boost::json::object to_json(const facility::Model& model, const facility::Capability& c, const Links& links);
boost::json::object to_json(const facility::Incident& i, const Links& links);
boost::json::object to_json(const facility::Event& e, const Links& links);

}  // namespace portico::api::iri
