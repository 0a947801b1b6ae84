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
  // PSI/J jobs (compute_routes.cpp).
  json::object integer1 = {{"type", "integer"}, {"minimum", 1}};
  json::object text1 = {{"type", "string"}, {"minLength", 1}};
  json::object string_map = {{"type", "object"}, {"additionalProperties", str()}};
  out["JobState"] = enumeration({"new", "queued", "held", "active", "completed", "failed", "canceled"});
  out["VolumeMount"] = object({{"source", text1}, {"target", text1}, {"read_only", json::object{{"type", "boolean"}}}},
                              {"source", "target"}, v2);
  out["Container"] = object({{"image", text1}, {"volume_mounts", json::object{{"type", "array"}, {"items", ref("VolumeMount")}}}},
                            {"image"}, v2);
  out["ResourceSpec"] = object({{"node_count", nullable(integer1)}, {"process_count", nullable(integer1)},
                                {"processes_per_node", nullable(integer1)}, {"cpu_cores_per_process", nullable(integer1)},
                                {"gpu_cores_per_process", nullable(integer1)},
                                {"exclusive_node_use", json::object{{"type", "boolean"}}}, {"memory", nullable(integer1)}},
                               {}, v2);
  out["JobAttributes"] = object({{"duration", nullable(integer1)}, {"queue_name", nullable(text1)},
                                 {"account", nullable(text1)}, {"reservation_id", nullable(text1)},
                                 {"custom_attributes", string_map}},
                                {}, v2);
  {
    json::object spec = object({{"executable", nullable(text1)}, {"container", nullable(ref("Container"))},
                                {"arguments", strings()}, {"directory", nullable(text1)}, {"name", nullable(text1)},
                                {"inherit_environment", json::object{{"type", "boolean"}}}, {"environment", string_map},
                                {"stdin_path", nullable(text1)}, {"stdout_path", nullable(text1)},
                                {"stderr_path", nullable(text1)}, {"resources", nullable(ref("ResourceSpec"))},
                                {"attributes", nullable(ref("JobAttributes"))}, {"pre_launch", nullable(text1)},
                                {"post_launch", nullable(text1)}, {"launcher", nullable(text1)}},
                               {}, false);
    spec["additionalProperties"] = false;
    out["JobSpec"] = std::move(spec);
  }
  out["JobStatus"] = object({{"state", ref("JobState")}, {"time", nullable(number)}, {"message", nullable(str())},
                             {"exit_code", nullable(json::object{{"type", "integer"}})},
                             {"meta_data", nullable(json::object{{"type", "object"}, {"additionalProperties", true}})}},
                            {"state"}, v2);
  out["Job"] = object({{"id", str()}, {"status", nullable(ref("JobStatus"))}, {"job_spec", nullable(ref("JobSpec"))}},
                      {"id"}, v2);
  // Projects, allocations and storage (project_routes.cpp, storage_routes.cpp).
  out["Project"] = object({{"id", str()}, {"name", str()}, {"description", str()}, {"user_ids", strings()},
                           {"last_modified", date_time()}, {"self_uri", ro(str())}},
                          {"id", "name", "description", "user_ids", "last_modified", "self_uri"}, v2);
  out["AllocationEntry"] = object({{"allocation", number}, {"usage", number}, {"unit", unit}},
                                  {"allocation", "usage", "unit"}, v2);
  json::object entries = {{"type", "array"}, {"items", ref("AllocationEntry")}};
  out["ProjectAllocation"] = object({{"id", str()}, {"entries", entries}, {"project_uri", ro(str())},
                                     {"capability_uri", ro(str())}, {"resource_uri", ro(str())}, {"self_uri", ro(str())}},
                                    {"id", "entries", "project_uri", "capability_uri"}, v2);
  out["UserAllocation"] = object({{"id", str()}, {"user_id", str()}, {"entries", entries},
                                  {"project_allocation_uri", ro(str())}, {"self_uri", ro(str())}},
                                 {"id", "user_id", "entries", "project_allocation_uri"}, v2);
  json::object boolean = {{"type", "boolean"}};
  out["AccessPermissions"] = object({{"read", boolean}, {"write", boolean}, {"execute", boolean}},
                                    {"read", "write", "execute"}, false);
  out["StorageInstance"] = object(
      {{"logical_name", enumeration({"home", "scratch", "project", "campaign", "archive", "shared", "temporary"})},
       {"path", str()}, {"filesystem", nullable(str())}, {"performance_tier", nullable(str())},
       {"purge_policy_days", nullable(json::object{{"type", "integer"}})}, {"shared", boolean},
       {"access", ref("AccessPermissions")}},
      {"logical_name", "path", "access"}, false);
  out["AccessEndpoint"] = object(
      {{"id", str()}, {"resource_id", str()}, {"protocol", enumeration({"globus", "xrootd", "s3"})},
       {"display_name", nullable(str())}, {"auth_type", str()},
       {"capabilities", json::object{{"type", "array"}, {"items", enumeration({"list", "read", "write", "transfer", "streaming"})}}},
       {"bucket", nullable(str())}, {"region", nullable(str())}, {"endpoint_url", nullable(str())}},
      {"id", "resource_id", "protocol", "auth_type", "capabilities"}, false);
  out["InvalidParam"] = object({{"name", str()}, {"reason", str()}}, {"name", "reason"}, false);
  out["Problem"] = object({{"type", json::object{{"type", "string"}, {"format", "uri"}}},
                           {"title", nullable(str())}, {"status", json::object{{"type", "integer"}}},
                           {"detail", nullable(str())}, {"instance", str()},
                           {"invalid_params", json::object{{"type", "array"}, {"items", ref("InvalidParam")}}}},
                          {"type", "status", "instance"}, false);
  add_task_schemas(out, version);
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
    case ParamKind::boolean: s = {{"type", "boolean"}, {"default", p.default_value.value_or(0) != 0}}; break;
  }
  if (p.list) return {{"type", "array"}, {"items", std::move(s)}, {"minItems", 1}};
  return s;
}

