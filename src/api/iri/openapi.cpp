// GET /api/vN (the domains served) and /api/vN/openapi.json: Portico's own OpenAPI 3.1 document,
// written from the route table, so it lists what is really served.
#include <boost/json.hpp>

#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"

namespace portico::api::iri {

namespace json = boost::json;
using http::Verb;

namespace {

json::object ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json::object nullable(json::object schema) { return {{"anyOf", json::array{std::move(schema), json::object{{"type", "null"}}}}}; }
json::object str() { return {{"type", "string"}}; }
json::object date_time() { return {{"type", "string"}, {"format", "date-time"}}; }
json::object strings() { return {{"type", "array"}, {"items", str()}}; }
json::object enumeration(std::initializer_list<const char*> values) {
  json::array e;
  for (auto v : values) e.push_back(json::value(v));
  return {{"type", "string"}, {"enum", std::move(e)}};
}

// An object schema: properties in order, the required ones, extra properties allowed.
json::object object(std::initializer_list<std::pair<const char*, json::object>> properties,
                    std::initializer_list<const char*> required, bool v2) {
  json::object props;
  if (v2) props["attributes"] = nullable(json::object{{"type", "object"}, {"additionalProperties", true}});
  for (const auto& [name, schema] : properties) props[name] = schema;
  json::array req;
  for (auto r : required) req.push_back(json::value(r));
  return {{"type", "object"}, {"properties", std::move(props)}, {"required", std::move(req)}, {"additionalProperties", true}};
}

json::object schemas(Version version) {
  const bool v2 = version == Version::v2;
  auto ro = [](json::object s) {
    s["readOnly"] = true;
    return s;
  };
  json::object status = enumeration({"up", "down", "degraded", "unknown"});
  json::object resource_type = v2 ? json::object{{"type", "string"}, {"pattern", "^urn:doe-iri:"}}
                                  : enumeration({"website", "service", "compute", "system", "storage", "network", "unknown"});
  json::object unit = v2 ? json::object{{"type", "string"}, {"pattern", "^urn:doe-iri:allocation:"}}
                         : enumeration({"node_hours", "bytes", "inodes"});
  json::object out;
  out["Status"] = status;
  out["Facility"] = object({{"id", str()}, {"name", nullable(str())}, {"description", nullable(str())},
                            {"last_modified", date_time()}, {"short_name", nullable(str())},
                            {"organization_name", nullable(str())},
                            {"support_uri", nullable(json::object{{"type", "string"}, {"format", "uri"}})},
                            {"self_uri", ro(str())}, {"site_uris", ro(strings())}},
                           {"id", "last_modified", "self_uri", "site_uris"}, v2);
  json::object number = {{"type", "number"}};
  out["Site"] = object({{"id", str()}, {"name", nullable(str())}, {"description", nullable(str())},
                        {"last_modified", date_time()}, {"short_name", nullable(str())},
                        {"operating_organization", nullable(str())}, {"country_name", nullable(str())},
                        {"locality_name", nullable(str())}, {"state_or_province_name", nullable(str())},
                        {"street_address", nullable(str())}, {"unlocode", nullable(str())},
                        {"altitude", nullable(number)}, {"latitude", nullable(number)}, {"longitude", nullable(number)},
                        {"self_uri", ro(str())}, {"resource_uris", ro(strings())}},
                       {"id", "last_modified", "operating_organization", "self_uri", "resource_uris"}, v2);
  out["Resource"] = object({{"id", str()}, {"name", nullable(str())}, {"description", nullable(str())},
                            {"last_modified", date_time()}, {"group", nullable(str())},
                            {"current_status", nullable(ref("Status"))}, {"resource_type", resource_type},
                            {"supported_endpoints", json::object{{"type", "array"}, {"items", enumeration({"compute", "filesystem"})}}},
                            {"self_uri", ro(str())}, {"site_uri", ro(str())}, {"capability_uris", ro(strings())}},
                           {"id", "last_modified", "resource_type", "self_uri", "site_uri", "capability_uris"}, v2);
  out["Capability"] = object({{"id", str()}, {"name", nullable(str())}, {"description", nullable(str())},
                              {"last_modified", nullable(date_time())},
                              {"units", json::object{{"type", "array"}, {"items", unit}}}, {"self_uri", ro(str())}},
                             {"id", "units", "self_uri"}, v2);
  out["Incident"] = object({{"id", str()}, {"name", nullable(str())}, {"description", nullable(str())},
                            {"last_modified", date_time()}, {"status", ref("Status")}, {"start", date_time()},
                            {"end", nullable(date_time())}, {"type", enumeration({"planned", "unplanned", "reservation"})},
                            {"resolution", enumeration({"unresolved", "cancelled", "completed", "extended", "pending"})},
                            {"self_uri", ro(str())}, {"event_uris", ro(strings())}, {"resource_uris", ro(strings())}},
                           {"id", "last_modified", "status", "start", "type", "resolution", "self_uri", "event_uris",
                            "resource_uris"},
                           v2);
  out["Event"] = object({{"id", str()}, {"name", nullable(str())}, {"description", nullable(str())},
                         {"last_modified", date_time()}, {"occurred_at", date_time()}, {"status", ref("Status")},
                         {"self_uri", ro(str())}, {"resource_uri", ro(str())}, {"incident_uri", ro(nullable(str()))}},
                        {"id", "last_modified", "occurred_at", "status", "self_uri", "resource_uri", "incident_uri"}, v2);
  out["InvalidParam"] = object({{"name", str()}, {"reason", str()}}, {"name", "reason"}, false);
  out["Problem"] = object({{"type", json::object{{"type", "string"}, {"format", "uri"}}},
                           {"title", nullable(str())}, {"status", json::object{{"type", "integer"}}},
                           {"detail", nullable(str())}, {"instance", str()},
                           {"invalid_params", json::object{{"type", "array"}, {"items", ref("InvalidParam")}}}},
                          {"type", "status", "instance"}, false);
  return out;
}

json::object param_schema(const Param& p) {
  json::object s;
  switch (p.kind) {
    case ParamKind::text: s = {{"type", "string"}, {"minLength", 1}}; break;
    case ParamKind::uuid: s = {{"type", "string"}, {"format", "uuid"}}; break;
    case ParamKind::integer:
      s = {{"type", "integer"}, {"minimum", p.min}};
      if (p.max < 1'000'000'000) s["maximum"] = p.max;
      if (p.default_value) s["default"] = *p.default_value;
      break;
    case ParamKind::date_time: s = date_time(); break;
    case ParamKind::choice: {
      json::array e;
      for (const auto& c : p.choices) e.push_back(json::value(c));
      s = {{"type", "string"}, {"enum", std::move(e)}};
      break;
    }
    case ParamKind::urn: s = {{"type", "string"}, {"pattern", "^" + p.urn_prefix}}; break;
  }
  if (p.list) return {{"type", "array"}, {"items", std::move(s)}, {"minItems", 1}};
  return s;
}

json::object problem_response(const char* description) {
  return {{"description", description},
          {"content", json::object{{"application/problem+json", json::object{{"schema", ref("Problem")}}}}}};
}

json::object operation(const Api::Entry& e) {
  const auto& r = e.route;
  json::object op;
  op["operationId"] = r.operation_id;
  op["tags"] = json::array{json::value(r.tag)};
  op["summary"] = r.summary;
  json::array params;
  // Path parameters, from the template.
  std::string_view pattern = e.pattern;
  std::size_t pos = 0;
  while ((pos = pattern.find('{', pos)) != std::string_view::npos) {
    auto end = pattern.find('}', pos);
    std::string name(pattern.substr(pos + 1, end - pos - 1));
    params.push_back(json::object{{"name", name}, {"in", "path"}, {"required", true},
                                  {"schema", json::object{{"type", "string"}, {"format", "uuid"}}}});
    pos = end;
  }
  for (const auto& p : r.params)
    params.push_back(json::object{{"name", p.name}, {"in", "query"}, {"required", false},
                                  {"description", p.description}, {"schema", param_schema(p)}});
  if (!params.empty()) op["parameters"] = std::move(params);
  json::object body = r.list ? json::object{{"type", "array"}, {"items", ref(r.response_schema)}} : ref(r.response_schema);
  json::object responses;
  responses["200"] = json::object{{"description", "Success"},
                                  {"headers", json::object{{"Last-Modified", json::object{{"schema", str()}}}}},
                                  {"content", json::object{{"application/json", json::object{{"schema", body}}}}}};
  if (e.verb == Verb::get) responses["304"] = json::object{{"description", "Not modified since the time given"}};
  responses["400"] = problem_response("Invalid parameters");
  responses["401"] = problem_response("A token was sent and is not valid");
  responses["404"] = problem_response("No such object");
  responses["405"] = problem_response("Method not allowed");
  responses["500"] = problem_response("Internal error");
  op["responses"] = std::move(responses);
  if (r.token) op["security"] = json::array{json::object{{"HTTPBearer", json::array{}}}};
  return op;
}

}  // namespace

json::object Api::openapi(Version version, const std::string& server) const {
  const bool v2 = version == Version::v2;
  json::object paths;
  const std::string prefix = v2 ? "/api/v2" : "/api/v1";
  for (const auto& e : entries_) {
    if (e.route.operation_id.empty() || !(static_cast<int>(e.versions) & static_cast<int>(version))) continue;
    auto path = prefix + e.pattern;
    auto& item = paths[path];
    if (!item.is_object()) item = json::object{};
    std::string verb(http::bhttp::to_string(e.verb));
    std::transform(verb.begin(), verb.end(), verb.begin(), ::tolower);
    item.as_object()[verb] = operation(e);
  }
  json::object doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = json::object{{"title", "Portico: " + config_.facility.name + " (IRI Facility API)"},
                             {"version", v2 ? "2.0.0" : "1.0.0"},
                             {"description", "The IRI Facility API operations this gateway serves."}};
  if (!server.empty()) doc["servers"] = json::array{json::object{{"url", server}}};
  doc["paths"] = std::move(paths);
  doc["components"] = json::object{
      {"schemas", schemas(version)},
      {"securitySchemes", json::object{{"HTTPBearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}}};
  return doc;
}

void add_meta_routes(Api& api) {
  Api* self = &api;
  api.add(Versions::both, Verb::get, "/",
          {"", "meta", "The domains this API serves", {}, "", false, false, false, "", [self](Call& c) {
             json::array domains;
             for (auto [name, path] : {std::pair{"facility", "/facility"}, {"status", "/status/resources"},
                                       {"account", "/account/capabilities"}, {"compute", "/compute/resources"},
                                       {"filesystem", "/filesystem/resources"}})
               domains.push_back(json::object{{"name", name}, {"uri", c.links.base + path}});
             return Reply{json::object{{"api_version", c.version == Version::v2 ? "2.0.0" : "1.0.0"},
                                       {"domains", std::move(domains)},
                                       {"openapi_uri", c.links.base + "/openapi.json"}},
                          self->model().last_modified};
           }});
  api.add(Versions::both, Verb::get, "/openapi.json",
          {"", "meta", "This OpenAPI document", {}, "", false, false, false, "", [self](Call& c) {
             auto origin = c.links.base.substr(0, c.links.base.size() - 7);
             return Reply{self->openapi(c.version, origin), self->model().last_modified};
           }});
}

}  // namespace portico::api::iri
