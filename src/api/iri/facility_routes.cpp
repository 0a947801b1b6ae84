// GET /facility, /facility/sites[/{site_id}]: the facility from configuration.
#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"

namespace portico::api::iri {

using http::Verb;

bool contains_nocase(std::string_view text, std::string_view part) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  if (part.empty()) return true;
  for (std::size_t i = 0; i + part.size() <= text.size(); ++i) {
    std::size_t k = 0;
    while (k < part.size() && lower(text[i + k]) == lower(part[k])) ++k;
    if (k == part.size()) return true;
  }
  return false;
}

Window window_of(const Call& c) {
  Window w{c.query.time("from"), c.query.time("to"), c.query.time("time")};
  if (w.from && w.to && *w.from > *w.to) throw core::validation_error("query", "from", "must not be after to");
  return w;
}

void add_facility_routes(Api& api) {
  Api* self = &api;
  api.add(Versions::both, Verb::get, "/facility",
          {"getFacility", "facility", "The facility", {modified_since_param()}, "Facility", false, false, false, "",
           [self](Call& c) {
             const auto& m = self->model();
             return Reply{to_json(m, m.facility, c.links), m.last_modified};
           }});

  api.add(Versions::both, Verb::get, "/facility/sites",
          {"getSites",
           "facility",
           "The facility's sites",
           {modified_since_param(), {"name", ParamKind::text, "Only the site of this name."}, offset_param(),
            limit_param(), {"short_name", ParamKind::text, "Only the site of this short name."}},
           "Site",
           true,
           false,
           false,
           "",
           [self](Call& c) {
             const auto& m = self->model();
             const auto* name = c.query.get("name");
             const auto* short_name = c.query.get("short_name");
             std::vector<const facility::Site*> matched;
             for (const auto& s : m.sites)
               if ((!name || s.name == *name) && (!short_name || s.short_name == *short_name)) matched.push_back(&s);
             return list_reply(
                 c, matched, m.last_modified, [&](const facility::Site&) { return m.last_modified; },
                 [&](const facility::Site& s) { return to_json(m, s, c.links); });
           }});

  api.add(Versions::both, Verb::get, "/facility/sites/{site_id}",
          {"getSite", "facility", "One site", {modified_since_param()}, "Site", false, false, false, "",
           [self](Call& c) {
             const auto& m = self->model();
             auto id = path_param(c, "site_id");
             const auto* s = m.site(id);
             if (!s) throw not_found("site", id);
             return Reply{to_json(m, *s, c.links), m.last_modified};
           }});
}

}  // namespace portico::api::iri