json::object problem_response(const char* description) {
  return {{"description", description},
          {"content", json::object{{"application/problem+json", json::object{{"schema", ref("Problem")}}}}}};
}

json::object operation(const Api::Entry& e, const json::object& schemas) {
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
    json::object schema = name == "job_id" ? str() : json::object{{"type", "string"}, {"format", "uuid"}};
    params.push_back(json::object{{"name", name}, {"in", "path"}, {"required", true}, {"schema", std::move(schema)}});
    pos = end;
  }
  for (const auto& p : r.params)
    params.push_back(json::object{{"name", p.name}, {"in", "query"}, {"required", false},
                                  {"description", p.description}, {"schema", param_schema(p)}});
  if (r.operation_id == "launchJob" || r.operation_id == "updateJob")
    params.push_back(json::object{{"name", "Idempotency-Key"}, {"in", "header"}, {"required", false},
                                  {"description", "Makes a retry of the same request return the first reply."},
                                  {"schema", json::object{{"type", "string"}, {"maxLength", 255}}}});
  if (!params.empty()) op["parameters"] = std::move(params);
  if (!r.request_schema.empty() && schemas.contains(r.request_schema))  // documented bodies only
    op["requestBody"] = json::object{
        {"required", true},
        {"content", json::object{{r.request_content_type, json::object{{"schema", ref(r.request_schema)}}}}}};
  json::object responses;
  if (r.response_schema.empty() && e.verb == Verb::delete_) {
    responses["204"] = json::object{{"description", "Done"}};
  } else {
    json::object body = r.list ? json::object{{"type", "array"}, {"items", ref(r.response_schema)}} : ref(r.response_schema);
    responses[std::to_string(r.success_status)] = json::object{{"description", "Success"},
                                    {"headers", json::object{{"Last-Modified", json::object{{"schema", str()}}}}},
                                    {"content", json::object{{"application/json", json::object{{"schema", body}}}}}};
  }
  if (e.verb == Verb::get) responses["304"] = json::object{{"description", "Not modified since the time given"}};
  responses["400"] = problem_response("Invalid parameters");
  responses["401"] = problem_response("A token was sent and is not valid");
  responses["404"] = problem_response("No such object");
  responses["405"] = problem_response("Method not allowed");
  responses["500"] = problem_response("Internal error");
  if ((r.tag == "filesystem" || r.tag == "task") && r.token) {
    responses["403"] = problem_response("The cluster's access rule refuses the caller");
    responses["413"] = problem_response("The body is larger than allowed");
    responses["501"] = problem_response("Tasks are not served by this instance");
    responses["503"] = problem_response("The cluster is unavailable");
  }
  if (r.tag == "compute" && r.token) {
    responses["403"] = problem_response("The cluster's access rule or the scheduler refuses the caller");
    responses["409"] = problem_response("The job is not pending, or the request of this Idempotency-Key is still running");
    responses["422"] = problem_response("The Idempotency-Key was used for another request");
    responses["501"] = problem_response("What was asked cannot be done on this cluster");
    responses["503"] = problem_response("The cluster or its scheduler is unavailable");
  }
  op["responses"] = std::move(responses);
  if (r.token) op["security"] = json::array{json::object{{"HTTPBearer", json::array{}}}};
  return op;
}

}  // namespace

json::object Api::openapi(Version version, const std::string& server) const {
  const bool v2 = version == Version::v2;
  json::object paths;
  const json::object components = schemas(version);
  const std::string prefix = v2 ? "/api/v2" : "/api/v1";
  for (const auto& e : entries_) {
    if (e.route.operation_id.empty() || !(static_cast<int>(e.versions) & static_cast<int>(version))) continue;
    auto path = prefix + e.pattern;
    auto& item = paths[path];
    if (!item.is_object()) item = json::object{};
    std::string verb(http::bhttp::to_string(e.verb));
    std::transform(verb.begin(), verb.end(), verb.begin(), ::tolower);
    item.as_object()[verb] = operation(e, components);
  }
  json::object doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = json::object{{"title", "Portico: " + config_.facility.name + " (IRI Facility API)"},
                             {"version", v2 ? "2.0.0" : "1.0.0"},
                             {"description", "The IRI Facility API operations this gateway serves."}};
  if (!server.empty()) doc["servers"] = json::array{json::object{{"url", server}}};
  doc["paths"] = std::move(paths);
  doc["components"] = json::object{
      {"schemas", components},
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
