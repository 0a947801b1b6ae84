// The public operations outside facility and status: capabilities (what can be allocated on
// each resource), and the resources that accept compute and filesystem calls.
#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"

namespace portico::api::iri {

using facility::Capability;
using facility::Resource;
using http::Verb;

void add_account_routes(Api& api) {
  Api* self = &api;
  api.add(Versions::both, Verb::get, "/account/capabilities",
          {"getCapabilities",
           "account",
           "What can be allocated on the facility's resources",
           {{"name", ParamKind::text, "Only the capability of this name."}, modified_since_param(), offset_param(1000),
            limit_param()},
           "Capability",
           true,
           false,
           false,
           "",
           [self](Call& c) {
             const auto& m = self->model();
             const auto* name = c.query.get("name");
             std::vector<const Capability*> matched;
             for (const auto& cap : m.capabilities)
               if (!name || cap.name == *name) matched.push_back(&cap);
             return list_reply(
                 c, matched, m.last_modified, [&](const Capability&) { return m.last_modified; },
                 [&](const Capability& cap) { return to_json(m, cap, c.links); });
           }});

  api.add(Versions::both, Verb::get, "/account/capabilities/{capability_id}",
          {"getCapability", "account", "One capability", {modified_since_param()}, "Capability", false, false, false, "",
           [self](Call& c) {
             const auto& m = self->model();
             auto id = path_param(c, "capability_id");
             const auto* cap = m.capability(id);
             if (!cap) throw not_found("capability", id);
             return Reply{to_json(m, *cap, c.links), m.last_modified};
           }});

  // The resources named in supported_endpoints; not paginated (the documents give no parameters).
  auto endpoint_resources = [self](bool compute) {
    return [self, compute](Call& c) {
      const auto& m = self->model();
      auto status = self->book().snapshot();
      boost::json::array out;
      core::Millis newest = m.last_modified;
      for (const auto& r : m.resources) {
        if (!(compute ? r.compute_endpoint : r.filesystem_endpoint)) continue;
        newest = std::max(newest, resource_last_modified(m, *status, r));
        out.push_back(to_json(m, *status, r, c.links));
      }
      return Reply{std::move(out), newest};
    };
  };
  api.add(Versions::both, Verb::get, "/compute/resources",
          {"getComputeResources", "compute", "The resources that run jobs", {}, "Resource", true, false, false, "",
           endpoint_resources(true)});
  // v2 asks for them with POST.
  api.add(Versions::v1, Verb::get, "/filesystem/resources",
          {"getFilesystemResources", "filesystem", "The resources whose files can be reached", {}, "Resource", true,
           false, false, "", endpoint_resources(false)});
  api.add(Versions::v2, Verb::post, "/filesystem/resources",
          {"getFilesystemResources", "filesystem", "The resources whose files can be reached", {}, "Resource", true,
           false, false, "", endpoint_resources(false)});
}

}  // namespace portico::api::iri
