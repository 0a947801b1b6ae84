// GET /status/resources, /status/incidents, /status/events (and each by id): the resources with
// their live status, and the incidents and events of the status book.
#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"

namespace portico::api::iri {

using facility::Event;
using facility::Incident;
using facility::Resource;
using http::Verb;

namespace {

std::vector<std::string> names_of(std::initializer_list<const char*> items) { return {items.begin(), items.end()}; }

Param choice(std::string name, std::vector<std::string> choices, std::string description) {
  Param p{std::move(name), ParamKind::choice, std::move(description)};
  p.choices = std::move(choices);
  return p;
}

Param status_param(const char* description) {
  return choice("status", names_of({"up", "down", "degraded", "unknown"}), description);
}

Param urn(std::string name, std::string prefix, std::string description, bool list = false) {
  Param p{std::move(name), ParamKind::urn, std::move(description)};
  p.urn_prefix = std::move(prefix);
  p.list = list;
  return p;
}

std::vector<Param> resource_params(Version v) {
  std::vector<Param> p = {{"name", ParamKind::text, "Only the resource of this name."},
                          {"description", ParamKind::text, "Only resources whose description contains this."},
                          {"group", ParamKind::text, "Only resources of this group."},
                          offset_param(),
                          limit_param(),
                          modified_since_param()};
  if (v == Version::v1) {
    p.push_back(choice("resource_type", names_of({"website", "service", "compute", "system", "storage", "network", "unknown"}),
                       "Only resources of this type."));
  } else {
    p.push_back(urn("resource_type", "urn:doe-iri:", "Only resources whose type URN starts with this."));
  }
  auto current = choice("current_status", names_of({"up", "down", "degraded", "unknown"}), "Only resources in this status.");
  p.push_back(current);
  if (v == Version::v1) {
    auto cap = choice("capability", names_of({"node_hours", "bytes", "inodes"}),
                      "Only resources with a capability in one of these units (repeatable).");
    cap.list = true;
    p.push_back(cap);
  } else {
    p.push_back(urn("capability", "urn:doe-iri:allocation:",
                    "Only resources with a capability in one of these allocation units (repeatable).", true));
  }
  return p;
}

std::vector<Param> window_params() {
  return {{"from", ParamKind::date_time, "Only what lasted until this time or later."},
          {"time", ParamKind::date_time, "Only what was under way at this time."},
          {"to", ParamKind::date_time, "Only what began at this time or earlier."}};
}

}  // namespace

void add_status_routes(Api& api) {
  Api* self = &api;
  auto resources = [self](Call& c) {
    const auto& m = self->model();
    auto status = self->book().snapshot();
    const auto* name = c.query.get("name");
    const auto* description = c.query.get("description");
    const auto* group = c.query.get("group");
    const auto* type = c.query.get("resource_type");
    const auto* current = c.query.get("current_status");
    auto units = c.query.all("capability");
    std::vector<const Resource*> matched;
    for (const auto& r : m.resources) {
      if (name && r.name != *name) continue;
      if (description && !contains_nocase(r.description, *description)) continue;
      if (group && r.group != *group) continue;
      if (type && (c.version == Version::v1 ? resource_type_text(r.type, c.version) != *type
                                            : !resource_type_text(r.type, c.version).starts_with(*type)))
        continue;
      if (current && facility::to_string(status->current_status(r.id)) != *current) continue;
      if (!units.empty()) {
        bool any = false;
        for (const auto& id : r.capability_ids)
          if (const auto* cap = m.capability(id))
            for (auto u : cap->units)
              if (std::count(units.begin(), units.end(), unit_text(u, c.version))) any = true;
        if (!any) continue;
      }
      matched.push_back(&r);
    }
    return list_reply(
        c, matched, m.last_modified, [&](const Resource& r) { return resource_last_modified(m, *status, r); },
        [&](const Resource& r) { return to_json(m, *status, r, c.links); });
  };
  for (auto v : {Version::v1, Version::v2})
    api.add(v == Version::v1 ? Versions::v1 : Versions::v2, Verb::get, "/status/resources",
            {"getResources", "status", "The facility's resources and their current status", resource_params(v),
             "Resource", true, false, false, "", resources});

  api.add(Versions::both, Verb::get, "/status/resources/{resource_id}",
          {"getResource", "status", "One resource", {}, "Resource", false, false, false, "", [self](Call& c) {
             const auto& m = self->model();
             auto id = path_param(c, "resource_id");
             const auto* r = m.resource(id);
             if (!r) throw not_found("resource", id);
             auto status = self->book().snapshot();
             return Reply{to_json(m, *status, *r, c.links), resource_last_modified(m, *status, *r)};
           }});

  std::vector<Param> incident_params = {{"name", ParamKind::text, "Only incidents of this name."},
                                        {"description", ParamKind::text, "Only incidents whose description contains this."},
                                        status_param("Only incidents in this status."),
                                        choice("type", names_of({"planned", "unplanned", "reservation"}), "Only incidents of this type.")};
  for (auto& p : window_params()) incident_params.push_back(p);
  incident_params.push_back(modified_since_param());
  incident_params.push_back({"resource_id", ParamKind::uuid, "Only incidents affecting this resource."});
  incident_params.push_back(offset_param());
  incident_params.push_back(limit_param());
  incident_params.push_back(choice("resolution", names_of({"unresolved", "cancelled", "completed", "extended", "pending"}),
                                   "Only incidents with this resolution."));
  api.add(Versions::both, Verb::get, "/status/incidents",
          {"getIncidents", "status", "Incidents, planned and unplanned", incident_params, "Incident", true, false,
           false, "", [self](Call& c) {
             auto status = self->book().snapshot();
             auto w = window_of(c);
             const auto* name = c.query.get("name");
             const auto* description = c.query.get("description");
             const auto* state = c.query.get("status");
             const auto* type = c.query.get("type");
             const auto* resolution = c.query.get("resolution");
             const auto* resource = c.query.get("resource_id");
             std::vector<const Incident*> matched;
             for (const auto& i : status->incidents) {
               if (name && i.name != *name) continue;
               if (description && !contains_nocase(i.description, *description)) continue;
               if (state && facility::to_string(i.status) != *state) continue;
               if (type && facility::to_string(i.type) != *type) continue;
               if (resolution && facility::to_string(i.resolution) != *resolution) continue;
               if (resource && !std::count(i.resource_ids.begin(), i.resource_ids.end(), *resource)) continue;
               // Windows: the incident's [start, end] (no end: still going) meets the asked ones.
               if (w.from && i.end && *i.end < *w.from) continue;
               if (w.to && i.start > *w.to) continue;
               if (w.time && (i.start > *w.time || (i.end && *i.end < *w.time))) continue;
               matched.push_back(&i);
             }
             return list_reply(
                 c, matched, self->model().last_modified, [](const Incident& i) { return i.last_modified; },
                 [&](const Incident& i) { return to_json(i, c.links); });
           }});

  api.add(Versions::both, Verb::get, "/status/incidents/{incident_id}",
          {"getIncident", "status", "One incident", {}, "Incident", false, false, false, "", [self](Call& c) {
             auto status = self->book().snapshot();
             auto id = path_param(c, "incident_id");
             const auto* i = status->incident(id);
             if (!i) throw not_found("incident", id);
             return Reply{to_json(*i, c.links), i->last_modified};
           }});

  std::vector<Param> event_params = {{"incident_id", ParamKind::uuid, "Only the events of this incident."},
                                     {"resource_id", ParamKind::uuid, "Only the events of this resource."},
                                     {"name", ParamKind::text, "Only events of this name."},
                                     {"description", ParamKind::text, "Only events whose description contains this."},
                                     status_param("Only events that set this status.")};
  for (auto& p : window_params()) event_params.push_back(p);
  event_params.push_back(modified_since_param());
  event_params.push_back(offset_param());
  event_params.push_back(limit_param());
  api.add(Versions::both, Verb::get, "/status/events",
          {"getEventsByIncident", "status", "Events: each change of a resource's status", event_params, "Event", true,
           false, false, "", [self](Call& c) {
             auto status = self->book().snapshot();
             auto w = window_of(c);
             const auto* incident = c.query.get("incident_id");
             const auto* resource = c.query.get("resource_id");
             const auto* name = c.query.get("name");
             const auto* description = c.query.get("description");
             const auto* state = c.query.get("status");
             std::vector<const Event*> matched;
             for (const auto& e : status->events) {
               if (incident && e.incident_id != *incident) continue;
               if (resource && e.resource_id != *resource) continue;
               if (name && e.name != *name) continue;
               if (description && !contains_nocase(e.description, *description)) continue;
               if (state && facility::to_string(e.status) != *state) continue;
               if (w.from && e.occurred_at < *w.from) continue;
               if (w.to && e.occurred_at > *w.to) continue;
               // An event is instantaneous: `time` matches the second it occurred in.
               if (w.time && e.occurred_at / 1000 != *w.time / 1000) continue;
               matched.push_back(&e);
             }
             return list_reply(
                 c, matched, self->model().last_modified, [](const Event& e) { return e.last_modified; },
                 [&](const Event& e) { return to_json(e, c.links); });
           }});

  api.add(Versions::both, Verb::get, "/status/events/{event_id}",
          {"getEventByIncident", "status", "One event", {}, "Event", false, false, false, "", [self](Call& c) {
             auto status = self->book().snapshot();
             auto id = path_param(c, "event_id");
             const auto* e = status->event(id);
             if (!e) throw not_found("event", id);
             return Reply{to_json(*e, c.links), e->last_modified};
           }});
}

}  // namespace portico::api::iri
