// The v2 storage operations: getStorageLocations (the caller's logical locations on a cluster's
// file systems, resolved as the caller on the cluster: home from their passwd entry, their own
// scratch directory, with the access they have) and getStorageAccessEndpoints (the S3 staging
// service, at its public endpoint). A resource is a cluster's compute (all its file systems)
// or one of its file systems; the S3 resource has no locations, only its endpoint.
#include <boost/json.hpp>

#include <algorithm>

#include "api/iri/account_models.hpp"
#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"
#include "cluster/storage.hpp"
#include "facility/uuid.hpp"

namespace portico::api::iri {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorKind;
using core::Failure;
using http::Verb;

namespace {

Param choice_param(std::string name, std::string description, std::vector<std::string> choices) {
  Param p{std::move(name), ParamKind::choice, std::move(description)};
  p.choices = std::move(choices);
  return p;
}

// Whether a location of logical name `name` serves `intent` (the document's semantics).
bool serves_intent(const std::string& name, const StorageLocationView& l, const std::string& intent) {
  if (intent == "staging") return name != "archive";
  if (intent == "long-term-storage") return name == "archive";
  if (intent == "write") return l.write;
  return true;
}

asio::awaitable<Reply> locations(Api& api, Call& c) {
  const auto& model = api.model();
  auto id = path_param(c, "resource_id");
  const auto* r = model.resource(id);
  cluster::Cluster* cl = nullptr;
  const bool fits = r && (r->source == facility::Source::cluster || r->source == facility::Source::filesystem);
  if (fits && api.clusters()) cl = api.clusters()->find(r->cluster);
  if (!cl) throw not_found("compute or file system resource", id);
  const std::string user = c.identity->username;
  co_await cl->authorize(user, c.identity->scopes, &c.ctx.backend_calls);
  auto runner = cl->runner(user, &c.ctx.backend_calls);
  // A project-scoped query names one of the caller's projects (by id or name).
  auto accounts = co_await cl->accounts(user, runner);
  std::vector<std::string> names;
  for (const auto& a : accounts) names.push_back(a.name);
  const auto* project = c.query.get("project");
  if (!project) project = c.query.get("allocation");
  if (project) {
    auto it = std::find_if(names.begin(), names.end(), [&](const std::string& n) {
      return n == *project || facility::name_uuid(model.facility.name + "/project/" + n) == *project;
    });
    if (it == names.end()) throw not_found("project", project->substr(0, 64));
    names = {*it};
  }
  auto probe = co_await cluster::probe_storage(runner, cl->config(), user, names);
  auto found = cluster::storage_locations(cl->config(), user, names, probe);
  const auto* logical = c.query.get("logicalpath");
  const auto* intent = c.query.get("intent");
  json::array out;
  for (const auto& l : found) {
    if (r->source == facility::Source::filesystem && l.filesystem != r->path) continue;
    if (logical && l.logical_name != *logical) continue;
    StorageLocationView v{l.logical_name, l.path, l.filesystem, l.shared, l.read, l.write, l.execute};
    if (intent && !serves_intent(l.logical_name, v, *intent)) continue;
    out.push_back(to_json(v));
  }
  co_return Reply{std::move(out)};
}

Reply access_endpoints(Api& api, Call& c) {
  const auto& model = api.model();
  auto id = path_param(c, "resource_id");
  const auto* r = model.resource(id);
  if (!r) throw not_found("resource", id);
  json::array out;
  const auto* s3 = model.resource_named(config::kS3ResourceName);
  const auto& s3_config = api.config().s3;
  // The staging area serves itself and the file systems whose large transfers go through it.
  const bool staged = r->source == facility::Source::s3 || r->source == facility::Source::filesystem;
  const auto* protocol = c.query.get("protocol");
  const auto* endpoint_id = c.query.get("endpoint_id");
  if (s3 && s3_config && staged && (!protocol || *protocol == "s3")) {
    AccessEndpointView e;
    e.id = facility::name_uuid(model.facility.name + "/access_endpoint/s3");
    e.resource_id = s3->id;
    e.display_name = "S3 staging area (" + s3_config->bucket + ")";
    e.bucket = s3_config->bucket;
    e.region = s3_config->region;
    e.endpoint_url = s3_config->public_endpoint.empty() ? s3_config->endpoint : s3_config->public_endpoint;
    if (!endpoint_id || *endpoint_id == e.id) out.push_back(to_json(e));
  }
  return Reply{std::move(out)};
}

}  // namespace

void add_storage_routes(Api& api) {
  Api* self = &api;
  Route locations_route{"getStorageLocations",
                        "storage",
                        "The caller's storage locations on a resource",
                        {choice_param("logicalpath", "Only locations of this logical name.",
                                      {"home", "scratch", "project", "campaign", "archive", "shared", "temporary"}),
                         Param{"project", ParamKind::text, "Only the locations of this project (id or name)."},
                         Param{"allocation", ParamKind::text, "As project."},
                         choice_param("intent", "What the locations are for.",
                                      {"read", "write", "staging", "long-term-storage"})},
                        "StorageInstance",
                        true,
                        true,
                        false,
                        "",
                        nullptr};
  locations_route.async_handler = [self](Call& c) { return locations(*self, c); };
  api.add(Versions::v2, Verb::get, "/storage/locations/{resource_id}", std::move(locations_route));
  api.add(Versions::v2, Verb::get, "/storage/access-endpoints/{resource_id}",
          {"getStorageAccessEndpoints",
           "storage",
           "How the caller's data on a resource can be reached",
           {choice_param("protocol", "Only endpoints of this protocol.", {"globus", "xrootd", "s3"}),
            Param{"endpoint_id", ParamKind::text, "Only the endpoint of this id."}},
           "AccessEndpoint",
           true,
           true,
           false,
           "",
           [self](Call& c) { return access_endpoints(*self, c); }});
}

}  // namespace portico::api::iri
