#include "app/openapi_document.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace portico::app {

namespace json = boost::json;

namespace {

// v1 and v2 share component names with different content: v2's get a prefix in one document.
void prefix_refs(json::value& v, const std::string& prefix) {
  if (v.is_object()) {
    for (auto& [key, child] : v.as_object()) {
      if (key == "$ref" && child.is_string()) {
        std::string ref(child.as_string());
        const std::string schemas = "#/components/schemas/";
        if (ref.starts_with(schemas)) child = schemas + prefix + ref.substr(schemas.size());
      } else {
        prefix_refs(child, prefix);
      }
    }
  } else if (v.is_array()) {
    for (auto& child : v.as_array()) prefix_refs(child, prefix);
  }
}

}  // namespace

json::object openapi_document(const api::iri::Api& iri, const api::firecrest::Api& firecrest,
                              const std::string& api_root, const std::string& server) {
  auto doc = iri.openapi(api::iri::Version::v1, "");
  json::value v2 = iri.openapi(api::iri::Version::v2, "");
  prefix_refs(v2, "v2_");
  auto& paths = doc["paths"].as_object();
  for (auto& [path, item] : v2.as_object()["paths"].as_object()) paths[path] = item;
  auto& schemas = doc["components"].as_object()["schemas"].as_object();
  for (auto& [name, schema] : v2.as_object()["components"].as_object()["schemas"].as_object())
    schemas["v2_" + std::string(name)] = schema;

  std::string root = api_root;
  while (!root.empty() && root.back() == '/') root.pop_back();
  for (const auto& route : firecrest.router().routes()) {
    json::array params;
    for (const auto& segment : route.segments)
      if (segment.size() > 2 && segment.front() == '{') {
        auto name = segment.substr(1, segment.size() - 2);
        if (name.ends_with("...")) name.resize(name.size() - 3);
        params.push_back(json::object{{"name", name}, {"in", "path"}, {"required", true},
                                      {"schema", json::object{{"type", "string"}}}});
      }
    std::string path = root;
    for (const auto& segment : route.segments) {
      auto s = segment;
      if (s.ends_with("...}")) s = s.substr(0, s.size() - 4) + "}";
      path += "/" + s;
    }
    if (route.segments.empty()) path += "/";
    json::object op{{"tags", json::array{"firecrest"}},
                    {"responses", json::object{{"default", json::object{{"description", "A FirecREST v2 reply"}}}}}};
    if (!params.empty()) op["parameters"] = std::move(params);
    if (route.handler.authenticated) op["security"] = json::array{json::object{{"HTTPBearer", json::array{}}}};
    std::string verb(http::bhttp::to_string(route.verb));
    std::transform(verb.begin(), verb.end(), verb.begin(), ::tolower);
    auto& item = paths[path];
    if (!item.is_object()) item = json::object{};
    item.as_object()[verb] = std::move(op);
  }
  doc["info"].as_object()["title"] = "Portico: the IRI Facility API (v1, v2) and the FirecREST v2 API";
  if (!server.empty()) doc["servers"] = json::array{json::object{{"url", server}}};
  return doc;
}

}  // namespace portico::app
