// /admin/incidents: planned maintenance, declared by the facility's operators (facility.operators).
// Portico's own operations: not part of the IRI documents, so not in the generated OpenAPI one.
#include <boost/json.hpp>

#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"

namespace portico::api::iri {

namespace json = boost::json;
using http::Verb;

namespace {

std::string text_field(const json::object& body, const char* name, bool required, std::vector<core::FieldError>& errors) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) {
    if (required) errors.push_back({"body", name, "is required"});
    return {};
  }
  if (!it->value().is_string()) {
    errors.push_back({"body", name, "expected a string"});
    return {};
  }
  return std::string(it->value().as_string());
}

core::Millis time_field(const json::object& body, const char* name, std::vector<core::FieldError>& errors) {
  auto text = text_field(body, name, true, errors);
  if (text.empty()) return 0;
  auto t = core::parse_rfc3339(text);
  if (!t) errors.push_back({"body", name, "expected an RFC 3339 date-time with a zone"});
  return t.value_or(0);
}

// Reads {name, description, status, start, end, resource_ids} (resources by id or name).
facility::PlannedIncident planned_from_json(std::string_view text) {
  json::value doc;
  boost::system::error_code ec;
  doc = json::parse(text, ec);
  if (ec || !doc.is_object()) throw core::validation_error("body", "body", "expected a JSON object");
  const auto& body = doc.as_object();
  std::vector<core::FieldError> errors;
  facility::PlannedIncident p;
  p.name = text_field(body, "name", true, errors);
  p.description = text_field(body, "description", false, errors);
  auto status = text_field(body, "status", false, errors);
  if (!status.empty()) {
    auto s = facility::parse_status(status);
    if (!s) errors.push_back({"body", "status", "expected down, degraded or unknown"});
    else p.status = *s;
  }
  p.start = time_field(body, "start", errors);
  p.end = time_field(body, "end", errors);
  auto ids = body.find("resource_ids");
  if (ids == body.end() || !ids->value().is_array()) {
    errors.push_back({"body", "resource_ids", "expected a list of resource ids or names"});
  } else {
    for (const auto& v : ids->value().as_array()) {
      if (!v.is_string()) errors.push_back({"body", "resource_ids", "expected strings"});
      else p.resource_ids.emplace_back(v.as_string());
    }
  }
  for (const auto& [key, value] : body) {
    static const std::vector<std::string> known = {"name", "description", "status", "start", "end", "resource_ids"};
    if (std::find(known.begin(), known.end(), std::string(key)) == known.end())
      errors.push_back({"body", std::string(key), "unknown field"});
  }
  if (!errors.empty()) {
    std::string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "; ") + e.name + ": " + e.message;
    throw core::Failure(core::ErrorKind::validation, message, {}, std::move(errors));
  }
  return p;
}

}  // namespace

void add_admin_routes(Api& api) {
  Api* self = &api;
  api.add(Versions::both, Verb::post, "/admin/incidents",
          {"", "admin", "Declare a planned incident", {}, "Incident", false, true, true, "PlannedIncident",
           [self](Call& c) {
             auto planned = planned_from_json(c.request.body());
             auto incident = self->book().declare(std::move(planned), core::now_millis());
             return Reply{to_json(incident, c.links), 0, http::Status::created};
           }});
  api.add(Versions::both, Verb::delete_, "/admin/incidents/{incident_id}",
          {"", "admin", "Cancel a planned incident", {}, "Incident", false, true, true, "", [self](Call& c) {
             auto incident = self->book().cancel(path_param(c, "incident_id"), core::now_millis());
             return Reply{to_json(incident, c.links), 0};
           }});
}

}  // namespace portico::api::iri
